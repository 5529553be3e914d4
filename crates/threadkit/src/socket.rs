//! Python's `socket` module: [`Socket`] with Python's calls and timeout rules, and
//! [`create_connection`], [`create_server`] and [`create_server_with`].
//!
//! | Python | threadkit |
//! |---|---|
//! | `socket.socket(AF_INET, SOCK_STREAM)` | [`Socket::new`]`(Family::Inet, Kind::Stream)` |
//! | `bind`, `listen`, `accept`, `connect` | [`Socket::bind`], [`Socket::listen`], [`Socket::accept`], [`Socket::connect`] |
//! | `send`, `sendall`, `recv`, `recv_into` | [`Socket::send`], [`Socket::sendall`], [`Socket::recv`], [`Socket::recv_into`] |
//! | `recvfrom`, `sendto` | [`Socket::recvfrom`], [`Socket::sendto`] |
//! | `settimeout`, `gettimeout`, `setblocking` | [`Socket::settimeout`], [`Socket::gettimeout`], [`Socket::setblocking`] |
//! | `getsockname`, `getpeername`, `shutdown`, `close` | [`Socket::getsockname`], [`Socket::getpeername`], [`Socket::shutdown`], [`Socket::close`] |
//! | `makefile('r')` | `BufReader::new(&sock)` ([`Read`] and [`Write`] on `&Socket`) |
//! | `create_connection`, `create_server` | [`create_connection`], [`create_server`], [`create_server_with`] |
//!
//! # Timeouts, as in Python
//!
//! A socket is in one of three modes, set by [`Socket::settimeout`]:
//!
//! - `None`, blocking (the default): calls wait as long as it takes;
//! - `Some(d)` with `d > 0`: a call that waits longer than `d` fails with
//!   [`io::ErrorKind::TimedOut`] (Python's `TimeoutError`). The timeout bounds each
//!   call (for [`Socket::sendall`], see there), and applies to `accept` and `connect`
//!   too;
//! - `Some(Duration::ZERO)`, non-blocking: a call that would wait fails at once
//!   with [`io::ErrorKind::WouldBlock`] (Python's `BlockingIOError`).
//!
//! # Waking a blocked call
//!
//! On Linux, closing (or dropping) a socket in one thread does **not** wake another
//! thread blocked in `recv` or `accept` on it. [`Socket::shutdown`] does: after
//! `shutdown(Shutdown::Read)` (or `Both`), a blocked `recv` returns an empty
//! `Vec` and a blocked `accept` fails. Every stop path in threadkit uses `shutdown`.
//!
//! # Examples
//!
//! A TCP echo round trip, Python's classic first socket program:
//!
//! ```
//! use threadkit::socket::{self, Family, Kind, Socket};
//! use std::time::Duration;
//!
//! # fn main() -> std::io::Result<()> {
//! let server = Socket::new(Family::Inet, Kind::Stream)?;
//! server.bind("127.0.0.1:0")?;
//! server.listen(5)?;
//! let addr = server.getsockname()?;
//!
//! let client = socket::create_connection(addr, Some(Duration::from_secs(5)))?;
//! let (conn, _peer) = server.accept()?;
//! client.sendall(b"hello")?;
//! let data = conn.recv(1024)?;
//! conn.sendall(&data)?;
//! assert_eq!(client.recv(1024)?, b"hello");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{
    Shutdown, SocketAddr, SocketAddrV6, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, SockRef, Type};

/// An address family: Python's `AF_INET` and `AF_INET6`.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
/// assert_eq!(sock.family(), Family::Inet);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`); IPv4 addresses given to such a socket are used as
    /// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`).
    Inet6,
}

/// A socket type: Python's `SOCK_STREAM` (TCP) and `SOCK_DGRAM` (UDP).
///
/// # Examples
///
/// ```
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let sock = Socket::new(Family::Inet, Kind::Stream)?;
/// assert_eq!(sock.kind(), Kind::Stream);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A TCP stream (`SOCK_STREAM`).
    Stream,
    /// UDP datagrams (`SOCK_DGRAM`).
    Datagram,
}

