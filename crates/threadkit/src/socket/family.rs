//! The address families and socket types a [`Socket`](super::Socket) is created with.

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
