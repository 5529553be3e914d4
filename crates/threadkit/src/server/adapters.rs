//! Small adapters for Python's `StreamRequestHandler` and
//! `DatagramRequestHandler`: the same blocking handlers, written against a
//! buffered `rfile` / `wfile` instead of the raw socket.

use std::io::{self, Write};
use std::net::SocketAddr;

use super::datagram::{reply_unix, DatagramHandler};
use super::peer::NO_ADDRESS;
use super::service::{RequestHandler, Service};
use crate::socket::{Socket, SocketFile, UnixAddr};

/// Python's `socketserver.StreamRequestHandler`: a connection's handler that
/// reads from `rfile` (buffered: `readline()`, `lines()`) and writes to `wfile`
/// (each write goes out at once, as Python's default `wbufsize = 0`). Run it
/// with [`Service::stream_handler`]; it is a [`RequestHandler`] underneath, so
/// the thread-per-connection and synchronous models run it.
///
/// # Examples
///
/// ```
/// use std::io::{self, Write};
/// use std::net::SocketAddr;
/// use threadkit::server::{Service, StreamRequestHandler};
/// use threadkit::socket::SocketFile;
///
/// /// Python's upper-casing example of the socketserver docs.
/// struct Upper;
///
/// impl StreamRequestHandler for Upper {
///     fn handle(&mut self, rfile: &mut SocketFile, wfile: &mut SocketFile,
///               _peer: SocketAddr) -> io::Result<()> {
///         let line = rfile.readline()?;
///         wfile.write_all(&line.to_ascii_uppercase())
///     }
/// }
///
/// let service = Service::stream_handler(|| Upper);
/// # let _ = service;
/// ```
pub trait StreamRequestHandler: Send + 'static {
    /// Serves one connection from `peer`; an error or a panic ends it and is a
    /// [`ServerEvent::HandlerError`](super::ServerEvent::HandlerError).
    ///
    /// # Errors
    ///
    /// Whatever the handler's I/O fails with.
    fn handle(
        &mut self,
        rfile: &mut SocketFile,
        wfile: &mut SocketFile,
        peer: SocketAddr,
    ) -> io::Result<()>;
}

/// Runs a [`StreamRequestHandler`] as a [`RequestHandler`].
struct Streams<H>(H);

impl<H: StreamRequestHandler> RequestHandler for Streams<H> {
    fn handle(&mut self, conn: &Socket, peer: SocketAddr) -> io::Result<()> {
        let mut rfile = conn.makefile()?;
        let mut wfile = conn.makefile()?;
        self.0.handle(&mut rfile, &mut wfile, peer)?;
        wfile.flush()
    }
}

impl Service {
    /// A service of [`StreamRequestHandler`]s, one made by `factory` for each
    /// connection (Python's `TCPServer(addr, MyStreamRequestHandler)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{self, BufRead, BufReader, Write};
    /// use std::net::{SocketAddr, TcpStream};
    /// use threadkit::server::{ServerConfig, Service, TcpServer};
    /// use threadkit::socket::SocketFile;
    ///
    /// # fn main() -> io::Result<()> {
    /// let service = Service::stream_handler(|| {
    ///     |rfile: &mut SocketFile, wfile: &mut SocketFile, _: SocketAddr| -> io::Result<()> {
    ///         for line in rfile.lines() {
    ///             writeln!(wfile, "got {}", line?)?;
    ///         }
    ///         Ok(())
    ///     }
    /// });
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), service)?;
    /// let handle = server.shutdown_handle();
    /// std::thread::scope(|s| {
    ///     let serving = s.spawn(|| server.serve_forever());
    ///     let mut client = TcpStream::connect(server.local_addr())?;
    ///     client.write_all(b"hello\n")?;
    ///     let mut line = String::new();
    ///     BufReader::new(&client).read_line(&mut line)?;
    ///     assert_eq!(line, "got hello\n");
    ///     drop(client);
    ///     handle.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// server.server_close();
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream_handler<H, F>(factory: F) -> Service
    where
        H: StreamRequestHandler,
        F: Fn() -> H + Send + Sync + 'static,
    {
        Service::handler(move || Streams(factory()))
    }
}

impl<F> StreamRequestHandler for F
where
    F: FnMut(&mut SocketFile, &mut SocketFile, SocketAddr) -> io::Result<()> + Send + 'static,
{
    fn handle(
        &mut self,
        rfile: &mut SocketFile,
        wfile: &mut SocketFile,
        peer: SocketAddr,
    ) -> io::Result<()> {
        self(rfile, wfile, peer)
    }
}