/// Options for [`create_server_with`], Python's keyword arguments of
/// `socket.create_server`.
///
/// `ServerOptions::default()` is Python's default: the system's backlog (at most
/// 128), no `SO_REUSEPORT`, an IPv6 server accepts IPv6 only.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, ServerOptions};
///
/// # fn main() -> std::io::Result<()> {
/// let opts = ServerOptions { backlog: Some(16), ..ServerOptions::default() };
/// let server = socket::create_server_with("127.0.0.1:0", &opts)?;
/// assert!(server.getsockname()?.port() != 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// The `listen` backlog; `None` is Python's default, 128.
    pub backlog: Option<i32>,
    /// Set `SO_REUSEPORT`, so several sockets may listen on the same port.
    pub reuse_port: bool,
    /// For an IPv6 address: accept IPv4 clients too (as IPv4-mapped addresses) by
    /// turning `IPV6_V6ONLY` off. An IPv4 address with `dual_stack` is an error.
    pub dual_stack: bool,
}

/// The stored timeout of a blocking socket without one.
const NO_TIMEOUT: u64 = u64::MAX;

/// Python's `listen()` default backlog: `min(SOMAXCONN, 128)`.
const DEFAULT_BACKLOG: i32 = 128;

/// A network socket with Python's calls: TCP or UDP, IPv4 or IPv6.
///
/// Every method takes `&self`, so one socket may be shared between threads (by
/// reference or in an `Arc`): one thread receiving while another sends, or one
/// thread calling [`shutdown`](Socket::shutdown) to wake another blocked in
/// [`recv`](Socket::recv). `Read` and `Write` are implemented for `Socket` and
/// `&Socket`; wrap a `&Socket` in a [`BufReader`](std::io::BufReader) to read lines,
/// as Python's `makefile()` does.
///
/// See the [module docs](self) for the timeout modes.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let a = Socket::new(Family::Inet, Kind::Datagram)?;
/// a.bind("127.0.0.1:0")?;
/// let b = Socket::new(Family::Inet, Kind::Datagram)?;
/// b.bind("127.0.0.1:0")?;
/// b.sendto(b"ping", a.getsockname()?)?;
/// let (data, from) = a.recvfrom(1024)?;
/// assert_eq!((data.as_slice(), from), (&b"ping"[..], b.getsockname()?));
/// # Ok(())
/// # }
/// ```
pub struct Socket {
    // The owned descriptor. std's `UdpSocket` is only an fd with safe
    // `recv`/`recv_from`/`send`/`send_to` into initialised memory (and it sends
    // with MSG_NOSIGNAL); those calls work on any socket type. Everything else goes
    // through socket2 (`self.sock()`), which borrows the same fd.
    fd: UdpSocket,
    family: Family,
    kind: Kind,
    // Python keeps the timeout in the socket object, so `gettimeout` needs no
    // system call: nanoseconds, `NO_TIMEOUT` for blocking, 0 for non-blocking.
    timeout: AtomicU64,
}

