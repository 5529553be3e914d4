//! [`Peer`]: the address of a server's client, over TCP/UDP or a Unix socket.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr as UnixAddr;
use std::str::FromStr;

use super::conn::ConnId;

/// What the service traits get as the peer of a Unix client: `0.0.0.0:0`.
pub(crate) const NO_ADDRESS: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// Where a client of a server is: an internet address (TCP, UDP), or a Unix
/// socket address (Python gives the path, or `''` for a client that bound
/// none).
///
/// [`ServerEvent`](super::ServerEvent)s carry one. `Display` gives what the
/// `threadkit` program prints: `127.0.0.1:5555`, `[::1]:5555`, `unix:PATH`
/// for a client bound to a path, `unix:@NAME` for a Linux abstract name, and
/// `unix:` for an unnamed client (the usual case; an event shows it with its
/// connection id, `unix:#7`).
///
/// The service traits take a [`SocketAddr`] peer, as the contract of
/// [`LineService::on_connect`](super::LineService::on_connect) and
/// [`RequestHandler::handle`](super::RequestHandler::handle) says; over a Unix
/// socket there is none, and they get [`Peer::socket_addr`]'s `0.0.0.0:0`
/// (Python's `''`). A handler that needs the Unix address asks its socket
/// ([`Socket::getpeername_unix`](crate::socket::Socket::getpeername_unix)).
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use threadkit::server::Peer;
///
/// let addr: SocketAddr = "127.0.0.1:5555".parse().unwrap();
/// let peer = Peer::from(addr);
/// assert_eq!(peer.to_string(), "127.0.0.1:5555");
/// assert_eq!(peer, addr);
/// assert_eq!(peer.socket_addr(), addr);
///
/// let unnamed = std::os::unix::net::UnixDatagram::unbound().unwrap().local_addr().unwrap();
/// let peer = Peer::Unix(Box::new(unnamed));
/// assert_eq!(peer.to_string(), "unix:");
/// assert_eq!(peer.socket_addr(), "0.0.0.0:0".parse::<SocketAddr>().unwrap());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Peer {
    /// An IPv4 or IPv6 address and port.
    Inet(SocketAddr),
    /// A Unix socket address: a path, an abstract name or unnamed (boxed: it
    /// is 110 bytes, and most clients are unnamed).
    Unix(Box<UnixAddr>),
}

impl Peer {
    /// The internet address the service traits are given: the address itself,
    /// or `0.0.0.0:0` for a Unix peer (Python's `''`: no IP address).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::Peer;
    ///
    /// let addr = "[::1]:9000".parse().unwrap();
    /// assert_eq!(Peer::Inet(addr).socket_addr(), addr);
    /// ```
    pub fn socket_addr(&self) -> SocketAddr {
        match self {
            Peer::Inet(addr) => *addr,
            Peer::Unix(_) => NO_ADDRESS,
        }
    }

    /// Whether this is a Unix peer that bound no address (the usual client).
    fn is_unnamed(&self) -> bool {
        matches!(self, Peer::Unix(addr) if addr.is_unnamed())
    }
}

/// A client as logs, events and thread names show it: its [`Peer`], or
/// `unix:#ID` (its connection's id) when it is an unnamed Unix client, so that
/// two of them can be told apart.
pub(crate) struct Client<'a>(pub(crate) &'a Peer, pub(crate) ConnId);

impl fmt::Display for Client<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_unnamed() {
            write!(f, "unix:{}", self.1)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The address type of a server's socket: [`SocketAddr`] for
/// [`TcpServer`](super::TcpServer) and [`UdpServer`](super::UdpServer),
/// [`UnixAddr`](crate::socket::UnixAddr) for
/// [`UnixStreamServer`](super::UnixStreamServer) and
/// [`UnixDatagramServer`](super::UnixDatagramServer). Sealed: the servers
/// know how to bind these two only.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use threadkit::server::{Address, Peer};
///
/// fn show(addr: impl Address) -> String {
///     let peer: Peer = addr.into();
///     peer.to_string()
/// }
/// assert_eq!(show("127.0.0.1:80".parse::<SocketAddr>().unwrap()), "127.0.0.1:80");
/// ```
pub trait Address:
    sealed::Sealed + Clone + fmt::Debug + Into<Peer> + Send + Sync + 'static
{
}

impl Address for SocketAddr {}
impl Address for UnixAddr {}

pub(crate) mod sealed {
    /// What the servers know of their two address types: the names their
    /// `Debug` shows.
    pub trait Sealed {
        /// `TcpServer` or `UnixStreamServer`.
        const STREAM_SERVER: &'static str;
        /// `UdpServer` or `UnixDatagramServer`.
        const DATAGRAM_SERVER: &'static str;
    }

