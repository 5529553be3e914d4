//! [`Service`]: what a server runs for its clients, either a sans-IO
//! [`LineService`] or Python-style blocking [`RequestHandler`]s.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::conn::{CloseReason, ConnId};
use super::outbox::Outbox;
use crate::socket::Socket;

/// A line protocol written without sockets: the server reads, frames and checks
/// the lines, and calls these methods; the service answers through the
/// [`Outbox`].
///
/// One value serves every connection, from many threads at once (hence `&self`
/// and `Send + Sync`): keep per-connection state in a map keyed by [`ConnId`],
/// behind the service's own lock. Calls for one connection come in order:
/// `on_connect`, then `on_line` for each line, then exactly one `on_close`.
///
/// A service only ever sees valid lines: UTF-8, without the `\n`, at most the
/// server's `max_line` bytes. Invalid UTF-8, over-long lines, idle clients, full
/// queues and the client limit are the server's business (see
/// [`server`](super) "Line protocols").
///
/// # Examples
///
/// A service that shouts back, tested without a network:
///
/// ```
/// use threadkit::server::{Action, ConnId, LineService, Outbox};
///
/// struct Shout;
///
/// impl LineService for Shout {
///     fn on_line(&self, conn: ConnId, line: &str, out: &mut Outbox) {
///         out.send(conn, line.to_uppercase());
///     }
/// }
///
/// let mut out = Outbox::new();
/// Shout.on_line(ConnId::new(1), "hey", &mut out);
/// assert_eq!(out.actions(), [Action::Send { to: ConnId::new(1), text: "HEY".into() }]);
/// ```
pub trait LineService: Send + Sync + 'static {
    /// A client connected from `peer`. The default does nothing.
    fn on_connect(&self, conn: ConnId, peer: SocketAddr, out: &mut Outbox) {
        let _ = (conn, peer, out);
    }

    /// The client sent `line` (without its `\n`).
    fn on_line(&self, conn: ConnId, line: &str, out: &mut Outbox);

    /// The connection ended for `reason`; `conn` no longer receives anything (a
    /// broadcast from here reaches the others). The default does nothing.
    fn on_close(&self, conn: ConnId, reason: CloseReason, out: &mut Outbox) {
        let _ = (conn, reason, out);
    }

    /// Whether lines this service sends to several connections must reach every
    /// client in one order (the default, `true`). The server then runs each
    /// callback and the queueing of its outbox under one server-wide lock. A
    /// service that only ever answers the calling connection (as [`Echo`] does)
    /// returns `false`, and its connections run their callbacks side by side.
    ///
    /// [`Echo`]: super::Echo
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ChatRoom, Echo, LineService};
    ///
    /// assert!(ChatRoom::new().needs_global_order());
    /// assert!(!Echo.needs_global_order());
    /// ```
    fn needs_global_order(&self) -> bool {
        true
    }
}

/// Python's `socketserver.BaseRequestHandler`: blocking code that owns one
/// connection for its whole life.
///
/// A server makes one handler per connection with the factory given to
/// [`Service::handler`] and calls [`handle`](RequestHandler::handle) on the
/// connection's thread; the connection is closed when it returns. Only the
/// thread-per-connection and synchronous models run handlers. A closure
/// `FnMut(&Socket, SocketAddr) -> io::Result<()>` is a handler too.
///
/// # Examples
///
/// ```
/// use std::io::{self, BufRead, BufReader, Write};
/// use std::net::SocketAddr;
/// use threadkit::server::{RequestHandler, Service};
/// use threadkit::socket::Socket;
///
/// /// Answers each line with its length.
/// struct Counter { lines: usize }
///
/// impl RequestHandler for Counter {
///     fn handle(&mut self, conn: &Socket, _peer: SocketAddr) -> io::Result<()> {
///         for line in BufReader::new(conn).lines() {
///             self.lines += 1;
///             writeln!(&*conn, "{}", line?.len())?;
///         }
///         Ok(())
///     }
/// }
///
/// let service = Service::handler(|| Counter { lines: 0 });
/// assert!(format!("{service:?}").contains("Handler"));
/// ```
pub trait RequestHandler: Send + 'static {
    /// Serves the connection `conn` from `peer` until done; an error is logged
    /// by the server and ends the connection.
    ///
    /// # Errors
    ///
    /// Whatever the handler's I/O fails with.
    fn handle(&mut self, conn: &Socket, peer: SocketAddr) -> io::Result<()>;
}

impl<F> RequestHandler for F
where
    F: FnMut(&Socket, SocketAddr) -> io::Result<()> + Send + 'static,
{
    fn handle(&mut self, conn: &Socket, peer: SocketAddr) -> io::Result<()> {
        self(conn, peer)
    }
}

/// Makes a fresh handler for each connection.
type HandlerFactory = dyn Fn() -> Box<dyn RequestHandler> + Send + Sync;

/// What a server runs: a [`LineService`] (every model) or a [`RequestHandler`]
/// factory (the thread-per-connection and synchronous models).
///
/// Servers take `impl Into<Service>`, so any `LineService` value can be passed
/// as is; [`Service::shared`] keeps a handle to it, [`Service::handler`] wraps a
/// handler factory. Cloning a `Service` shares the same service.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::server::{ChatRoom, Echo, Service};
///
/// let echo: Service = Echo.into();
/// let room = Arc::new(ChatRoom::new());
/// let chat = Service::shared(Arc::clone(&room)); // keep `room` to look inside
/// # let _ = (echo, chat);
/// ```
#[derive(Clone)]
pub struct Service {
    kind: ServiceKind,
}

/// The two kinds, for the server loops.
#[derive(Clone)]
pub(crate) enum ServiceKind {
    Lines(Arc<dyn LineService>),
    Handler(Arc<HandlerFactory>),
}

impl Service {
    /// A service from a shared `LineService`, so the caller keeps a handle to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::server::{Echo, Service};
    ///
    /// let echo = Arc::new(Echo);
    /// let service = Service::shared(echo);
    /// # let _ = service;
    /// ```
    pub fn shared<S: LineService>(service: Arc<S>) -> Service {
        Service {
            kind: ServiceKind::Lines(service),
        }
    }

    /// A service that runs one [`RequestHandler`] per connection, each made by
    /// `factory` (Python's `RequestHandlerClass`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use std::net::SocketAddr;
    /// use threadkit::server::Service;
    /// use threadkit::socket::Socket;
    ///
    /// // Echoes raw bytes until the client closes.
    /// let service = Service::handler(|| {
    ///     |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
    ///         io::copy(&mut &*conn, &mut &*conn)?;
    ///         Ok(())
    ///     }
    /// });
    /// # let _ = service;
    /// ```
    pub fn handler<H, F>(factory: F) -> Service
    where
        H: RequestHandler,
        F: Fn() -> H + Send + Sync + 'static,
    {
        let factory: Arc<HandlerFactory> =
            Arc::new(move || Box::new(factory()) as Box<dyn RequestHandler>);
        Service {
            kind: ServiceKind::Handler(factory),
        }
    }

    /// Which kind it is, for the server loops.
    pub(crate) fn kind(&self) -> &ServiceKind {
        &self.kind
    }
}

impl<S: LineService> From<S> for Service {
    fn from(service: S) -> Service {
        Service::shared(Arc::new(service))
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ServiceKind::Lines(_) => f.write_str("Service::Lines(..)"),
            ServiceKind::Handler(_) => f.write_str("Service::Handler(..)"),
        }
    }
}
