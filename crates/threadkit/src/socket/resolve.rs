//! Names and addresses: Python's `gethostname`, `getaddrinfo`, `getfqdn` and
//! `has_dualstack_ipv6`, over the system's resolver (through the `dns-lookup`
//! crate, so that the `unsafe` calls stay out of this crate).

use std::io;
use std::net::{IpAddr, SocketAddr};

use super::{Family, Kind, Socket};

/// One answer of [`getaddrinfo`]: Python's 5-tuple `(family, type, proto,
/// canonname, sockaddr)`.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, Kind};
///
/// # fn main() -> std::io::Result<()> {
/// for info in socket::getaddrinfo("localhost", 80)? {
///     if info.kind == Kind::Stream {
///         println!("{:?} {}", info.family, info.sockaddr);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddrInfo {
    /// The address family (`AF_INET`, `AF_INET6`).
    pub family: Family,
    /// The socket type the address is for.
    pub kind: Kind,
    /// The protocol number (`IPPROTO_TCP` = 6, `IPPROTO_UDP` = 17).
    pub proto: i32,
    /// The host's canonical name, in the first answer only and only when
    /// [`AddrInfoHints::canonname`] asked for it (Python's `''` otherwise).
    pub canonname: Option<String>,
    /// The address, with the port asked for; what [`Socket::bind`] and
    /// [`Socket::connect`] take.
    pub sockaddr: SocketAddr,
}

/// What [`getaddrinfo_with`] asks for: Python's `family`, `type` and `flags`
/// arguments of `socket.getaddrinfo`. `AddrInfoHints::default()` asks for every
/// family and type, with no flag, as Python's defaults do.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, AddrInfoHints, Family, Kind};
///
/// # fn main() -> std::io::Result<()> {
/// let hints = AddrInfoHints { family: Some(Family::Inet), kind: Some(Kind::Stream), ..Default::default() };
/// let infos = socket::getaddrinfo_with("127.0.0.1", 8080, &hints)?;
/// assert_eq!(infos[0].sockaddr, "127.0.0.1:8080".parse().unwrap());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrInfoHints {
    /// Only this family (`family=AF_INET`); `None` for any (`AF_UNSPEC`).
    pub family: Option<Family>,
    /// Only this socket type (`type=SOCK_STREAM`); `None` for any.
    pub kind: Option<Kind>,
    /// `AI_PASSIVE`: with no host, answer the wildcard address (to bind a
    /// server) instead of the loopback.
    pub passive: bool,
    /// `AI_CANONNAME`: fill in [`AddrInfo::canonname`].
    pub canonname: bool,
    /// `AI_NUMERICHOST`: the host must be a numeric address; never ask the
    /// resolver.
    pub numeric_host: bool,
}

/// Resolves `host` and `port` to the addresses to bind or connect to, in the
/// resolver's order of preference (Python's `socket.getaddrinfo(host, port)`).
///
/// `host` is a name or a numeric address; `None` means this host: the loopback
/// addresses (the wildcard ones with [`AddrInfoHints::passive`]). Every family
/// and socket type is answered; use [`getaddrinfo_with`] to choose. Answers for
/// socket types threadkit has no [`Kind`] for (`SOCK_RAW`) are left out.
///
/// # Errors
///
/// The resolver's error when the name is unknown (Python's `gaierror`, with
/// its message: "Name or service not known"), or when resolving fails.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let infos = socket::getaddrinfo("localhost", 80)?;
/// assert!(infos.iter().all(|i| i.sockaddr.ip().is_loopback() && i.sockaddr.port() == 80));
/// # Ok(())
/// # }
/// ```
pub fn getaddrinfo<'a>(host: impl Into<Option<&'a str>>, port: u16) -> io::Result<Vec<AddrInfo>> {
    getaddrinfo_with(host, port, &AddrInfoHints::default())
}

