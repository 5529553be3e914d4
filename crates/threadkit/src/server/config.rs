//! [`ServerConfig`] and [`Model`]: how a server runs and the limits it enforces.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::hooks::{RequestFilter, ServiceActions};
use super::service::Service;
#[cfg(feature = "tls")]
use super::service::ServiceKind;
use crate::socket::Socket;
use crate::wire::Wire;

/// How a server runs its connections.
///
/// # Examples
///
/// ```
/// use threadkit::server::{Model, ServerConfig};
///
/// assert_eq!(ServerConfig::default().model, Model::ThreadPerConnection);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Model {
    /// One thread per client, as Python's `ThreadingMixIn` (the default).
    #[default]
    ThreadPerConnection,
    /// One client at a time on the serving thread, as Python's plain `TCPServer`.
    Synchronous,
    /// A few threads multiplexing many non-blocking connections: one `mio`
    /// event loop per worker thread ([`ServerConfig::workers`], one per core by
    /// default), the thread that calls `serve_forever` accepting and handing
    /// each client to a worker in turn. What `threadkit serve` runs.
    ///
    /// It runs every [`LineService`](super::LineService) with the same limits,
    /// notices, events and shutdown as the thread-per-connection model (see
    /// [`server`](super) "The scalable model"), at a few hundred bytes per idle
    /// connection instead of a thread. It cannot run a
    /// [`RequestHandler`](super::RequestHandler), which needs a thread of its
    /// own: [`TcpServer::bind`](super::TcpServer::bind) fails with
    /// `InvalidInput`. [`UdpServer`](super::UdpServer) does not run it either
    /// (see there why).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, Model, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = ServerConfig { model: Model::Scalable, workers: 2, ..Default::default() };
    /// let server = TcpServer::bind("127.0.0.1:0", config, Echo)?;
    /// assert_eq!(server.config().model, Model::Scalable);
    /// # Ok(())
    /// # }
    /// ```
    Scalable,
}

