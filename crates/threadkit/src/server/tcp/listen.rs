//! The socket of a [`TcpServer`](super::TcpServer), and which
//! `accept` errors are only one connection's.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::server::config::ServerConfig;
use crate::socket::{Family, Kind, Socket};

/// A socket bound (not listening yet) to the first address of `addr` that
/// binds.
pub(super) fn bind_socket(addr: impl ToSocketAddrs, config: &ServerConfig) -> io::Result<Socket> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let family = match addr {
            SocketAddr::V4(_) => Family::Inet,
            SocketAddr::V6(_) => Family::Inet6,
        };
        let attempt = (|| {
            let sock = Socket::new(family, Kind::Stream)?;
            // The server's own loop blocks: `setdefaulttimeout` is for the
            // program's sockets (the accepted ones get it, as in Python).
            sock.settimeout(None)?;
            if config.reuse_address {
                sock.set_reuse_address(true)?;
            }
            if config.allow_reuse_port {
                sock.set_reuse_port(true)?;
            }
            sock.bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
            Ok(sock)
        })();
        match attempt {
            Ok(sock) => return Ok(sock),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")))
}

/// Errors of one connection that `accept` reports: try the next at once.
pub(super) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        e.raw_os_error(),
        Some(
            libc::EPROTO
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
        )
    )
}
