//! Python's `socket` module: [`Socket`] with Python's calls, options and
//! timeout rules; the module's functions ([`create_connection`],
//! [`create_server`], [`socketpair`], [`getaddrinfo`], [`gethostname`],
//! [`getfqdn`], [`setdefaulttimeout`]...).
//!
//! | Python | threadkit |
//! |---|---|
//! | `socket.socket(AF_INET, SOCK_STREAM)` | [`Socket::new`]`(Family::Inet, Kind::Stream)` |
//! | `socket.socket(AF_UNIX, SOCK_STREAM)`, a path or `"\0name"` as the address | [`Socket::new`]`(Family::Unix, Kind::Stream)`; [`Socket::bind_unix`], [`Socket::connect_unix`], [`Socket::connect_ex_unix`], [`Socket::accept_unix`], [`Socket::getsockname_unix`], [`Socket::getpeername_unix`], [`Socket::recvfrom_unix`], [`Socket::sendto_unix`], with [`UnixAddr`] (below) |
//! | `bind`, `listen`, `accept`, `connect`, `connect_ex` | [`Socket::bind`], [`Socket::listen`], [`Socket::accept`], [`Socket::connect`], [`Socket::connect_ex`] |
//! | `send`, `sendall`, `recv`, `recv_into`, `recv(n, MSG_PEEK)` | [`Socket::send`], [`Socket::sendall`], [`Socket::recv`], [`Socket::recv_into`], [`Socket::peek`] |
//! | `recvfrom`, `recvfrom_into`, `sendto`, `sendfile` | [`Socket::recvfrom`], [`Socket::recvfrom_into`], [`Socket::sendto`], [`Socket::sendfile`] |
//! | `settimeout`, `gettimeout`, `setblocking` | [`Socket::settimeout`], [`Socket::gettimeout`], [`Socket::setblocking`] |
//! | `setdefaulttimeout`, `getdefaulttimeout` | [`setdefaulttimeout`], [`getdefaulttimeout`] |
//! | `getsockname`, `getpeername`, `shutdown`, `close`, `dup` | [`Socket::getsockname`], [`Socket::getpeername`], [`Socket::shutdown`], [`Socket::close`], [`Socket::try_clone`] |
//! | `makefile('rwb')` | [`Socket::makefile`] → [`SocketFile`] (`readline`, [`BufRead`](std::io::BufRead), [`Write`](std::io::Write)); or `BufReader::new(&sock)` |
//! | `SO_REUSEADDR`, `SO_REUSEPORT`, `TCP_NODELAY` | [`Socket::set_reuse_address`], [`Socket::set_reuse_port`], [`Socket::set_nodelay`] (and the getters) |
//! | `SO_KEEPALIVE`, `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT` | [`Socket::set_keepalive`], [`Socket::set_keepalive_idle`], [`Socket::set_keepalive_interval`], [`Socket::set_keepalive_count`] |
//! | `SO_RCVBUF`, `SO_SNDBUF`, `SO_LINGER`, `SO_BROADCAST` | [`Socket::set_recv_buffer_size`], [`Socket::set_send_buffer_size`], [`Socket::set_linger`], [`Socket::set_broadcast`] |
//! | `IP_TTL` (`IPV6_UNICAST_HOPS`), `SO_ERROR` | [`Socket::set_ttl`], [`Socket::take_error`] |
//! | `IP_ADD_MEMBERSHIP`, `IP_DROP_MEMBERSHIP`, `IP_MULTICAST_TTL`, `IP_MULTICAST_LOOP` | [`Socket::join_multicast_v4`], [`Socket::leave_multicast_v4`], [`Socket::set_multicast_ttl_v4`], [`Socket::set_multicast_loop_v4`] |
//! | `IPV6_JOIN_GROUP`, `IPV6_LEAVE_GROUP`, `IPV6_MULTICAST_HOPS`, `IPV6_MULTICAST_LOOP` | [`Socket::join_multicast_v6`], [`Socket::leave_multicast_v6`], [`Socket::set_multicast_hops_v6`], [`Socket::set_multicast_loop_v6`] |
//! | any other `setsockopt` / `getsockopt` | [`socket2::SockRef::from(&sock)`](socket2::SockRef), below |
//! | `create_connection(addr, timeout, source_address)` | [`create_connection`], [`create_connection_with`] with [`ConnectOptions`] |
//! | `create_server`, `has_dualstack_ipv6` | [`create_server`], [`create_server_with`], [`has_dualstack_ipv6`] |
//! | `socketpair()` (`AF_UNIX`) | [`socketpair`] |
//! | `getaddrinfo`, `gethostname`, `getfqdn` | [`getaddrinfo`], [`getaddrinfo_with`] ([`AddrInfo`], [`AddrInfoHints`]), [`gethostname`], [`getfqdn`] |
//!
//! Each option has a setter and a getter of the same name (`set_linger` /
//! `linger`), set before the call it matters for (`bind`, `connect`).
//!
//! # Any other option: `socket2::SockRef`
//!
//! The typed options are socket2's; socket2 has many more (`TCP_USER_TIMEOUT`,
//! `IP_TOS`, `SO_MARK`, `TCP_CORK`, binding to a device...). A [`Socket`] is an
//! [`AsFd`](std::os::fd::AsFd), so `socket2::SockRef::from(&sock)` borrows it
//! as a socket2 socket, with no copy and no second owner (add `socket2` with
//! its `all` feature to your `Cargo.toml`):
//!
//! ```
//! use threadkit::socket::{Family, Kind, Socket};
//! use std::time::Duration;
//!
//! # fn main() -> std::io::Result<()> {
//! let sock = Socket::new(Family::Inet, Kind::Stream)?;
//! let raw = socket2::SockRef::from(&sock);
//! raw.set_tcp_user_timeout(Some(Duration::from_secs(30)))?;
//! assert_eq!(raw.tcp_user_timeout()?, Some(Duration::from_secs(30)));
//! # Ok(())
//! # }
//! ```
//!
//! Change the blocking mode or the timeouts only through [`Socket::settimeout`]:
//! the socket keeps its timeout mode itself, as Python does.
//!
//! # Timeouts, as in Python
//!
//! A socket is in one of three modes, set by [`Socket::settimeout`]:
//!
//! - `None`, blocking (the default): calls wait as long as it takes;
//! - `Some(d)` with `d > 0`: a call that waits longer than `d` fails with
//!   [`TimedOut`](std::io::ErrorKind::TimedOut) (Python's `TimeoutError`). The
//!   timeout bounds each call (for [`Socket::sendall`], see there), and applies to
//!   `accept` and `connect` too;
//! - `Some(Duration::ZERO)`, non-blocking: a call that would wait fails at once
//!   with [`WouldBlock`](std::io::ErrorKind::WouldBlock) (Python's `BlockingIOError`).
//!
//! # Waking a blocked call
//!
//! On Linux, closing (or dropping) a socket in one thread does **not** wake another
//! thread blocked in `recv` or `accept` on it. [`Socket::shutdown`] does: after
//! `shutdown(Shutdown::Read)` (or `Both`), a blocked `recv` returns an empty
//! `Vec` and a blocked `accept` fails. Every stop path in threadkit uses `shutdown`.
//!
//! # Unix-domain sockets
//!
//! A [`Family::Unix`] socket is addressed by a path, or on Linux by an
//! abstract name (a path whose first byte is NUL). Python's calls take either
//! kind of address; Rust's addresses are typed, and [`Socket::bind`] takes any
//! [`ToSocketAddrs`](std::net::ToSocketAddrs), which a path is not, so each
//! address call has a `_unix` variant that takes a path or returns a
//! [`UnixAddr`]. An internet call on a Unix socket, or a `_unix` call on an
//! internet socket, fails with `InvalidInput`, naming the call to use. All the
//! other calls (`send`, `recv`, `makefile`, `peek`, `try_clone`, `sendfile`,
//! the timeouts) work on both.
//!
//! ```
//! use threadkit::socket::{Family, Kind, Socket};
//!
//! # fn main() -> std::io::Result<()> {
//! let dir = std::env::temp_dir().join(format!("threadkit-doc-unix-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("echo.sock");
//! let server = Socket::new(Family::Unix, Kind::Stream)?;
//! server.bind_unix(&path)?;
//! server.listen(5)?;
//! let client = Socket::new(Family::Unix, Kind::Stream)?;
//! client.connect_unix(&path)?;
//! let (conn, _peer) = server.accept_unix()?;
//! client.sendall(b"hello")?;
//! conn.sendall(&conn.recv(1024)?)?;
//! assert_eq!(client.recv(1024)?, b"hello");
//! std::fs::remove_dir_all(&dir)?; // the socket file stays until removed
//! # Ok(())
//! # }
//! ```
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

