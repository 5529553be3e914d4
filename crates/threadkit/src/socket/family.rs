//! The address families and socket types a [`Socket`](super::Socket) is created with.

/// An address family: Python's `AF_INET`, `AF_INET6` and `AF_UNIX`.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
/// assert_eq!(sock.family(), Family::Inet);
/// let local = Socket::new(Family::Unix, Kind::Stream)?;
/// assert_eq!(local.family(), Family::Unix);
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
    /// Unix-domain sockets (`AF_UNIX`), local to the machine: addressed by a
    /// path in the file system, or on Linux by an abstract name (a path whose
    /// first byte is NUL, `"\0name"`). Such a socket takes the `_unix` calls
    /// ([`bind_unix`](super::Socket::bind_unix),
    /// [`connect_unix`](super::Socket::connect_unix),
    /// [`accept_unix`](super::Socket::accept_unix)...), whose addresses are
    /// [`UnixAddr`](super::UnixAddr)s.
    Unix,
}

/// A socket type: Python's `SOCK_STREAM` (TCP, or a Unix-domain stream) and
/// `SOCK_DGRAM` (UDP, or Unix-domain datagrams).
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
    /// A stream (`SOCK_STREAM`): TCP for the internet families.
    Stream,
    /// Datagrams (`SOCK_DGRAM`): UDP for the internet families; on a Unix
    /// socket they are reliable and keep their order.
    Datagram,
}