/// [`getaddrinfo`] with Python's `family`, `type` and `flags` arguments, as
/// [`AddrInfoHints`].
///
/// # Errors
///
/// As [`getaddrinfo`]; with [`AddrInfoHints::numeric_host`], a host that is not
/// a numeric address; with `family: Some(Family::Unix)`, always (the system's
/// "ai_family not supported", as in Python).
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, AddrInfoHints, Kind};
///
/// # fn main() -> std::io::Result<()> {
/// let hints = AddrInfoHints { kind: Some(Kind::Stream), passive: true, ..Default::default() };
/// let wildcard = socket::getaddrinfo_with(None, 8080, &hints)?;
/// assert!(wildcard.iter().all(|i| i.sockaddr.ip().is_unspecified()));
/// # Ok(())
/// # }
/// ```
pub fn getaddrinfo_with<'a>(
    host: impl Into<Option<&'a str>>,
    port: u16,
    hints: &AddrInfoHints,
) -> io::Result<Vec<AddrInfo>> {
    // The port is always numeric, so the services database is never read.
    let mut flags = libc::AI_NUMERICSERV;
    for (on, flag) in [
        (hints.passive, libc::AI_PASSIVE),
        (hints.canonname, libc::AI_CANONNAME),
        (hints.numeric_host, libc::AI_NUMERICHOST),
    ] {
        if on {
            flags |= flag;
        }
    }
    let c_hints = dns_lookup::AddrInfoHints {
        flags,
        address: match hints.family {
            None => libc::AF_UNSPEC,
            Some(Family::Inet) => libc::AF_INET,
            Some(Family::Inet6) => libc::AF_INET6,
            // The system has no Unix addresses to look up: it fails.
            Some(Family::Unix) => libc::AF_UNIX,
        },
        socktype: match hints.kind {
            None => 0,
            Some(Kind::Stream) => libc::SOCK_STREAM,
            Some(Kind::Datagram) => libc::SOCK_DGRAM,
        },
        protocol: 0,
    };
    let port = port.to_string();
    let mut infos = Vec::new();
    for info in dns_lookup::getaddrinfo(host.into(), Some(&port), Some(c_hints))? {
        let info = info?;
        let kind = match info.socktype {
            libc::SOCK_STREAM => Kind::Stream,
            libc::SOCK_DGRAM => Kind::Datagram,
            _ => continue,
        };
        infos.push(AddrInfo {
            family: super::address::family_of(&info.sockaddr),
            kind,
            proto: info.protocol,
            canonname: info.canonname,
            sockaddr: info.sockaddr,
        });
    }
    Ok(infos)
}

/// This host's name (Python's `socket.gethostname()`).
///
/// # Errors
///
/// Fails when the system cannot tell, or the name is not UTF-8.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let name = socket::gethostname()?;
/// assert!(!name.is_empty());
/// # Ok(())
/// # }
/// ```
pub fn gethostname() -> io::Result<String> {
    dns_lookup::get_hostname()
}

/// A fully qualified domain name for `name` (Python's `socket.getfqdn(name)`):
/// `name` is resolved to an address, and the name the resolver gives back for
/// that address (its reverse lookup, `/etc/hosts` first) is returned. An empty
/// `name` (or `0.0.0.0`, `::`) means this host, [`gethostname`]; a name that
/// does not resolve comes back as given.
///
/// Python also searches the host's aliases for a name with a dot; the
/// system's `getnameinfo` used here gives the primary name only.
///
/// # Errors
///
/// Only when `name` is empty and [`gethostname`] fails; a failed lookup is not
/// an error (Python's `getfqdn` never raises for one).
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// println!("this host is {}", socket::getfqdn("")?);
/// println!("127.0.0.1 is {}", socket::getfqdn("127.0.0.1")?); // "localhost"
/// # Ok(())
/// # }
/// ```
pub fn getfqdn(name: &str) -> io::Result<String> {
    let name = name.trim();
    let name = if name.is_empty() || name == "0.0.0.0" || name == "::" {
        gethostname()?
    } else {
        name.to_owned()
    };
    let ip = match name.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => getaddrinfo(name.as_str(), 0)
            .ok()
            .and_then(|infos| infos.first().map(|i| i.sockaddr.ip())),
    };
    let reverse = ip.and_then(|ip| {
        dns_lookup::getnameinfo(&SocketAddr::new(ip, 0), libc::NI_NAMEREQD)
            .ok()
            .map(|(host, _service)| host)
    });
    Ok(reverse.unwrap_or(name))
}

/// Whether this host can run a server that accepts IPv4 and IPv6 clients on one
/// IPv6 socket (Python's `socket.has_dualstack_ipv6()`): the system has IPv6
/// and lets `IPV6_V6ONLY` be turned off. See
/// [`ServerOptions::dual_stack`](super::ServerOptions::dual_stack).
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, ServerOptions};
///
/// # fn main() -> std::io::Result<()> {
/// let (addr, dual_stack) = if socket::has_dualstack_ipv6() {
///     ("[::1]:0", true)
/// } else {
///     ("127.0.0.1:0", false)
/// };
/// let server = socket::create_server_with(addr, &ServerOptions { dual_stack, ..Default::default() })?;
/// # drop(server);
/// # Ok(())
/// # }
/// ```
pub fn has_dualstack_ipv6() -> bool {
    Socket::new(Family::Inet6, Kind::Stream)
        .and_then(|s| s.sock().set_only_v6(false))
        .is_ok()
}
