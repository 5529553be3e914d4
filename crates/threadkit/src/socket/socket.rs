//! The [`Socket`] type: creation, the calls that move data, and the
//! conversions to and from `std`'s sockets.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, SockRef, Type};

use super::address::to_std_addr;
use super::getdefaulttimeout;
use super::timeout::encode_timeout;
use super::{Family, Kind};

/// A network socket with Python's calls: TCP or UDP, IPv4 or IPv6, or a
/// Unix-domain stream or datagram socket (whose address calls are the `_unix`
/// ones: [`bind_unix`](Socket::bind_unix), [`accept_unix`](Socket::accept_unix)...).
///
/// Every method takes `&self`, so one socket may be shared between threads (by
/// reference or in an `Arc`): one thread receiving while another sends, or one
/// thread calling [`shutdown`](Socket::shutdown) to wake another blocked in
/// [`recv`](Socket::recv). `Read` and `Write` are implemented for `Socket` and
/// `&Socket`; to read lines, as from Python's `makefile()`, take a
/// [`SocketFile`](super::SocketFile) from [`makefile`](Socket::makefile) or wrap a
/// `&Socket` in a [`BufReader`](std::io::BufReader).
///
/// See the [module docs](super) for the timeout modes.
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
    pub(super) fd: UdpSocket,
    pub(super) family: Family,
    pub(super) kind: Kind,
    // Python keeps the timeout in the socket object, so `gettimeout` needs no
    // system call: nanoseconds, `timeout::NO_TIMEOUT` for blocking, 0 for
    // non-blocking. Shared with the socket's clones (`try_clone`), since the
    // system's mode (O_NONBLOCK, SO_RCVTIMEO) belongs to the shared descriptor.
    pub(super) timeout: Arc<AtomicU64>,
}

impl Socket {
    /// Creates a socket of the given family and kind, unbound (Python's
    /// `socket.socket(family, type)`), in the default timeout mode: blocking
    /// unless [`setdefaulttimeout`](super::setdefaulttimeout) said otherwise.
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
            Family::Unix => Domain::UNIX,
        };
        let ty = match kind {
            Kind::Stream => Type::STREAM,
            Kind::Datagram => Type::DGRAM,
        };
        let sock = socket2::Socket::new(domain, ty, None)?;
        let sock = Socket::from_parts(OwnedFd::from(sock), family, kind, None);
        sock.apply_default_timeout()?;
        Ok(sock)
    }

    /// Puts a new socket in the default timeout mode, when one was set.
    pub(super) fn apply_default_timeout(&self) -> io::Result<()> {
        match getdefaulttimeout() {
            None => Ok(()),
            timeout => self.settimeout(timeout),
        }
    }

    pub(super) fn from_parts(
        fd: OwnedFd,
        family: Family,
        kind: Kind,
        timeout: Option<Duration>,
    ) -> Socket {
        Socket {
            fd: UdpSocket::from(fd),
            family,
            kind,
            timeout: Arc::new(AtomicU64::new(encode_timeout(timeout))),
        }
    }

    /// socket2's view of the same descriptor.
    pub(super) fn sock(&self) -> SockRef<'_> {
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
    /// (`InvalidInput`; on a Unix socket, use [`bind_unix`](Socket::bind_unix)),
    /// is in use (`AddrInUse`) or is not local (`AddrNotAvailable`).
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
        let addr = self.resolve(addr, "bind")?[0];
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
    /// The new socket is in the default timeout mode (blocking, unless
    /// [`setdefaulttimeout`](super::setdefaulttimeout) set one), as in Python,
    /// whatever the listening socket's timeout.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the socket's timeout passes first, `WouldBlock` on a
    /// non-blocking socket with no pending connection; `InvalidInput` after
    /// `shutdown` woke it, or on a Unix socket (use
    /// [`accept_unix`](Socket::accept_unix)); whatever else the system reports.
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
        self.check_inet("accept", "accept_unix")?;
        let (conn, addr) = self.accept_raw()?;
        Ok((conn, to_std_addr(&addr)?))
    }

    /// `accept` for every family: the new socket, in the default timeout mode,
    /// and the peer's address as the system gave it.
    pub(super) fn accept_raw(&self) -> io::Result<(Socket, SockAddr)> {
        let timeout = self.gettimeout();
        let (sock, addr) = self.call(|| self.sock().accept())?;
        // Linux copies SO_RCVTIMEO/SO_SNDTIMEO to the accepted socket (not
        // O_NONBLOCK); Python's accepted socket starts in the default mode.
        if matches!(timeout, Some(d) if !d.is_zero()) {
            sock.set_read_timeout(None)?;
            sock.set_write_timeout(None)?;
        }
        let conn = Socket::from_parts(OwnedFd::from(sock), self.family, self.kind, None);
        conn.apply_default_timeout()?;
        Ok((conn, addr))
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
    /// passes, `InvalidInput` when no address of the socket's family resolves (on a
    /// Unix socket, use [`connect_unix`](Socket::connect_unix)); on a
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
        for addr in self.resolve(addr, "connect")? {
            match self.connect_one(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    pub(super) fn connect_one(&self, addr: SocketAddr) -> io::Result<()> {
        self.connect_addr(&SockAddr::from(addr))
    }

    /// One `connect` with Python's timeout rules, for every family.
    pub(super) fn connect_addr(&self, addr: &SockAddr) -> io::Result<()> {
        match self.gettimeout() {
            // A Unix connect waits only while the listener's backlog is full,
            // and the system bounds that wait by SO_SNDTIMEO, which `settimeout`
            // set. (socket2's non-blocking connect-and-poll gets EAGAIN there,
            // then POLLHUP at once, and fails with "no error set after POLLHUP".)
            Some(d) if !d.is_zero() && self.family == Family::Unix => {
                self.call(|| self.sock().connect(addr))
            }
            Some(d) if !d.is_zero() => {
                let start = Instant::now();
                retry_interrupted(|| self.sock().connect_timeout(addr, d))
                    .map_err(|e| timed_out_after(e, start, d))
            }
            _ => retry_interrupted(|| self.sock().connect(addr)),
        }
    }

    /// The socket's own address (Python's `getsockname()`).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot tell (an invalid socket); `InvalidInput` on a
    /// Unix socket (use [`getsockname_unix`](Socket::getsockname_unix)).
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
        self.check_inet("getsockname", "getsockname_unix")?;
        to_std_addr(&self.sock().local_addr()?)
    }

    /// The address of the connected peer (Python's `getpeername()`).
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket is not connected; `InvalidInput` on a Unix
    /// socket (use [`getpeername_unix`](Socket::getpeername_unix)).
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
        self.check_inet("getpeername", "getpeername_unix")?;
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

    /// Runs one system call with Python's timeout rules: retries it when a signal
    /// interrupted it, and turns the system's "would block" into `TimedOut` when
    /// the socket has a timeout.
    pub(super) fn call<T>(&self, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
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
pub(super) fn retry_interrupted<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Python's `TimeoutError('timed out')`.
pub(super) fn timed_out() -> io::Error {
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

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Socket");
        d.field("fd", &self.fd.as_raw_fd())
            .field("family", &self.family)
            .field("kind", &self.kind);
        if self.family == Family::Unix {
            d.field("laddr", &self.getsockname_unix().ok())
                .field("raddr", &self.getpeername_unix().ok());
        } else {
            d.field("laddr", &self.getsockname().ok())
                .field("raddr", &self.getpeername().ok());
        }
        d.field("timeout", &self.gettimeout()).finish()
    }
}

// Sockets are shared between threads by reference or `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Socket>();
};
