//! [`ServerEvent`]: what a TCP server reports, through `log` and to an
//! observer set with [`TcpServer::on_event`](super::TcpServer::on_event).

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, PoisonError, RwLock};

use super::conn::{CloseReason, ConnId};
use super::peer::{Client, Peer};
use super::stats::Stats;

/// Something that happened to a TCP server: a client connected, a client left,
/// a handler failed, `accept` failed.
///
/// `Display` gives the line the `threadkit` program prints: `connect ADDR`,
/// `disconnect ADDR (REASON)` (REASON is [`CloseReason`]'s word),
/// `handler error ADDR: ...` or `accept error: ...`. Every connection that gets a `Connect` gets exactly one
/// `Disconnect` later, including one refused because the server was full
/// (reason `full`).
///
/// # Examples
///
/// ```
/// use threadkit::server::{CloseReason, ConnId, ServerEvent};
///
/// let peer = "127.0.0.1:5555".parse::<std::net::SocketAddr>().unwrap().into();
/// let left = ServerEvent::Disconnect { conn: ConnId::new(1), peer, reason: CloseReason::Idle };
/// assert_eq!(left.to_string(), "disconnect 127.0.0.1:5555 (idle)");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client connected (`connect ADDR`).
    Connect {
        /// The connection's id, as its `LineService` sees it.
        conn: ConnId,
        /// The client's address.
        peer: Peer,
    },
    /// A connection ended (`disconnect ADDR (REASON)`).
    Disconnect {
        /// The connection's id.
        conn: ConnId,
        /// The client's address.
        peer: Peer,
        /// Why it ended.
        reason: CloseReason,
    },
    /// A connection's [`RequestHandler`](super::RequestHandler) returned an
    /// error or panicked, or its [`LineService`](super::LineService)
    /// panicked (Python's `handle_error`): the connection ends (a
    /// `Disconnect` follows), the server goes on (`handler error ADDR: ...`).
    HandlerError {
        /// The connection's id.
        conn: ConnId,
        /// The client's address.
        peer: Peer,
        /// What went wrong: the error, or `panicked: ` and the panic's message.
        error: String,
    },
    /// `accept` failed (too many open files, say); the server retries after a
    /// short back-off (`accept error: ...`).
    AcceptError {
        /// What the system reported.
        error: io::Error,
    },
}

impl fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::Connect { conn, peer } => write!(f, "connect {}", Client(peer, *conn)),
            ServerEvent::Disconnect { conn, peer, reason } => {
                write!(f, "disconnect {} ({reason})", Client(peer, *conn))
            }
            ServerEvent::HandlerError { conn, peer, error } => {
                write!(f, "handler error {}: {error}", Client(peer, *conn))
            }
            ServerEvent::AcceptError { error } => write!(f, "accept error: {error}"),
        }
    }
}

/// The observer's type.
pub(crate) type Observer = Arc<dyn Fn(&ServerEvent) + Send + Sync>;

/// Sends each event to `log` and to the observer, if one is set.
#[derive(Default)]
pub(crate) struct Events {
    observer: RwLock<Option<Observer>>,
    /// The counters `/server.json` shows.
    pub(crate) stats: Stats,
}

impl Events {
    pub(crate) fn set(&self, observer: Observer) {
        *self
            .observer
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    /// Logs `event`, then calls the observer outside any lock; a panicking
    /// observer is logged and otherwise ignored, so it cannot stop the server.
    pub(crate) fn emit(&self, event: ServerEvent) {
        self.stats.record(&event);
        match &event {
            ServerEvent::AcceptError { .. } | ServerEvent::HandlerError { .. } => {
                log::warn!("{event}")
            }
            _ => log::info!("{event}"),
        }
        let observer = self
            .observer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(observer) = observer {
            if panic::catch_unwind(AssertUnwindSafe(|| observer(&event))).is_err() {
                log::error!("threadkit: the server's event observer panicked on `{event}`");
            }
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self
            .observer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("Events").field("observer", &set).finish()
    }
}