mod address;
mod convert;
mod create;
mod family;
mod io;
mod keepalive;
mod makefile;
mod multicast;
mod options;
mod pair;
mod resolve;
// The `Socket` type lives in a file named after it, as every public type does.
#[allow(clippy::module_inception)]
mod socket;
mod timeout;
mod unix;

pub(crate) use address::family_of;
pub use create::{
    create_connection, create_connection_with, create_server, create_server_with, ConnectOptions,
    ServerOptions,
};
pub use family::{Family, Kind};
pub use makefile::SocketFile;
pub use pair::socketpair;
pub use resolve::{
    getaddrinfo, getaddrinfo_with, getfqdn, gethostname, has_dualstack_ipv6, AddrInfo,
    AddrInfoHints,
};
pub use socket::Socket;
pub use timeout::{getdefaulttimeout, setdefaulttimeout};

/// The address of a Unix-domain socket: a path, a Linux abstract name, or
/// unnamed (a socket that did not bind), as [`Socket::accept_unix`],
/// [`Socket::getsockname_unix`], [`Socket::getpeername_unix`] and
/// [`Socket::recvfrom_unix`] return it. It is `std`'s own type, so it is what
/// [`std::os::unix::net::UnixStream::peer_addr`] returns too; read it with
/// [`as_pathname`](UnixAddr::as_pathname), [`is_unnamed`](UnixAddr::is_unnamed)
/// or, for an abstract name,
/// [`as_abstract_name`](std::os::linux::net::SocketAddrExt::as_abstract_name).
///
/// # Examples
///
/// ```
/// use std::os::linux::net::SocketAddrExt;
/// use threadkit::socket::{Family, Kind, Socket, UnixAddr};
///
/// # fn main() -> std::io::Result<()> {
/// let sock = Socket::new(Family::Unix, Kind::Datagram)?;
/// let name = format!("\0threadkit-doc-unixaddr-{}", std::process::id());
/// sock.bind_unix(&name)?;
/// let addr: UnixAddr = sock.getsockname_unix()?;
/// assert_eq!(addr.as_abstract_name(), Some(&name.as_bytes()[1..]));
/// assert!(addr.as_pathname().is_none());
/// # Ok(())
/// # }
/// ```
pub use std::os::unix::net::SocketAddr as UnixAddr;