impl Socket {
    /// Creates a socket of the given family and kind, blocking, unbound (Python's
    /// `socket.socket(family, type)`).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot create the socket (no IPv6 support, too many
    /// open files).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert_eq!(sock.gettimeout(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(family: Family, kind: Kind) -> io::Result<Socket> {
        let domain = match family {
            Family::Inet => Domain::IPV4,
            Family::Inet6 => Domain::IPV6,
        };
        let ty = match kind {
            Kind::Stream => Type::STREAM,
            Kind::Datagram => Type::DGRAM,
        };
        let sock = socket2::Socket::new(domain, ty, None)?;
        Ok(Socket::from_parts(OwnedFd::from(sock), family, kind, None))
    }

    fn from_parts(fd: OwnedFd, family: Family, kind: Kind, timeout: Option<Duration>) -> Socket {
        Socket {
            fd: UdpSocket::from(fd),
            family,
            kind,
            timeout: AtomicU64::new(encode_timeout(timeout)),
        }
    }

    /// Wraps a descriptor from `std`, reading its family and its current blocking
    /// mode and read timeout.
    fn from_std_fd(fd: OwnedFd, kind: Kind) -> Socket {
        let sock = SockRef::from(&fd);
        let family = match sock.domain() {
            Ok(d) if d == Domain::IPV6 => Family::Inet6,
            _ => Family::Inet,
        };
        let timeout = if sock.nonblocking().unwrap_or(false) {
            Some(Duration::ZERO)
        } else {
            sock.read_timeout().unwrap_or(None)
        };
        Socket::from_parts(fd, family, kind, timeout)
    }

    /// socket2's view of the same descriptor.
    fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.fd)
    }

    /// The address family the socket was created with (Python's `sock.family`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # if Socket::new(Family::Inet6, Kind::Stream).is_err() { return Ok(()); }
    /// let sock = Socket::new(Family::Inet6, Kind::Stream)?;
    /// assert_eq!(sock.family(), Family::Inet6);
    /// # Ok(())
    /// # }
    /// ```
    pub fn family(&self) -> Family {
        self.family
    }

    /// The socket type (Python's `sock.type`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// assert_eq!(sock.kind(), Kind::Datagram);
    /// # Ok(())
    /// # }
    /// ```
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Binds the socket to a local address (Python's `bind((host, port))`).
    ///
    /// `addr` is anything [`ToSocketAddrs`] accepts (`"127.0.0.1:0"`, `("localhost",
    /// 0)`, a `SocketAddr`); the first resolved address of the socket's family is
    /// used. Port 0 asks the system for a free port: read it back with
    /// [`getsockname`](Socket::getsockname).
    ///
    /// # Errors
    ///
    /// Fails when the address does not resolve to the socket's family
    /// (`InvalidInput`), is in use (`AddrInUse`) or is not local
    /// (`AddrNotAvailable`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.bind(("127.0.0.1", 0))?;
    /// assert!(sock.getsockname()?.ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addr = self.resolve(addr)?[0];
        self.sock().bind(&SockAddr::from(addr))
    }

    /// Starts listening for connections; `backlog` is how many not yet accepted
    /// connections the system queues (Python's `listen(backlog)`).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket, or when the system refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Stream)?;
    /// server.bind("127.0.0.1:0")?;
    /// server.listen(128)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        self.sock().listen(backlog)
    }

    /// Waits for a connection and accepts it, returning a new connected socket and
    /// the client's address (Python's `accept()`).
    ///
    /// The new socket is blocking (no timeout), as in Python, whatever the
    /// listening socket's timeout.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the socket's timeout passes first, `WouldBlock` on a
    /// non-blocking socket with no pending connection; `InvalidInput` after
    /// `shutdown` woke it; whatever else the system reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// server.settimeout(Some(Duration::from_secs(5)))?;
    /// let (conn, peer) = server.accept()?;
    /// assert_eq!(peer, client.getsockname()?);
    /// assert_eq!(conn.gettimeout(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn accept(&self) -> io::Result<(Socket, SocketAddr)> {
        let timeout = self.gettimeout();
        let (sock, addr) = self.call(|| self.sock().accept())?;
        // Linux copies SO_RCVTIMEO/SO_SNDTIMEO to the accepted socket (not
        // O_NONBLOCK); Python's accepted socket has no timeout.
        if matches!(timeout, Some(d) if !d.is_zero()) {
            sock.set_read_timeout(None)?;
            sock.set_write_timeout(None)?;
        }
        let addr = to_std_addr(&addr)?;
        Ok((
            Socket::from_parts(OwnedFd::from(sock), self.family, self.kind, None),
            addr,
        ))
    }

    /// Connects to a remote address (Python's `connect((host, port))`).
    ///
    /// Each resolved address of the socket's family is tried in turn; the last
    /// error is returned when none answers. With a timeout, each attempt waits at
    /// most that long. On a datagram socket this sets the default destination of
    /// [`send`](Socket::send) and the only source [`recv`](Socket::recv) accepts.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, `TimedOut` when the timeout
    /// passes, `InvalidInput` when no address of the socket's family resolves; on a
    /// non-blocking socket the connection goes on in the background and this
    /// fails with the system's "in progress" error.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{self, Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = Socket::new(Family::Inet, Kind::Stream)?;
    /// client.connect(server.getsockname()?)?;
    /// assert_eq!(client.getpeername()?, server.getsockname()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for addr in self.resolve(addr)? {
            match self.connect_one(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    fn connect_one(&self, addr: SocketAddr) -> io::Result<()> {
        let addr = SockAddr::from(addr);
        match self.gettimeout() {
            Some(d) if !d.is_zero() => {
                let start = Instant::now();
                retry_interrupted(|| self.sock().connect_timeout(&addr, d))
                    .map_err(|e| timed_out_after(e, start, d))
            }
            _ => retry_interrupted(|| self.sock().connect(&addr)),
        }
    }

    /// Sends data on a connected socket, returning how many bytes went out, which
    /// may be fewer than `data.len()` (Python's `send`).
    ///
    /// # Errors
    ///
    /// `TimedOut` / `WouldBlock` per the timeout mode; `BrokenPipe` or
    /// `ConnectionReset` when the peer is gone; `NotConnected`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let n = client.send(b"hi")?;
    /// assert_eq!(n, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.call(|| self.fd.send(data))
    }

    /// Sends all of `data`, calling `send` until every byte went out (Python's
    /// `sendall`).
    ///
    /// With a timeout `d`, it gives up with `TimedOut` once `d` has passed since the
    /// call began (checked between sends; as one send may itself wait up to `d`,
    /// the whole call takes less than about `2 * d`). On failure, an unknown part
    /// of `data` may have been sent.
    ///
    /// # Errors
    ///
    /// As [`send`](Socket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// client.sendall(b"every byte")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendall(&self, mut data: &[u8]) -> io::Result<()> {
        let deadline = match self.gettimeout() {
            Some(d) if !d.is_zero() => Some((Instant::now(), d)),
            _ => None,
        };
        while !data.is_empty() {
            if let Some((start, d)) = deadline {
                if start.elapsed() >= d {
                    return Err(timed_out());
                }
            }
            let n = self.send(data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Receives at most `bufsize` bytes; an empty `Vec` means the peer closed the
    /// connection (or `shutdown(Read)` was called) (Python's `recv`).
    ///
    /// # Errors
    ///
    /// `TimedOut` / `WouldBlock` per the timeout mode; `ConnectionReset` when the
    /// peer aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// client.sendall(b"last words")?;
    /// client.shutdown(Shutdown::Write)?;
    /// assert_eq!(conn.recv(1024)?, b"last words");
    /// assert!(conn.recv(1024)?.is_empty()); // the peer closed its side
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(&self, bufsize: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; bufsize];
        let n = self.recv_into(&mut buf)?;
        shrink(&mut buf, n);
        Ok(buf)
    }

    /// Receives into `buf`, returning how many bytes arrived; 0 (for a non-empty
    /// `buf`) means the peer closed the connection (Python's `recv_into`).
    ///
    /// # Errors
    ///
    /// As [`recv`](Socket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// client.sendall(b"abc")?;
    /// let mut buf = [0u8; 16];
    /// let n = conn.recv_into(&mut buf)?;
    /// assert_eq!(&buf[..n], b"abc");
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_into(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.call(|| self.fd.recv(buf))
    }

    /// Receives one datagram of at most `bufsize` bytes (the rest of a longer one
    /// is discarded) and the address it came from (Python's `recvfrom`).
    ///
    /// On a stream socket this is [`recv`](Socket::recv) plus the peer's address.
    ///
    /// # Errors
    ///
    /// As [`recv`](Socket::recv); and `NotConnected` when a `shutdown` of the
    /// receive side (from another thread, say) ends the wait with no datagram
    /// (Python returns `(b'', None)` there).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Datagram)?;
    /// server.bind("127.0.0.1:0")?;
    /// let client = Socket::new(Family::Inet, Kind::Datagram)?;
    /// client.sendto(b"hello", server.getsockname()?)?;
    /// server.settimeout(Some(Duration::from_secs(5)))?;
    /// let (data, from) = server.recvfrom(65507)?;
    /// server.sendto(&data, from)?; // echo it back
    /// # Ok(())
    /// # }
    /// ```
    pub fn recvfrom(&self, bufsize: usize) -> io::Result<(Vec<u8>, SocketAddr)> {
        if self.kind == Kind::Stream {
            let data = self.recv(bufsize)?;
            return Ok((data, self.getpeername()?));
        }
        let mut buf = vec![0; bufsize];
        let (n, from) = self.call(|| crate::sys::recv_from(&self.sock(), &mut buf))?;
        // No sender: the receive side was shut down (Python returns `None` here).
        let from = from.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "no datagram: the socket's receive side was shut down",
            )
        })?;
        shrink(&mut buf, n);
        Ok((buf, from))
    }

    /// Sends one datagram to `addr`, returning the bytes sent (Python's `sendto`).
    ///
    /// The first resolved address of the socket's family is used. An unbound
    /// socket is bound to a free port first, by the system.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when no address of the socket's family resolves; the
    /// system's error for a datagram that is too long; `TimedOut` / `WouldBlock`
    /// per the timeout mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// let n = sock.sendto(b"fire and forget", "127.0.0.1:9")?;
    /// assert_eq!(n, 15);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendto(&self, data: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let addr = self.resolve(addr)?[0];
        self.call(|| self.fd.send_to(data, addr))
    }

    /// Sets the timeout mode (Python's `settimeout`): `None` blocks, `Some(d)`
    /// with `d > 0` makes calls that wait longer than `d` fail with `TimedOut`,
    /// and `Some(Duration::ZERO)` makes the socket non-blocking (`WouldBlock`).
    ///
    /// The timeout applies to every later call, including `accept` and `connect`;
    /// it is one setting for the socket, shared by every thread using it.
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the setting (a closed or invalid socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.bind("127.0.0.1:0")?;
    /// sock.settimeout(Some(Duration::from_millis(20)))?;
    /// assert_eq!(sock.recv(16).unwrap_err().kind(), ErrorKind::TimedOut);
    /// sock.settimeout(Some(Duration::ZERO))?;
    /// assert_eq!(sock.recv(16).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// # Ok(())
    /// # }
    /// ```
    pub fn settimeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let sock = self.sock();
        match timeout {
            Some(d) if d.is_zero() => {
                sock.set_nonblocking(true)?;
                sock.set_read_timeout(None)?;
                sock.set_write_timeout(None)?;
            }
            Some(d) => {
                // A zero timeval means "no timeout" to the system: never pass one.
                let d = d.max(Duration::from_micros(1));
                sock.set_nonblocking(false)?;
                sock.set_read_timeout(Some(d))?;
                sock.set_write_timeout(Some(d))?;
            }
            None => {
                sock.set_nonblocking(false)?;
                sock.set_read_timeout(None)?;
                sock.set_write_timeout(None)?;
            }
        }
        self.timeout
            .store(encode_timeout(timeout), Ordering::Relaxed);
        Ok(())
    }

    /// The timeout mode last set (Python's `gettimeout`): `None` for blocking,
    /// `Some(Duration::ZERO)` for non-blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.settimeout(Some(Duration::from_secs(2)))?;
    /// assert_eq!(sock.gettimeout(), Some(Duration::from_secs(2)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn gettimeout(&self) -> Option<Duration> {
        match self.timeout.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Python's `setblocking(flag)`: `true` is `settimeout(None)`, `false` is
    /// `settimeout(Some(Duration::ZERO))`.
    ///
    /// # Errors
    ///
    /// As [`settimeout`](Socket::settimeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.setblocking(false)?;
    /// assert_eq!(sock.gettimeout(), Some(Duration::ZERO));
    /// sock.setblocking(true)?;
    /// assert_eq!(sock.gettimeout(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn setblocking(&self, blocking: bool) -> io::Result<()> {
        self.settimeout(if blocking { None } else { Some(Duration::ZERO) })
    }

    /// Sets `SO_REUSEADDR`: a server may bind its port again at once after a
    /// restart, while old connections linger in `TIME_WAIT`. Call it before
    /// [`bind`](Socket::bind).
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Stream)?;
    /// server.set_reuse_address(true)?;
    /// server.bind("127.0.0.1:0")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reuse_address(&self, reuse: bool) -> io::Result<()> {
        self.sock().set_reuse_address(reuse)
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting to be
    /// merged (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket, or when the system rejects the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_nodelay(true)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock().set_nodelay(nodelay)
    }

    /// The socket's own address (Python's `getsockname()`).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot tell (an invalid socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let addr = server.getsockname()?;
    /// assert_ne!(addr.port(), 0); // the port the system chose
    /// # Ok(())
    /// # }
    /// ```
    pub fn getsockname(&self) -> io::Result<SocketAddr> {
        to_std_addr(&self.sock().local_addr()?)
    }

    /// The address of the connected peer (Python's `getpeername()`).
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket is not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// assert_eq!(client.getpeername()?, server.getsockname()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn getpeername(&self) -> io::Result<SocketAddr> {
        to_std_addr(&self.sock().peer_addr()?)
    }

    /// Shuts down one or both directions of the connection (Python's
    /// `shutdown(how)`).
    ///
    /// `Shutdown::Write` sends end-of-file to the peer (its `recv` returns empty)
    /// while this side can still receive. `Shutdown::Read` (or `Both`) from any
    /// thread wakes a thread blocked in `recv` (which then returns empty) or
    /// `accept` (which fails) on this socket: on Linux, that is the way to stop
    /// it, since closing the socket does not wake it.
    ///
    /// # Errors
    ///
    /// `NotConnected` on a socket that is neither connected nor listening.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::net::Shutdown;
    /// use std::sync::Arc;
    /// use std::thread;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = Arc::new(socket::create_connection(server.getsockname()?, None)?);
    /// let reader = {
    ///     let client = Arc::clone(&client);
    ///     thread::spawn(move || client.recv(1024))
    /// };
    /// client.shutdown(Shutdown::Read)?; // wakes the blocked recv
    /// assert!(reader.join().unwrap()?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock().shutdown(how)
    }

    /// Closes the socket (Python's `close()`); dropping it does the same.
    ///
    /// As with `std`'s sockets, an error from the system's `close` is ignored. To
    /// wake a thread blocked on this socket, use [`shutdown`](Socket::shutdown)
    /// first: closing does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.close();
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(self) {
        drop(self);
    }

    /// Resolves `addr` to the addresses usable with this socket's family, in
    /// order; IPv4 addresses become IPv4-mapped ones for an IPv6 socket.
    fn resolve(&self, addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()?
            .filter_map(|a| match (self.family, a) {
                (Family::Inet, SocketAddr::V4(_)) | (Family::Inet6, SocketAddr::V6(_)) => Some(a),
                (Family::Inet6, SocketAddr::V4(v4)) => Some(SocketAddr::V6(SocketAddrV6::new(
                    v4.ip().to_ipv6_mapped(),
                    v4.port(),
                    0,
                    0,
                ))),
                (Family::Inet, SocketAddr::V6(_)) => None,
            })
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                match self.family {
                    Family::Inet => "no ipv4 address to use",
                    Family::Inet6 => "no ipv6 address to use",
                },
            ));
        }
        Ok(addrs)
    }

    /// Runs one system call with Python's timeout rules: retries it when a signal
    /// interrupted it, and turns the system's "would block" into `TimedOut` when
    /// the socket has a timeout.
    fn call<T>(&self, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
        match self.gettimeout() {
            Some(d) if !d.is_zero() => {
                let start = Instant::now();
                loop {
                    match op() {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            // The system restarts the whole SO_RCVTIMEO wait on a
                            // retry; give up once the timeout has passed.
                            if start.elapsed() >= d {
                                return Err(timed_out());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Err(timed_out_after(timed_out(), start, d));
                        }
                        r => return r,
                    }
                }
            }
            _ => retry_interrupted(op),
        }
    }
}

