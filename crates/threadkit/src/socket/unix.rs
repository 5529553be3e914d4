//! The Unix-address variants of the calls that take or return an address:
//! [`Socket::bind_unix`], [`Socket::connect_unix`], [`Socket::connect_ex_unix`],
//! [`Socket::accept_unix`], [`Socket::getsockname_unix`],
//! [`Socket::getpeername_unix`], [`Socket::recvfrom_unix`],
//! [`Socket::sendto_unix`]; and the check that an address call fits the
//! socket's family.
//!
//! Python's calls take either kind of address; Rust's are typed, so a Unix
//! socket has its own calls, each named after the internet one with `_unix`.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::path::Path;

use socket2::SockAddr;

use super::io::{errno_of, shrink};
use super::{Family, Kind, Socket, UnixAddr};

impl Socket {
    /// Binds the socket to a path (Python's `bind(path)` on an `AF_UNIX`
    /// socket): the system creates a socket file there, which stays after the
    /// socket is closed (remove it yourself, as in Python). A path whose first
    /// byte is NUL (`"\0name"`) is a Linux abstract name instead: no file, and
    /// gone with the socket.
    ///
    /// # Errors
    ///
    /// `InvalidInput` on an internet socket (use [`bind`](Socket::bind)) or for
    /// a path of 108 bytes or more; `AddrInUse` when something (even a stale
    /// socket file) is at that path; `NotFound` / `PermissionDenied` for its
    /// directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let dir = std::env::temp_dir().join(format!("threadkit-doc-bind-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// let server = Socket::new(Family::Unix, Kind::Stream)?;
    /// server.bind_unix(&path)?;
    /// assert_eq!(server.getsockname_unix()?.as_pathname(), Some(path.as_path()));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_unix(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = self.unix_sockaddr(path, "bind_unix", "bind")?;
        self.sock().bind(&addr)
    }

    /// Connects to the socket at a path, or a Linux abstract name (`"\0name"`)
    /// (Python's `connect(path)` on an `AF_UNIX` socket).
    ///
    /// A Unix connect waits only while the listener's backlog is full; with a
    /// timeout it waits at most that long, then fails with `TimedOut` (where
    /// Python fails at once with `BlockingIOError`). On a datagram socket it sets
    /// the default destination of [`send`](Socket::send).
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing is at the path, `ConnectionRefused` when no
    /// socket listens there (a stale socket file); `TimedOut` / `WouldBlock` per
    /// the timeout mode; `InvalidInput` on an internet socket (use
    /// [`connect`](Socket::connect)) or for a path of 108 bytes or more.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let name = format!("\0threadkit-doc-connect-{}", std::process::id());
    /// let server = Socket::new(Family::Unix, Kind::Stream)?;
    /// server.bind_unix(&name)?;
    /// server.listen(1)?;
    /// let client = Socket::new(Family::Unix, Kind::Stream)?;
    /// client.connect_unix(&name)?;
    /// let (conn, _) = server.accept_unix()?;
    /// client.sendall(b"hello")?;
    /// assert_eq!(conn.recv(16)?, b"hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_unix(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = self.unix_sockaddr(path, "connect_unix", "connect")?;
        self.connect_addr(&addr)
    }

    /// Connects as [`connect_unix`](Socket::connect_unix) does, but returns the
    /// system's error number instead of failing: 0 on success, `ENOENT` (2) when
    /// nothing is at the path, `ECONNREFUSED` (111) when no socket listens there
    /// (Python's `connect_ex(path)`); with a timeout that passes, `EWOULDBLOCK`.
    ///
    /// # Errors
    ///
    /// Only for what is not the system's `connect` answer: `InvalidInput` on an
    /// internet socket (use [`connect_ex`](Socket::connect_ex)) or for a path of
    /// 108 bytes or more.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Unix, Kind::Stream)?;
    /// let missing = std::env::temp_dir().join("threadkit-doc-nothing-here.sock");
    /// assert_eq!(sock.connect_ex_unix(&missing)?, libc::ENOENT);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_ex_unix(&self, path: impl AsRef<Path>) -> io::Result<i32> {
        let addr = self.unix_sockaddr(path, "connect_ex_unix", "connect_ex")?;
        Ok(self
            .connect_addr(&addr)
            .map_or_else(|e| errno_of(&e), |()| 0))
    }

    /// Waits for a connection on a listening Unix socket and accepts it: the
    /// new connected socket and the client's address, usually unnamed, as
    /// clients seldom bind (Python's `accept()` on an `AF_UNIX` socket).
    ///
    /// Timeouts are as for [`accept`](Socket::accept): the listener's bounds
    /// the wait, and the new socket starts in the default timeout mode.
    ///
    /// # Errors
    ///
    /// As [`accept`](Socket::accept); `InvalidInput` on an internet socket (use
    /// [`accept`](Socket::accept)).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let name = format!("\0threadkit-doc-accept-{}", std::process::id());
    /// let server = Socket::new(Family::Unix, Kind::Stream)?;
    /// server.bind_unix(&name)?;
    /// server.listen(1)?;
    /// let client = Socket::new(Family::Unix, Kind::Stream)?;
    /// client.connect_unix(&name)?;
    /// let (conn, peer) = server.accept_unix()?;
    /// assert!(peer.is_unnamed()); // the client did not bind
    /// assert_eq!(conn.family(), Family::Unix);
    /// # Ok(())
    /// # }
    /// ```
    pub fn accept_unix(&self) -> io::Result<(Socket, UnixAddr)> {
        self.check_unix("accept_unix", "accept")?;
        let (conn, addr) = self.accept_raw()?;
        Ok((conn, to_unix_addr(&addr)?))
    }

    /// The Unix socket's own address (Python's `getsockname()` on an `AF_UNIX`
    /// socket): the path it is bound to, its abstract name
    /// ([`as_abstract_name`](std::os::linux::net::SocketAddrExt::as_abstract_name),
    /// without the leading NUL), or unnamed when it is not bound.
    ///
    /// # Errors
    ///
    /// `InvalidInput` on an internet socket (use
    /// [`getsockname`](Socket::getsockname)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Unix, Kind::Datagram)?;
    /// assert!(sock.getsockname_unix()?.is_unnamed());
    /// let name = format!("\0threadkit-doc-name-{}", std::process::id());
    /// sock.bind_unix(&name)?;
    /// assert_eq!(sock.getsockname_unix()?.as_abstract_name(), Some(&name.as_bytes()[1..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn getsockname_unix(&self) -> io::Result<UnixAddr> {
        self.check_unix("getsockname_unix", "getsockname")?;
        to_unix_addr(&self.sock().local_addr()?)
    }

    /// The address of the connected Unix peer (Python's `getpeername()` on an
    /// `AF_UNIX` socket): for a client, the path or name it connected to.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket is not connected; `InvalidInput` on an
    /// internet socket (use [`getpeername`](Socket::getpeername)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let name = format!("\0threadkit-doc-peer-{}", std::process::id());
    /// let server = Socket::new(Family::Unix, Kind::Stream)?;
    /// server.bind_unix(&name)?;
    /// server.listen(1)?;
    /// let client = Socket::new(Family::Unix, Kind::Stream)?;
    /// client.connect_unix(&name)?;
    /// assert_eq!(client.getpeername_unix()?.as_abstract_name(), Some(&name.as_bytes()[1..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn getpeername_unix(&self) -> io::Result<UnixAddr> {
        self.check_unix("getpeername_unix", "getpeername")?;
        to_unix_addr(&self.sock().peer_addr()?)
    }

    /// Receives one datagram of at most `bufsize` bytes (the rest of a longer
    /// one is discarded) and the address it came from (Python's `recvfrom` on an
    /// `AF_UNIX` socket). A sender that never bound shows as an unnamed address
    /// (Python's `None`); so does the end of a wait that a `shutdown` of the
    /// receive side cut short, with no data. On a stream socket this is
    /// [`recv`](Socket::recv) plus the peer's address.
    ///
    /// # Errors
    ///
    /// As [`recv`](Socket::recv); `InvalidInput` on an internet socket (use
    /// [`recvfrom`](Socket::recvfrom)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server_name = format!("\0threadkit-doc-recvfrom-{}", std::process::id());
    /// let client_name = format!("\0threadkit-doc-recvfrom-client-{}", std::process::id());
    /// let server = Socket::new(Family::Unix, Kind::Datagram)?;
    /// server.bind_unix(&server_name)?;
    /// let client = Socket::new(Family::Unix, Kind::Datagram)?;
    /// client.bind_unix(&client_name)?;
    /// client.sendto_unix(b"ping", &server_name)?;
    /// let (data, from) = server.recvfrom_unix(1024)?;
    /// assert_eq!(data, b"ping");
    /// assert_eq!(from.as_abstract_name(), Some(&client_name.as_bytes()[1..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn recvfrom_unix(&self, bufsize: usize) -> io::Result<(Vec<u8>, UnixAddr)> {
        self.check_unix("recvfrom_unix", "recvfrom")?;
        if self.kind == Kind::Stream {
            let data = self.recv(bufsize)?;
            return Ok((data, self.getpeername_unix()?));
        }
        let mut buf = vec![0; bufsize];
        let (n, from) = self.call(|| crate::sys::recv_from(&self.sock(), &mut buf))?;
        shrink(&mut buf, n);
        Ok((buf, to_unix_addr(&from)?))
    }

    /// Sends one datagram to the socket at a path, or a Linux abstract name
    /// (`"\0name"`), returning the bytes sent (Python's `sendto(data, path)` on
    /// an `AF_UNIX` socket). The sender need not be bound, but then the
    /// receiver cannot answer.
    ///
    /// # Errors
    ///
    /// `NotFound` / `ConnectionRefused` when no socket is at the path; the
    /// system's error for a datagram that is too long; `TimedOut` / `WouldBlock`
    /// per the timeout mode (the receiver's queue is full); `InvalidInput` on an
    /// internet socket (use [`sendto`](Socket::sendto)) or for a path of 108
    /// bytes or more.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let name = format!("\0threadkit-doc-sendto-{}", std::process::id());
    /// let server = Socket::new(Family::Unix, Kind::Datagram)?;
    /// server.bind_unix(&name)?;
    /// let client = Socket::new(Family::Unix, Kind::Datagram)?;
    /// assert_eq!(client.sendto_unix(b"fire and forget", &name)?, 15);
    /// let (data, from) = server.recvfrom_unix(64)?;
    /// assert_eq!(data, b"fire and forget");
    /// assert!(from.is_unnamed()); // the client never bound
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendto_unix(&self, data: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = self.unix_sockaddr(path, "sendto_unix", "sendto")?;
        self.call(|| {
            self.sock()
                .send_to_with_flags(data, &addr, libc::MSG_NOSIGNAL)
        })
    }

    /// The system's address for `path` on this socket, which must be a Unix
    /// one (else the error names `inet_call`, the call to use instead).
    fn unix_sockaddr(
        &self,
        path: impl AsRef<Path>,
        call: &str,
        inet_call: &str,
    ) -> io::Result<SockAddr> {
        self.check_unix(call, inet_call)?;
        SockAddr::unix(path)
    }

    /// Fails unless this is a Unix socket: `call` is a `_unix` call, and the
    /// error names `instead`, the internet one.
    fn check_unix(&self, call: &str, instead: &str) -> io::Result<()> {
        match self.family {
            Family::Unix => Ok(()),
            Family::Inet | Family::Inet6 => Err(self.wrong_family(call, instead)),
        }
    }

    /// Fails on a Unix socket: `call` is an internet-address call, and the
    /// error names `instead`, its `_unix` variant.
    pub(super) fn check_inet(&self, call: &str, instead: &str) -> io::Result<()> {
        match self.family {
            Family::Unix => Err(self.wrong_family(call, instead)),
            Family::Inet | Family::Inet6 => Ok(()),
        }
    }

    /// The `InvalidInput` error of an address call made on a socket of the
    /// other kind of family, naming the call to use instead.
    pub(super) fn wrong_family(&self, call: &str, instead: &str) -> io::Error {
        let family = match self.family {
            Family::Unix => "a unix",
            Family::Inet | Family::Inet6 => "an internet",
        };
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{call} on {family} socket: use {instead}"),
        )
    }
}

/// socket2's Unix address as `std`'s: a path, an abstract name, or (also for
/// the empty address the system gives for an unbound sender) unnamed.
fn to_unix_addr(addr: &SockAddr) -> io::Result<UnixAddr> {
    if let Some(path) = addr.as_pathname() {
        UnixAddr::from_pathname(path)
    } else if let Some(name) = addr.as_abstract_namespace() {
        UnixAddr::from_abstract_name(name)
    } else {
        // std has no constructor named for it: the empty path is the unnamed
        // address (its length stops before `sun_path`), and a test holds it so.
        UnixAddr::from_pathname("")
    }
}
