//! Binding a server's socket, the same for TCP and UDP: the configured
//! options, then each resolved address in turn until one binds.

use std::io;
use std::net::ToSocketAddrs;

use super::config::ServerConfig;
use crate::socket::{family_of, Kind, Socket};

/// A socket of `kind` bound (a stream not listening yet) to the first address
/// of `addr` that binds, with `config.reuse_address` and
/// `config.allow_reuse_port`; a bind error names the address.
pub(crate) fn bind_first(
    addr: impl ToSocketAddrs,
    kind: Kind,
    config: &ServerConfig,
) -> io::Result<Socket> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let attempt = (|| {
            let sock = Socket::new(family_of(&addr), kind)?;
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