/// Retries `op` while a signal interrupts it (Python's PEP 475).
fn retry_interrupted<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Python's `TimeoutError('timed out')`.
fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timed out")
}

/// Passes `err` on; a `TimedOut` that the system reported before `d` had passed
/// (its timers tick coarsely) first sleeps out the rest, so a timeout never ends
/// early. Data arriving meanwhile stays queued for the next call.
fn timed_out_after(err: io::Error, start: Instant, d: Duration) -> io::Error {
    if err.kind() == io::ErrorKind::TimedOut {
        let elapsed = start.elapsed();
        if elapsed < d {
            thread::sleep(d - elapsed);
        }
    }
    err
}

fn no_address() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
}

fn encode_timeout(timeout: Option<Duration>) -> u64 {
    match timeout {
        None => NO_TIMEOUT,
        // Longer than 584 years: the largest storable timeout.
        Some(d) => u64::try_from(d.as_nanos()).map_or(NO_TIMEOUT - 1, |n| n.min(NO_TIMEOUT - 1)),
    }
}

fn to_std_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an internet address"))
}

/// Truncates a receive buffer to the `n` bytes received, giving back most of an
/// oversized allocation (Python's `recv` returns an exact-size `bytes`).
fn shrink(buf: &mut Vec<u8>, n: usize) {
    buf.truncate(n);
    if buf.capacity() > 2 * n + 64 {
        buf.shrink_to_fit();
    }
}

