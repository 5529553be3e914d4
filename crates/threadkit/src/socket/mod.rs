//! Python's `socket` module: [`Socket`] with Python's calls and timeout rules, and
//! [`create_connection`], [`create_server`] and [`create_server_with`].
//!
//! | Python | threadkit |
//! |---|---|
//! | `socket.socket(AF_INET, SOCK_STREAM)` | [`Socket::new`]`(Family::Inet, Kind::Stream)` |
//! | `bind`, `listen`, `accept`, `connect` | [`Socket::bind`], [`Socket::listen`], [`Socket::accept`], [`Socket::connect`] |
//! | `send`, `sendall`, `recv`, `recv_into` | [`Socket::send`], [`Socket::sendall`], [`Socket::recv`], [`Socket::recv_into`] |
//! | `recvfrom`, `sendto` | [`Socket::recvfrom`], [`Socket::sendto`] |
//! | `settimeout`, `gettimeout`, `setblocking` | [`Socket::settimeout`], [`Socket::gettimeout`], [`Socket::setblocking`] |
//! | `getsockname`, `getpeername`, `shutdown`, `close` | [`Socket::getsockname`], [`Socket::getpeername`], [`Socket::shutdown`], [`Socket::close`] |
//! | `makefile('r')` | `BufReader::new(&sock)` ([`Read`](std::io::Read) and [`Write`](std::io::Write) on `&Socket`) |
//! | `create_connection`, `create_server` | [`create_connection`], [`create_server`], [`create_server_with`] |
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
