//! Python's convenience constructors: `create_connection`, `create_server`.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::address::family_of;
use super::{Kind, Socket};

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

/// Python's `listen()` default backlog: `min(SOMAXCONN, 128)`.
const DEFAULT_BACKLOG: i32 = 128;

/// Options for [`create_connection_with`]: Python's `timeout` and
/// `source_address` arguments of `socket.create_connection`.
///
/// `ConnectOptions::default()` blocks (no timeout) and lets the system choose
/// the local address.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, ConnectOptions};
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// let server = socket::create_server("127.0.0.1:0")?;
/// let opts = ConnectOptions {
///     timeout: Some(Duration::from_secs(5)),
///     source_address: Some("127.0.0.1:0".parse().unwrap()),
/// };
/// let client = socket::create_connection_with(server.getsockname()?, &opts)?;
/// assert!(client.getsockname()?.ip().is_loopback());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The timeout set on the socket before connecting; it stays set, as in
    /// Python. `None` blocks.
    pub timeout: Option<Duration>,
    /// The local address to bind before connecting (Python's
    /// `source_address=(host, port)`); port 0 lets the system choose the port.
    pub source_address: Option<SocketAddr>,
}

/// Connects to `addr`, trying each resolved address in turn, with `timeout` set
/// on the socket before connecting (Python's `socket.create_connection`).
///
/// The timeout stays set on the returned socket, as in Python: later `recv` and
/// `send` calls time out too. `None` leaves the socket blocking. Same as
/// [`create_connection_with`] with only the timeout.
///
/// # Errors
///
/// As [`create_connection_with`].
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
    create_connection_with(
        addr,
        &ConnectOptions {
            timeout,
            ..ConnectOptions::default()
        },
    )
}

/// Connects to `addr` as [`create_connection`] does, binding
/// `options.source_address` first when given (Python's
/// `socket.create_connection(address, timeout, source_address)`).
///
/// Each resolved address is tried in turn, each with a new socket of its
/// family; the first that connects is returned.
///
/// # Errors
///
/// When one address was tried, its error as the system gave it
/// (`ConnectionRefused`, `TimedOut`, a bind error for the source address).
/// When several were, one error naming every address with its error (Python's
/// `all_errors=True`, as one message), of the last one's kind.
/// `InvalidInput` when `addr` resolves to nothing.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, ConnectOptions};
/// use std::net::SocketAddr;
///
/// # fn main() -> std::io::Result<()> {
/// let closed: Vec<SocketAddr> = (0..2)
///     .map(|_| socket::create_server("127.0.0.1:0").and_then(|s| s.getsockname()))
///     .collect::<Result<_, _>>()?; // their listeners are closed again
/// let err = socket::create_connection_with(&closed[..], &ConnectOptions::default()).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
/// assert!(err.to_string().contains(&closed[0].to_string()));
/// assert!(err.to_string().contains(&closed[1].to_string()));
/// # Ok(())
/// # }
/// ```
pub fn create_connection_with(
    addr: impl ToSocketAddrs,
    options: &ConnectOptions,
) -> io::Result<Socket> {
    let mut errors = Vec::new();
    for addr in addr.to_socket_addrs()? {
        let attempt = (|| {
            let sock = Socket::new(family_of(&addr), Kind::Stream)?;
            sock.settimeout(options.timeout)?;
            if let Some(source) = options.source_address {
                sock.bind(source)?;
            }
            sock.connect(addr)?;
            Ok(sock)
        })();
        match attempt {
            Ok(sock) => return Ok(sock),
            Err(e) => errors.push((addr, e)),
        }
    }
    Err(all_errors(errors))
}

/// The error of a failed `create_connection`: the only one as it is, or every
/// address's error in one message, of the last one's kind.
fn all_errors(mut errors: Vec<(SocketAddr, io::Error)>) -> io::Error {
    match errors.len() {
        0 => io::Error::new(
            io::ErrorKind::InvalidInput,
            "getaddrinfo returns an empty list",
        ),
        1 => errors.pop().map(|(_, e)| e).expect("one error"),
        _ => {
            let kind = errors
                .last()
                .map_or(io::ErrorKind::Other, |(_, e)| e.kind());
            let each: Vec<String> = errors.iter().map(|(a, e)| format!("{a}: {e}")).collect();
            io::Error::new(
                kind,
                format!("create_connection failed: {}", each.join("; ")),
            )
        }
    }
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
