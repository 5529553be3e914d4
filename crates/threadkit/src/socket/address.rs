//! Addresses: resolving what a caller gives to the socket's family, and
//! converting the system's addresses to `std`'s.

use std::io;
use std::net::{SocketAddr, SocketAddrV6, ToSocketAddrs};

use socket2::SockAddr;

use super::{Family, Socket};

impl Socket {
    /// Resolves `addr` to the addresses usable with this socket's family, in
    /// order; IPv4 addresses become IPv4-mapped ones for an IPv6 socket. On a
    /// Unix socket it fails, naming the `_unix` variant of `call` to use.
    pub(super) fn resolve(
        &self,
        addr: impl ToSocketAddrs,
        call: &str,
    ) -> io::Result<Vec<SocketAddr>> {
        let v6 = match self.family {
            Family::Inet => false,
            Family::Inet6 => true,
            Family::Unix => return Err(self.wrong_family(call, &format!("{call}_unix"))),
        };
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()?
            .filter_map(|a| match (v6, a) {
                (false, SocketAddr::V4(_)) | (true, SocketAddr::V6(_)) => Some(a),
                (true, SocketAddr::V4(v4)) => Some(SocketAddr::V6(SocketAddrV6::new(
                    v4.ip().to_ipv6_mapped(),
                    v4.port(),
                    0,
                    0,
                ))),
                (false, SocketAddr::V6(_)) => None,
            })
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                if v6 {
                    "no ipv6 address to use"
                } else {
                    "no ipv4 address to use"
                },
            ));
        }
        Ok(addrs)
    }
}

/// The family of an internet address.
pub(crate) fn family_of(addr: &SocketAddr) -> Family {
    match addr {
        SocketAddr::V4(_) => Family::Inet,
        SocketAddr::V6(_) => Family::Inet6,
    }
}

/// socket2's address as `std`'s; an address outside the internet families is an error.
pub(super) fn to_std_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an internet address"))
}
