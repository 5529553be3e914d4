//! The TCP server's constructors: [`TcpServer::bind`] and
//! [`TcpServer::bind_without_activate`] take a `HOST:PORT`.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{check, StreamServer, TcpServer};
use crate::server::bind::bind_first;
use crate::server::config::ServerConfig;
use crate::server::service::Service;
use crate::socket::Kind;

impl StreamServer<SocketAddr> {
    /// Binds a listening socket to `addr` (each resolved address in turn until
    /// one binds) with `config.reuse_address` and `config.backlog`, ready to
    /// serve `service`; logs `listening on ADDR`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `config.model` cannot run `service` or is not a
    /// model this server runs, or `addr` resolves to nothing; for
    /// `ServerConfig::tls` (feature `tls`), `InvalidInput` with a
    /// `RequestHandler`; a bind error names
    /// the address (`AddrInUse`, `AddrNotAvailable`, `PermissionDenied`); any
    /// other system error while creating or listening.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use threadkit::server::{ChatRoom, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), ChatRoom::new())?;
    /// let taken = server.local_addr();
    /// let err = TcpServer::bind(taken, ServerConfig { reuse_address: false, ..Default::default() },
    ///                           ChatRoom::new()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::AddrInUse);
    /// assert!(err.to_string().contains(&taken.to_string()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        service: impl Into<Service>,
    ) -> io::Result<TcpServer> {
        let server = TcpServer::bind_without_activate(addr, config, service)?;
        server.server_activate()?;
        Ok(server)
    }

    /// Binds as [`bind`](TcpServer::bind) does, without listening yet
    /// (Python's `bind_and_activate=False`, then `server_bind()`): options can
    /// be set on [`socket()`](TcpServer::socket) before
    /// [`server_activate`](TcpServer::server_activate) listens; clients are
    /// refused until then.
    ///
    /// # Errors
    ///
    /// As [`bind`](TcpServer::bind).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpStream;
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind_without_activate("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// assert!(TcpStream::connect(server.local_addr()).is_err()); // not listening yet
    /// server.socket().set_recv_buffer_size(256 * 1024)?;
    /// server.server_activate()?;
    /// assert!(TcpStream::connect(server.local_addr()).is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_without_activate(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        service: impl Into<Service>,
    ) -> io::Result<TcpServer> {
        let service = service.into();
        check(&config, &service)?;
        let listener = bind_first(addr, Kind::Stream, &config)?;
        let local = listener.getsockname()?;
        StreamServer::new(listener, local, None, config, service)
    }
}