/// A server's settings, limits and hooks, with Python-like defaults; build one
/// with struct update syntax.
///
/// The limits apply to line services in every model; a
/// [`RequestHandler`](super::RequestHandler) owns its socket, so only
/// `max_clients`, `backlog`, `reuse_address` and the thread settings apply to it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::server::ServerConfig;
///
/// let config = ServerConfig {
///     max_clients: 100,
///     idle_timeout: Some(Duration::from_secs(30)),
///     ..ServerConfig::default()
/// };
/// assert_eq!(config.max_line, 65_536);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// How connections are run. Default: [`Model::ThreadPerConnection`].
    pub model: Model,
    /// The most clients served at once; one more gets `* error: server full` and
    /// is closed at once. Default: 1,024.
    pub max_clients: usize,
    /// A client that sends no complete line for this long gets `* idle
    /// timeout` and is closed; `None`, zero, or more than
    /// [`TIMEOUT_MAX`](crate::threading::TIMEOUT_MAX): never. Default: 300 s.
    pub idle_timeout: Option<Duration>,
    /// The `listen` backlog. Default: 1,024.
    pub backlog: i32,
    /// Set `SO_REUSEADDR` before binding (Python's `allow_reuse_address`).
    /// Default: true.
    pub reuse_address: bool,
    /// Set `SO_REUSEPORT` before binding (Python's `allow_reuse_port`): several
    /// sockets may then listen on one port, the kernel spreading clients over
    /// them. Default: false.
    pub allow_reuse_port: bool,
    /// Python's `verify_request`: clients it refuses are closed at once
    /// (`refused`), datagrams it refuses dropped. Default: `None`, every
    /// client is served.
    pub verify_request: Option<RequestFilter>,
    /// Python's `service_actions`: run by `serve_forever` between waits.
    /// Default: `None`.
    pub service_actions: Option<ServiceActions>,
    /// Make connection threads daemon threads (Python's `daemon_threads`), so
    /// they do not hold the process at exit. Default: false.
    pub daemon_threads: bool,
    /// `server_close` joins the connection threads (Python's `block_on_close`).
    /// Default: true.
    pub block_on_close: bool,
    /// The stack size of connection threads; `None`: threadkit's default.
    pub handler_stack_size: Option<usize>,
    /// The longest line accepted, in bytes before the `\n`; a longer one gets
    /// `* error: line too long (max N bytes)` and the connection closes. Default:
    /// 65,536.
    pub max_line: usize,
    /// The most unsent output bytes queued for one client: past it, the server
    /// stops reading that client (echo) or drops it (chat). Default: 1 MiB.
    pub max_queue: usize,
    /// Worker threads of [`Model::Scalable`], and the size of a `UdpServer`'s
    /// handler pool; 0: one per core (`std::thread::available_parallelism`; at
    /// least 2 for the UDP pool). Default: 0.
    pub workers: usize,
    /// The scalable model's busy polling: a worker whose last wait for events
    /// was no longer than this polls without blocking (yielding the CPU between
    /// polls) for up to this long before it sleeps, which saves the wake-up of
    /// a sleeping worker at a steady load; after a longer wait it sleeps at
    /// once, so an idle server spends nothing. `Duration::ZERO`: never, the
    /// default: a spinning worker takes the CPU from threads sharing its cores
    /// (on 2 cores with the clients beside it, 50 µs doubled echo at one client
    /// and halved TLS echo at 16; see README, Measured). The other models
    /// ignore it.
    pub busy_poll: Duration,
    /// TLS for every client of a [`TcpServer`](super::TcpServer) or a
    /// [`UnixStreamServer`](super::UnixStreamServer) (feature `tls`): the
    /// handshake comes first (a failed one ends the connection as
    /// [`CloseReason::Tls`](super::CloseReason::Tls); one that does not end
    /// within `idle_timeout` as `Idle`), then the service sees the decrypted
    /// lines, with every limit applied to them. Served by every model for a
    /// [`LineService`](super::LineService) ([`Model::Scalable`] drives the
    /// session from its event loop); `bind` refuses it with `InvalidInput`
    /// for a [`RequestHandler`](super::RequestHandler) (it gets the raw
    /// socket) and for a [`UdpServer`](super::UdpServer). Default: `None`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    /// use threadkit::tls::TlsConfig;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = ServerConfig {
    ///     tls: Some(TlsConfig::from_pem_files("cert.pem", "key.pem")?),
    ///     ..ServerConfig::default()
    /// };
    /// let server = TcpServer::bind("127.0.0.1:9443", config, Echo)?;
    /// server.serve_forever()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            model: Model::default(),
            max_clients: 1024,
            idle_timeout: Some(Duration::from_secs(300)),
            backlog: 1024,
            reuse_address: true,
            allow_reuse_port: false,
            verify_request: None,
            service_actions: None,
            daemon_threads: false,
            block_on_close: true,
            handler_stack_size: None,
            max_line: 65_536,
            max_queue: 1 << 20,
            workers: 0,
            busy_poll: Duration::ZERO,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// The idle timeout the loops apply: `None` when it is off (unset, zero,
    /// or beyond `TIMEOUT_MAX`, which means "never").
    pub(crate) fn idle(&self) -> Option<Duration> {
        self.idle_timeout
            .filter(|d| !d.is_zero() && *d <= crate::threading::TIMEOUT_MAX)
    }

    /// How a blocking loop reads and writes the accepted `sock`: through a new
    /// TLS session when `tls` is set, else as it is.
    pub(crate) fn wire(&self, sock: Arc<Socket>) -> io::Result<Wire> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return crate::tls::stream::TlsStream::server(sock, tls).map(Wire::tls);
        }
        Ok(Wire::plain(sock))
    }

    /// `Err` when `tls` is set and the server cannot keep that promise: a
    /// `UdpServer` (`service` is `None`) or a `RequestHandler`. It never
    /// serves in plain text what was asked for under TLS.
    pub(crate) fn check_tls(&self, service: Option<&Service>) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            let refused = |kind, why: &str| Err(io::Error::new(kind, why.to_string()));
            return match service.map(Service::kind) {
                None => refused(
                    io::ErrorKind::InvalidInput,
                    "ServerConfig::tls is for TCP servers: a UdpServer cannot run TLS",
                ),
                Some(ServiceKind::Handler(_)) => refused(
                    io::ErrorKind::InvalidInput,
                    "ServerConfig::tls runs line services only: a RequestHandler gets the raw \
                     socket, so it would speak plain text",
                ),
                Some(ServiceKind::Lines(_)) => Ok(()),
            };
        }
        let _ = service;
        Ok(())
    }
}