/// Connects to `addr`, trying each resolved address in turn, with `timeout` set
/// on the socket before connecting (Python's `socket.create_connection`).
///
/// The timeout stays set on the returned socket, as in Python: later `recv` and
/// `send` calls time out too. `None` leaves the socket blocking.
///
/// # Errors
///
/// The last address's error when none answered (`ConnectionRefused`,
/// `TimedOut`); `InvalidInput` when `addr` resolves to nothing.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// let server = socket::create_server("127.0.0.1:0")?;
/// let addr = server.getsockname()?;
/// let client = socket::create_connection(addr, Some(Duration::from_secs(3)))?;
/// assert_eq!(client.gettimeout(), Some(Duration::from_secs(3)));
/// # Ok(())
/// # }
/// ```
pub fn create_connection(
    addr: impl ToSocketAddrs,
    timeout: Option<Duration>,
) -> io::Result<Socket> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let attempt = (|| {
            let sock = Socket::new(family_of(&addr), Kind::Stream)?;
            sock.settimeout(timeout)?;
            sock.connect(addr)?;
            Ok(sock)
        })();
        match attempt {
            Ok(sock) => return Ok(sock),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "getaddrinfo returns an empty list",
        )
    }))
}

/// A listening TCP socket bound to `addr`, with `SO_REUSEADDR` on and the default
/// backlog (Python's `socket.create_server(address)`).
///
/// The family follows the (first resolved) address. Same as
/// [`create_server_with`] with `ServerOptions::default()`.
///
/// # Errors
///
/// As [`create_server_with`].
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let server = socket::create_server("127.0.0.1:0")?;
/// println!("listening on {}", server.getsockname()?);
/// # Ok(())
/// # }
/// ```
pub fn create_server(addr: impl ToSocketAddrs) -> io::Result<Socket> {
    create_server_with(addr, &ServerOptions::default())
}

