//! [`DatagramHandler`] and [`UdpEcho`]: what a datagram server runs for each
//! datagram.

use std::ffi::OsString;
use std::io;
use std::net::SocketAddr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::server::peer::NO_ADDRESS;
use crate::socket::{Socket, UnixAddr};

/// Handles one datagram: Python's `BaseRequestHandler` for a UDP server, whose
/// `request` is `(data, socket)`.
///
/// One handler value serves every datagram, possibly from several threads at
/// once (the server's pool), hence `&self` and `Send + Sync`: keep state
/// behind a lock or in atomics. `sock` is the server's socket: answer with
/// [`Socket::sendto`]`(.., peer)`. Any `Fn(&[u8], SocketAddr, &Socket) ->
/// io::Result<()>` closure is a handler too.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::SocketAddr;
/// use threadkit::server::DatagramHandler;
/// use threadkit::socket::Socket;
///
/// /// Answers with the datagram reversed.
/// struct Reverse;
///
/// impl DatagramHandler for Reverse {
///     fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
///         let reply: Vec<u8> = data.iter().rev().copied().collect();
///         sock.sendto(&reply, peer)?;
///         Ok(())
///     }
/// }
/// # let _ = Reverse;
/// ```
pub trait DatagramHandler: Send + Sync + 'static {
    /// Handles `data`, a datagram from `peer` received on `sock`.
    ///
    /// # Errors
    ///
    /// Whatever the handler's I/O fails with; the server logs it and goes on.
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()>;

    /// Handles `data`, a datagram from `peer` received on the Unix socket
    /// `sock` of a [`UnixDatagramServer`](crate::server::UnixDatagramServer);
    /// answer with [`reply_unix`]. The default calls
    /// [`handle`](DatagramHandler::handle) with `0.0.0.0:0` as the peer
    /// (Python's `''`), so a handler that does not answer works unchanged.
    ///
    /// # Errors
    ///
    /// As [`handle`](DatagramHandler::handle).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use std::net::SocketAddr;
    /// use threadkit::server::{reply_unix, DatagramHandler};
    /// use threadkit::socket::{Socket, UnixAddr};
    ///
    /// /// Answers over UDP and over a Unix socket alike.
    /// struct Ack;
    ///
    /// impl DatagramHandler for Ack {
    ///     fn handle(&self, _: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
    ///         sock.sendto(b"ack", peer).map(drop)
    ///     }
    ///     fn handle_unix(&self, _: &[u8], peer: &UnixAddr, sock: &Socket) -> io::Result<()> {
    ///         reply_unix(sock, b"ack", peer).map(drop)
    ///     }
    /// }
    /// # let _ = Ack;
    /// ```
    fn handle_unix(&self, data: &[u8], peer: &UnixAddr, sock: &Socket) -> io::Result<()> {
        let _ = peer;
        self.handle(data, NO_ADDRESS, sock)
    }
}

/// Sends `data` to the Unix socket address `peer` from `sock` (the answer to
/// a datagram a [`UnixDatagramServer`](crate::server::UnixDatagramServer)
/// received): to its path, or to its Linux abstract name.
///
/// # Errors
///
/// `InvalidInput` when `peer` is unnamed (the client bound no address, so
/// nothing can reach it, as in Python), or what `sendto` fails with.
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixDatagram;
/// use threadkit::server::reply_unix;
/// use threadkit::socket::Socket;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = UnixDatagram::pair()?;
/// let from = UnixDatagram::unbound()?.local_addr()?; // unnamed
/// let err = reply_unix(&Socket::from(a), b"hi", &from).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// # drop(b);
/// # Ok(())
/// # }
/// ```
pub fn reply_unix(sock: &Socket, data: &[u8], peer: &UnixAddr) -> io::Result<usize> {
    let target: PathBuf = if let Some(path) = peer.as_pathname() {
        path.to_owned()
    } else if let Some(name) = peer.as_abstract_name() {
        OsString::from_vec([&[0], name].concat()).into()
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the client bound no address: there is nothing to answer to",
        ));
    };
    sock.sendto_unix(data, target)
}

impl<F> DatagramHandler for F
where
    F: Fn(&[u8], SocketAddr, &Socket) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
        self(data, peer, sock)
    }
}

/// Echoes each datagram to its sender, as is: what `threadkit udp-serve` runs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| -> std::io::Result<()> {
///     let serving = s.spawn(|| server.serve_forever());
///     let client = Socket::new(Family::Inet, Kind::Datagram)?;
///     client.settimeout(Some(Duration::from_secs(5)))?;
///     client.sendto(b"ping", server.local_addr())?;
///     assert_eq!(client.recvfrom(1024)?.0, b"ping");
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// server.server_close();
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpEcho;

impl DatagramHandler for UdpEcho {
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
        sock.sendto(data, peer)?;
        Ok(())
    }

    fn handle_unix(&self, data: &[u8], peer: &UnixAddr, sock: &Socket) -> io::Result<()> {
        reply_unix(sock, data, peer)?;
        Ok(())
    }
}
