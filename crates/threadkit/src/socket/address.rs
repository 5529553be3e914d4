//! Addresses: resolving what a caller gives to the socket's family, and
//! converting the system's addresses to `std`'s.

use std::io;
use std::net::{SocketAddr, SocketAddrV6, ToSocketAddrs};

use socket2::SockAddr;

use super::{Family, Socket};

impl Socket {
    /// Resolves `addr` to the addresses usable with this socket's family, in
    /// order; IPv4 addresses become IPv4-mapped ones for an IPv6 socket.
    pub(super) fn resolve(&self, addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()?
            .filter_map(|a| match (self.family, a) {
                (Family::Inet, SocketAddr::V4(_)) | (Family::Inet6, SocketAddr::V6(_)) => Some(a),
                (Family::Inet6, SocketAddr::V4(v4)) => Some(SocketAddr::V6(SocketAddrV6::new(
                    v4.ip().to_ipv6_mapped(),
                    v4.port(),
                    0,
                    0,
                ))),
                (Family::Inet, SocketAddr::V6(_)) => None,
            })
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                match self.family {
                    Family::Inet => "no ipv4 address to use",
                    Family::Inet6 => "no ipv6 address to use",
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
