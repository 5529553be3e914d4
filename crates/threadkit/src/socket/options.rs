//! Typed socket options, set then read back: Python's `setsockopt` /
//! `getsockopt` with `SO_REUSEADDR`, `SO_REUSEPORT`, `TCP_NODELAY`, `SO_RCVBUF`,
//! `SO_SNDBUF`, `SO_LINGER`, `SO_BROADCAST`, `IP_TTL` (`IPV6_UNICAST_HOPS`) and
//! `SO_ERROR`. Keepalive and multicast have files of their own. Each delegates to
//! socket2; any other option is reached through
//! [`socket2::SockRef`](socket2::SockRef) (see the [module docs](super)).

use std::io;
use std::time::Duration;

use super::{Family, Socket};

impl Socket {
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

    /// Whether `SO_REUSEADDR` is on (`getsockopt(SOL_SOCKET, SO_REUSEADDR)`).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option (an invalid socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// assert!(server.reuse_address()?); // create_server turns it on
    /// # Ok(())
    /// # }
    /// ```
    pub fn reuse_address(&self) -> io::Result<bool> {
        self.sock().reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets that all set it may bind the same
    /// address and port, and the system spreads connections (or datagrams) among
    /// them. Call it before [`bind`](Socket::bind).
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
    /// let a = Socket::new(Family::Inet, Kind::Datagram)?;
    /// a.set_reuse_port(true)?;
    /// a.bind("127.0.0.1:0")?;
    /// let b = Socket::new(Family::Inet, Kind::Datagram)?;
    /// b.set_reuse_port(true)?;
    /// b.bind(a.getsockname()?)?; // the same port, twice
    /// assert!(b.reuse_port()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reuse_port(&self, reuse: bool) -> io::Result<()> {
        self.sock().set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is on.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(!sock.reuse_port()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn reuse_port(&self) -> io::Result<bool> {
        self.sock().reuse_port()
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

    /// Whether `TCP_NODELAY` is on.
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_nodelay(true)?;
    /// assert!(sock.nodelay()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock().nodelay()
    }

    /// Sets the size of the system's receive buffer, `SO_RCVBUF`, in bytes.
    ///
    /// Linux doubles the value (for its own bookkeeping) and clamps it to
    /// `net.core.rmem_max`, so [`recv_buffer_size`](Socket::recv_buffer_size)
    /// reads back a different number, as in Python.
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.set_recv_buffer_size(64 * 1024)?;
    /// assert!(sock.recv_buffer_size()? >= 64 * 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        self.sock().set_recv_buffer_size(size)
    }

    /// The size of the system's receive buffer, `SO_RCVBUF`, in bytes.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(sock.recv_buffer_size()? > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        self.sock().recv_buffer_size()
    }

    /// Sets the size of the system's send buffer, `SO_SNDBUF`, in bytes (Linux
    /// doubles and clamps it, as for
    /// [`set_recv_buffer_size`](Socket::set_recv_buffer_size)).
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_send_buffer_size(64 * 1024)?;
    /// assert!(sock.send_buffer_size()? >= 64 * 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        self.sock().set_send_buffer_size(size)
    }

    /// The size of the system's send buffer, `SO_SNDBUF`, in bytes.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(sock.send_buffer_size()? > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        self.sock().send_buffer_size()
    }

    /// Sets `SO_LINGER`: with `Some(d)`, closing the socket waits up to `d`
    /// (whole seconds) for unsent data to go out, and `Some(Duration::ZERO)`
    /// makes close reset the connection (`RST`) at once; `None`, the default,
    /// closes in the background.
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_linger(Some(Duration::from_secs(5)))?;
    /// assert_eq!(sock.linger()?, Some(Duration::from_secs(5)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.sock().set_linger(linger)
    }

    /// The `SO_LINGER` setting: `None` when off.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert_eq!(sock.linger()?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.sock().linger()
    }

    /// Sets `SO_BROADCAST`: a datagram socket may send to a broadcast address.
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
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.set_broadcast(true)?;
    /// assert!(sock.broadcast()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.sock().set_broadcast(broadcast)
    }

    /// Whether `SO_BROADCAST` is on.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// assert!(!sock.broadcast()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.sock().broadcast()
    }

    /// Sets the time-to-live of outgoing unicast packets: `IP_TTL` on an IPv4
    /// socket, the hop limit `IPV6_UNICAST_HOPS` on an IPv6 one.
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the value (0, or above 255), or the option
    /// (on a Unix socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_ttl(42)?;
    /// assert_eq!(sock.ttl()?, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        match self.family {
            // A Unix socket has no TTL: the system refuses the option.
            Family::Inet | Family::Unix => self.sock().set_ttl(ttl),
            Family::Inet6 => self.sock().set_unicast_hops_v6(ttl),
        }
    }

    /// The time-to-live of outgoing unicast packets (`IP_TTL`, or
    /// `IPV6_UNICAST_HOPS` on an IPv6 socket).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// assert!(sock.ttl()? > 0); // the system's default, often 64
    /// # Ok(())
    /// # }
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        match self.family {
            Family::Inet | Family::Unix => self.sock().ttl(),
            Family::Inet6 => self.sock().unicast_hops_v6(),
        }
    }

    /// Takes the socket's pending error, `SO_ERROR`, clearing it: `None` when
    /// there is none. After a non-blocking `connect`, it tells whether the
    /// connection succeeded once the socket is writable.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option (an error of its own, not the
    /// pending one, which is the `Ok` value).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(sock.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock().take_error()
    }
}
