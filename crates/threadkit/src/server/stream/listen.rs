//! Accepting a client of a [`TcpServer`](super::TcpServer), and which
//! `accept` errors are only one connection's.

use std::io;

use crate::server::peer::Peer;
use crate::socket::{Family, Socket};

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

/// Accepts one client of `listener`, with its address as a [`Peer`].
pub(super) fn accept(listener: &Socket) -> io::Result<(Socket, Peer)> {
    if listener.family() == Family::Unix {
        let (sock, addr) = listener.accept_unix()?;
        Ok((sock, addr.into()))
    } else {
        let (sock, addr) = listener.accept()?;
        Ok((sock, addr.into()))
    }
}
