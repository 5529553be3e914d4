//! What a TCP server's loops share: the configuration, the service and its
//! lock, the live connections ([`Conn`]) and the event reporting.
//!
//! It sits below the loops that use it (`connection.rs` for the blocking
//! models, `scalable/` for the event loops) and below `tcp.rs`, which builds
//! it and starts them, so no arrow runs back up.

use std::collections::HashMap;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::config::ServerConfig;
use super::conn::{CloseReason, ConnId};
use super::events::Events;
use super::outgoing::Outgoing;
use super::peer::Peer;
use super::service::Service;
use super::shutdown::Signal;
use crate::socket::Socket;

/// The state every connection loop of one server reads.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) service: Service,
    /// Set once a shutdown is asked for.
    pub(crate) signal: Arc<Signal>,
    /// Every live connection (both kinds), for broadcasts and for shutdown.
    conns: Mutex<HashMap<ConnId, Arc<Conn>>>,
    /// Held around every line-service call and the queueing of its outbox.
    service_lock: Mutex<()>,
    pub(crate) events: Events,
}

impl Shared {
    /// The state of a server that runs `service` with `config`.
    pub(crate) fn new(config: ServerConfig, service: Service) -> Shared {
        Shared {
            config,
            service,
            signal: Arc::new(Signal::default()),
            conns: Mutex::new(HashMap::new()),
            service_lock: Mutex::new(()),
            events: Events::default(),
        }
    }

    /// Whether a shutdown was asked for.
    pub(crate) fn stopping(&self) -> bool {
        self.signal.requested()
    }

    pub(crate) fn lock_service(&self) -> MutexGuard<'_, ()> {
        // Service calls that panicked are reported; the lock guards no data.
        self.service_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn conns(&self) -> MutexGuard<'_, HashMap<ConnId, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn find(&self, id: ConnId) -> Option<Arc<Conn>> {
        self.conns().get(&id).cloned()
    }

    /// Lists a new connection; one that comes after a shutdown is stopped at
    /// once (its client still gets the notice).
    pub(crate) fn register(&self, conn: &Arc<Conn>) {
        let mut conns = self.conns();
        conns.insert(conn.id, Arc::clone(conn));
        if self.signal.requested() {
            drop(conns);
            conn.stop(CloseReason::Shutdown);
        }
    }

    pub(crate) fn unregister(&self, id: ConnId) {
        self.conns().remove(&id);
    }

    /// Tells every live blocking-model connection to end.
    pub(crate) fn stop_conns(&self) {
        for conn in self.conns().values() {
            conn.stop(CloseReason::Shutdown);
        }
    }
}

/// One live connection, as the rest of the server sees it (registry entry).
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) id: ConnId,
    pub(crate) peer: Peer,
    pub(crate) sock: Arc<Socket>,
    /// Why another thread stopped it; the first reason wins.
    stop: Mutex<Option<CloseReason>>,
    /// The line service knows it: between `on_connect` and `on_close`. Changed
    /// and read under the service lock only.
    pub(crate) open: AtomicBool,
    /// The output queue of a line connection.
    pub(crate) out: Option<Outgoing>,
}

impl Conn {
    /// A connection the service does not know yet, with the output queue
    /// `out` when it runs a line service.
    pub(crate) fn new(id: ConnId, peer: Peer, sock: Arc<Socket>, out: Option<Outgoing>) -> Conn {
        Conn {
            id,
            peer,
            sock,
            stop: Mutex::new(None),
            open: AtomicBool::new(false),
            out,
        }
    }

    /// Asks the connection to end for `reason` (if nothing else did first) and
    /// wakes its thread.
    pub(crate) fn stop(&self, reason: CloseReason) {
        {
            let mut stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
            if stop.is_some() {
                return;
            }
            *stop = Some(reason);
        }
        if let Some(out) = &self.out {
            if reason != CloseReason::Shutdown {
                // Closed or too slow: nothing more for it from the service.
                out.refuse();
            }
            out.wake();
        }
        let _ = self.sock.shutdown(Shutdown::Read);
    }

    /// Why another thread stopped it, if one did.
    pub(crate) fn stop_reason(&self) -> Option<CloseReason> {
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shuts the socket down both ways: the last resort of `server_close`.
    pub(crate) fn force_close(&self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }
}