/// A listening TCP socket bound to `addr`, with `SO_REUSEADDR` on and the given
/// options (Python's `socket.create_server(address, backlog=, reuse_port=,
/// dualstack_ipv6=)`).
///
/// An IPv6 server without `dual_stack` accepts IPv6 clients only (as Python sets
/// `IPV6_V6ONLY`); with it, IPv4 clients too, seen as IPv4-mapped addresses. That
/// matters for the unspecified address `[::]` and for IPv4-mapped ones such as
/// `[::ffff:127.0.0.1]`: Linux makes a socket bound to one specific IPv6 address
/// (such as `[::1]`) IPv6-only whatever the option says.
///
/// # Errors
///
/// `InvalidInput` for `dual_stack` with an IPv4 address or when `addr` resolves
/// to nothing; a bind error names the address (`AddrInUse`, `AddrNotAvailable`).
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, ServerOptions};
///
/// # fn main() -> std::io::Result<()> {
/// # if socket::create_server("[::1]:0").is_err() { return Ok(()); }
/// let opts = ServerOptions { dual_stack: true, ..Default::default() };
/// let server = socket::create_server_with("[::1]:0", &opts)?;
/// assert!(server.getsockname()?.is_ipv6());
/// # Ok(())
/// # }
/// ```
pub fn create_server_with(addr: impl ToSocketAddrs, options: &ServerOptions) -> io::Result<Socket> {
    let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "getaddrinfo returns an empty list",
        )
    })?;
    if options.dual_stack && addr.is_ipv4() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "dual_stack requires an ipv6 address",
        ));
    }
    let sock = Socket::new(family_of(&addr), Kind::Stream)?;
    // As Python: a failure to set SO_REUSEADDR is ignored.
    let _ = sock.set_reuse_address(true);
    if options.reuse_port {
        sock.sock().set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        if options.dual_stack {
            sock.sock().set_only_v6(false)?;
        } else {
            let _ = sock.sock().set_only_v6(true);
        }
    }
    sock.bind(addr).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{e} (while attempting to bind on address {addr})"),
        )
    })?;
    sock.listen(options.backlog.unwrap_or(DEFAULT_BACKLOG))?;
    Ok(sock)
}

