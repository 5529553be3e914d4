//! Python's convenience constructors: `create_connection`, `create_server`.

use std::io;
use std::net::ToSocketAddrs;
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