/// Python's `socketserver.DatagramRequestHandler`: a datagram handler that
/// reads the datagram from `rfile` and writes its answer into `wfile`; what it
/// wrote is sent back to the sender as one datagram (nothing when it wrote
/// nothing). Run it on a [`UdpServer`](super::UdpServer) or a
/// [`UnixDatagramServer`](super::UnixDatagramServer) through
/// [`DatagramRequests`].
///
/// # Examples
///
/// ```
/// use std::io::{self, Read, Write};
/// use std::net::SocketAddr;
/// use threadkit::server::DatagramRequestHandler;
///
/// struct Upper;
///
/// impl DatagramRequestHandler for Upper {
///     fn handle(&self, rfile: &mut &[u8], wfile: &mut Vec<u8>, _peer: SocketAddr)
///         -> io::Result<()> {
///         let mut data = Vec::new();
///         rfile.read_to_end(&mut data)?;
///         wfile.write_all(&data.to_ascii_uppercase())
///     }
/// }
/// # let _ = Upper;
/// ```
pub trait DatagramRequestHandler: Send + Sync + 'static {
    /// Answers one datagram from `peer`.
    ///
    /// # Errors
    ///
    /// Whatever the handler fails with; the server logs it, sends nothing and
    /// goes on.
    fn handle(&self, rfile: &mut &[u8], wfile: &mut Vec<u8>, peer: SocketAddr) -> io::Result<()>;
}

/// Runs a [`DatagramRequestHandler`] as the [`DatagramHandler`] of a
/// [`UdpServer`](super::UdpServer).
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::{SocketAddr, UdpSocket};
/// use std::time::Duration;
/// use threadkit::server::{DatagramRequests, ServerConfig, UdpServer};
///
/// # fn main() -> io::Result<()> {
/// let reverse = |rfile: &mut &[u8], wfile: &mut Vec<u8>, _: SocketAddr| -> io::Result<()> {
///     wfile.extend(rfile.iter().rev());
///     Ok(())
/// };
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), DatagramRequests::new(reverse))?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| {
///     let serving = s.spawn(|| server.serve_forever());
///     let client = UdpSocket::bind("127.0.0.1:0")?;
///     client.set_read_timeout(Some(Duration::from_secs(5)))?;
///     client.send_to(b"abc", server.local_addr())?;
///     let mut buf = [0u8; 8];
///     let (n, _) = client.recv_from(&mut buf)?;
///     assert_eq!(&buf[..n], b"cba");
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// server.server_close();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DatagramRequests<H>(H);

impl<H: DatagramRequestHandler> DatagramRequests<H> {
    /// Wraps `handler`.
    #[must_use]
    pub fn new(handler: H) -> DatagramRequests<H> {
        DatagramRequests(handler)
    }
}

impl<H: DatagramRequestHandler> DatagramRequests<H> {
    /// What the handler writes for `data` from `peer`.
    fn answer(&self, data: &[u8], peer: SocketAddr) -> io::Result<Vec<u8>> {
        let mut rfile = data;
        let mut wfile = Vec::new();
        self.0.handle(&mut rfile, &mut wfile, peer)?;
        Ok(wfile)
    }
}

impl<H: DatagramRequestHandler> DatagramHandler for DatagramRequests<H> {
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
        let wfile = self.answer(data, peer)?;
        if !wfile.is_empty() {
            sock.sendto(&wfile, peer)?;
        }
        Ok(())
    }

    /// As `handle`, over a Unix socket: the handler sees `0.0.0.0:0` as the
    /// peer, and what it wrote goes back to the sender's path.
    fn handle_unix(&self, data: &[u8], peer: &UnixAddr, sock: &Socket) -> io::Result<()> {
        let wfile = self.answer(data, NO_ADDRESS)?;
        if !wfile.is_empty() {
            reply_unix(sock, &wfile, peer)?;
        }
        Ok(())
    }
}

impl<F> DatagramRequestHandler for F
where
    F: Fn(&mut &[u8], &mut Vec<u8>, SocketAddr) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, rfile: &mut &[u8], wfile: &mut Vec<u8>, peer: SocketAddr) -> io::Result<()> {
        self(rfile, wfile, peer)
    }
}
