//! Helpers shared by the server tests: a server serving from a background
//! thread that is always shut down, and a line client with read timeouts.

#![allow(dead_code)] // each test file uses a part

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::server::{
    DatagramHandler, Model, ServerConfig, Service, ShutdownHandle, TcpServer, UdpServer,
    UnixDatagramServer, UnixStreamServer,
};
use threadkit::socket::UnixAddr;
use threadkit::threading::Thread;

/// The three server models, for tests that hold in every one.
pub const MODELS: [Model; 3] = [
    Model::ThreadPerConnection,
    Model::Synchronous,
    Model::Scalable,
];

/// Every blocking client call gives up after this, so a hang fails the test.
pub const GUARD: Duration = Duration::from_secs(10);

/// What [`Running`] needs of a server: every server type has it.
pub trait Served: Send + Sync + 'static {
    type Addr;
    fn serve_forever(&self) -> io::Result<()>;
    fn shutdown_handle(&self) -> ShutdownHandle;
    fn server_close(&self);
    fn local_addr(&self) -> Self::Addr;
}

macro_rules! served {
    ($($server:ty => $addr:ty),*) => {$(
        impl Served for $server {
            type Addr = $addr;
            fn serve_forever(&self) -> io::Result<()> {
                <$server>::serve_forever(self)
            }
            fn shutdown_handle(&self) -> ShutdownHandle {
                <$server>::shutdown_handle(self)
            }
            fn server_close(&self) {
                <$server>::server_close(self)
            }
            fn local_addr(&self) -> $addr {
                <$server>::local_addr(self)
            }
        }
    )*};
}

served!(
    TcpServer => SocketAddr,
    UdpServer => SocketAddr,
    UnixStreamServer => UnixAddr,
    UnixDatagramServer => UnixAddr
);

/// A server serving on a background thread; shut down (by its own handle) and
/// closed when stopped or dropped.
pub struct Running<S: Served = TcpServer> {
    pub server: Arc<S>,
    pub handle: ShutdownHandle,
    done: Option<mpsc::Receiver<io::Result<()>>>,
}

/// A UDP server serving on a background thread, always shut down.
pub type RunningUdp = Running<UdpServer>;

impl Running<TcpServer> {
    pub fn start(config: ServerConfig, service: impl Into<Service>) -> Running {
        let server = Arc::new(TcpServer::bind("127.0.0.1:0", config, service).expect("bind"));
        Running::serve(server)
    }
}

impl Running<UdpServer> {
    pub fn start_udp(config: ServerConfig, handler: impl DatagramHandler) -> RunningUdp {
        let server = Arc::new(UdpServer::bind("127.0.0.1:0", config, handler).expect("bind"));
        Running::serve(server)
    }
}

impl<S: Served> Running<S> {
    /// Serves an already bound server.
    pub fn serve(server: Arc<S>) -> Running<S> {
        let handle = server.shutdown_handle();
        let (tx, rx) = mpsc::channel();
        let s = Arc::clone(&server);
        Thread::builder()
            .name("test serve_forever")
            .daemon(true)
            .target(move || {
                let _ = tx.send(s.serve_forever());
            })
            .spawn()
            .expect("spawn serving thread");
        Running {
            server,
            handle,
            done: Some(rx),
        }
    }

    pub fn addr(&self) -> S::Addr {
        self.server.local_addr()
    }

    /// Shuts down, waits (bounded) for `serve_forever` to return, closes.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.handle.shutdown();
        if let Some(rx) = self.done.take() {
            let result = rx
                .recv_timeout(GUARD)
                .expect("serve_forever returns after shutdown");
            result.expect("serve_forever returns Ok");
            self.server.server_close();
        }
    }
}

impl<S: Served> Drop for Running<S> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.handle.shutdown();
        } else {
            self.finish();
        }
    }
}

/// What a [`Client`] needs of its stream: `TcpStream` and `UnixStream` have it.
pub trait Stream: Read + Write + Sized {
    fn clone_stream(&self) -> Self;
    fn set_timeouts(&self, limit: Duration);
    fn shut(&self, how: Shutdown);
    /// Lines go out at once (TCP_NODELAY; nothing to do over a Unix socket).
    fn no_delay(&self) {}
}

macro_rules! stream {
    ($($stream:ty $(: $nodelay:ident)?),*) => {$(
        impl Stream for $stream {
            $(fn no_delay(&self) { self.$nodelay(true).unwrap(); })?
            fn clone_stream(&self) -> Self {
                self.try_clone().unwrap()
            }
            fn set_timeouts(&self, limit: Duration) {
                self.set_read_timeout(Some(limit)).unwrap();
                self.set_write_timeout(Some(limit)).unwrap();
            }
            fn shut(&self, how: Shutdown) {
                self.shutdown(how).unwrap();
            }
        }
    )*};
}

stream!(TcpStream: set_nodelay, UnixStream);

/// A line client over `TcpStream` (or a `UnixStream`), with read and write
/// timeouts.
pub struct Client<S: Stream = TcpStream> {
    pub stream: S,
    reader: BufReader<S>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }
}

impl Client<UnixStream> {
    /// A client of the Unix server at `addr` (a path or an abstract name).
    pub fn connect_unix(addr: &UnixAddr) -> Client<UnixStream> {
        Client::from_stream(UnixStream::connect_addr(addr).expect("connect"))
    }
}

impl<S: Stream> Client<S> {
    pub fn from_stream(stream: S) -> Client<S> {
        stream.set_timeouts(GUARD);
        stream.no_delay();
        let reader = BufReader::new(stream.clone_stream());
        Client { stream, reader }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, data: impl AsRef<[u8]>) {
        self.stream.write_all(data.as_ref()).expect("send");
    }

    /// Sends `text` plus `\n`.
    pub fn line(&mut self, text: &str) {
        self.send(format!("{text}\n"));
    }

    /// The next line, without `\n`; panics at end of input or timeout.
    pub fn recv(&mut self) -> String {
        let mut buf = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut buf)
            .expect("read a line");
        assert!(n > 0, "unexpected end of input");
        assert_eq!(buf.pop(), Some(b'\n'), "unterminated line {buf:?}");
        String::from_utf8(buf).expect("server lines are UTF-8")
    }

    /// Reads until `want` arrives; the lines before it.
    pub fn recv_until(&mut self, want: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let line = self.recv();
            if line == want {
                return before;
            }
            before.push(line);
        }
    }

    /// Reads until a line starting with `prefix`; that line.
    pub fn recv_until_prefix(&mut self, prefix: &str) -> String {
        loop {
            let line = self.recv();
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Asserts the server closed: end of input (or a reset) with nothing more.
    pub fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "more data: {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ),
                "{e}"
            ),
        }
    }

    pub fn half_close(&self) {
        self.stream.shut(Shutdown::Write);
    }
}

/// Polls `cond` every few milliseconds until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The names of the live threadkit threads.
pub fn thread_names() -> Vec<String> {
    threadkit::threading::enumerate()
        .iter()
        .map(Thread::name)
        .collect()
}

/// Reads `r` to the end (or a reset), returning what came.
pub fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return out,
        }
    }
}
