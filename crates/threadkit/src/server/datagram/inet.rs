//! The UDP server's constructor: [`UdpServer::bind`] takes a `HOST:PORT`.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{check, DatagramHandler, DatagramServer, UdpServer};
use crate::server::bind::bind_first;
use crate::server::config::ServerConfig;
use crate::socket::Kind;

impl DatagramServer<SocketAddr> {
    /// Binds a UDP socket to `addr` (each resolved address in turn until one
    /// binds), with `config.reuse_address`, ready to serve `handler`; logs
    /// `listening on ADDR`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `config.model` is not one this server runs,
    /// `config.tls` is set (feature `tls`), or `addr` resolves to nothing; a bind error names the address; any other
    /// system error.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handler: impl DatagramHandler,
    ) -> io::Result<UdpServer> {
        check(&config)?;
        let sock = bind_first(addr, Kind::Datagram, &config)?;
        let local = sock.getsockname()?;
        Ok(DatagramServer::new(sock, local, None, config, handler))
    }
}