fn family_of(addr: &SocketAddr) -> Family {
    match addr {
        SocketAddr::V4(_) => Family::Inet,
        SocketAddr::V6(_) => Family::Inet6,
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("fd", &self.fd.as_raw_fd())
            .field("family", &self.family)
            .field("kind", &self.kind)
            .field("laddr", &self.getsockname().ok())
            .field("raddr", &self.getpeername().ok())
            .field("timeout", &self.gettimeout())
            .finish()
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_into(buf)
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Socket> for OwnedFd {
    fn from(sock: Socket) -> OwnedFd {
        OwnedFd::from(sock.fd)
    }
}

/// Conversions from `std`: the family, blocking mode and read timeout are read
/// from the descriptor.
impl From<TcpStream> for Socket {
    fn from(s: TcpStream) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<TcpListener> for Socket {
    fn from(s: TcpListener) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Stream)
    }
}

impl From<UdpSocket> for Socket {
    fn from(s: UdpSocket) -> Socket {
        Socket::from_std_fd(OwnedFd::from(s), Kind::Datagram)
    }
}

/// Conversions to `std`: the descriptor keeps its mode; a positive timeout shows
/// as `std`'s read and write timeouts.
impl From<Socket> for TcpStream {
    fn from(s: Socket) -> TcpStream {
        TcpStream::from(OwnedFd::from(s))
    }
}

impl From<Socket> for TcpListener {
    fn from(s: Socket) -> TcpListener {
        TcpListener::from(OwnedFd::from(s))
    }
}

impl From<Socket> for UdpSocket {
    fn from(s: Socket) -> UdpSocket {
        s.fd
    }
}

// Sockets are shared between threads by reference or `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Socket>();
};