    impl Sealed for std::net::SocketAddr {
        const STREAM_SERVER: &'static str = "TcpServer";
        const DATAGRAM_SERVER: &'static str = "UdpServer";
    }

    impl Sealed for std::os::unix::net::SocketAddr {
        const STREAM_SERVER: &'static str = "UnixStreamServer";
        const DATAGRAM_SERVER: &'static str = "UnixDatagramServer";
    }
}

impl From<SocketAddr> for Peer {
    fn from(addr: SocketAddr) -> Peer {
        Peer::Inet(addr)
    }
}

impl From<UnixAddr> for Peer {
    fn from(addr: UnixAddr) -> Peer {
        Peer::Unix(Box::new(addr))
    }
}

/// Parses what `Display` writes: `HOST:PORT` with an IP address
/// (`127.0.0.1:5555`, `[::1]:5555`), `unix:PATH`, or `unix:@NAME` for an
/// abstract name.
///
/// # Examples
///
/// ```
/// use threadkit::server::Peer;
///
/// let peer: Peer = "127.0.0.1:5555".parse().unwrap();
/// assert_eq!(peer, "127.0.0.1:5555".parse::<std::net::SocketAddr>().unwrap());
/// let path: Peer = "unix:/run/x.sock".parse().unwrap();
/// assert_eq!(path.to_string(), "unix:/run/x.sock");
/// assert!("localhost:80".parse::<Peer>().is_err()); // names are not resolved
/// ```
impl FromStr for Peer {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<Peer> {
        let addr = match s.strip_prefix("unix:") {
            Some("") => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "unix: without a path (an unnamed peer cannot be written down)",
                ))
            }
            Some(name) => match name.strip_prefix('@') {
                Some(name) => UnixAddr::from_abstract_name(name)?,
                None => UnixAddr::from_pathname(name)?,
            },
            None => {
                return s.parse::<SocketAddr>().map(Peer::Inet).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("{s:?}: {e}"))
                })
            }
        };
        Ok(Peer::from(addr))
    }
}

impl PartialEq for Peer {
    /// Internet addresses compare as `SocketAddr`s; Unix ones by path or
    /// abstract name (two unnamed peers are equal: nothing tells them apart).
    fn eq(&self, other: &Peer) -> bool {
        match (self, other) {
            (Peer::Inet(a), Peer::Inet(b)) => a == b,
            (Peer::Unix(a), Peer::Unix(b)) => {
                a.as_pathname() == b.as_pathname() && a.as_abstract_name() == b.as_abstract_name()
            }
            _ => false,
        }
    }
}

impl Eq for Peer {}

impl PartialEq<SocketAddr> for Peer {
    fn eq(&self, other: &SocketAddr) -> bool {
        matches!(self, Peer::Inet(addr) if addr == other)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Inet(addr) => write!(f, "{addr}"),
            Peer::Unix(addr) => {
                if let Some(path) = addr.as_pathname() {
                    write!(f, "unix:{}", path.display())
                } else if let Some(name) = addr.as_abstract_name() {
                    write!(f, "unix:@{}", String::from_utf8_lossy(name))
                } else {
                    f.write_str("unix:")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_peers_show_their_path_or_abstract_name() {
        let path = UnixAddr::from_pathname("/run/x.sock").unwrap();
        assert_eq!(Peer::from(path).to_string(), "unix:/run/x.sock");
        let name = UnixAddr::from_abstract_name(b"tk-test").unwrap();
        assert_eq!(Peer::from(name).to_string(), "unix:@tk-test");
    }

    #[test]
    fn peers_compare_by_address() {
        let a = Peer::from(UnixAddr::from_pathname("/a").unwrap());
        let b = Peer::from(UnixAddr::from_pathname("/b").unwrap());
        assert_eq!(a, a.clone());
        assert_ne!(a, b);
        let inet = Peer::from("127.0.0.1:1".parse::<SocketAddr>().unwrap());
        assert_ne!(a, inet);
        assert!(!a.is_unnamed());
        assert_eq!("unix:@tk".parse::<Peer>().unwrap().to_string(), "unix:@tk");
        assert!("unix:".parse::<Peer>().is_err());
        let unnamed = Peer::from(
            std::os::unix::net::UnixDatagram::unbound()
                .unwrap()
                .local_addr()
                .unwrap(),
        );
        assert_eq!(Client(&unnamed, ConnId::new(7)).to_string(), "unix:#7");
        assert_eq!(Client(&a, ConnId::new(7)).to_string(), "unix:/a");
    }
}
