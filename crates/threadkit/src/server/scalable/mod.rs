//! The scalable model ([`Model::Scalable`](super::Model::Scalable)): a few
//! worker threads, each a plain `mio` event loop multiplexing many
//! non-blocking connections (no async runtime).
//!
//! # Accepting
//!
//! The thread that calls `serve_forever` keeps its blocking `accept` loop (as
//! in the thread-per-connection model: the same back-off, the same wake-up by
//! `shutdown`), counts the client against `max_clients` (one atomic counter
//! for all workers; `* error: server full` there), and hands the socket to the
//! workers in turn through each worker's [`Mailbox`] (a queue under a mutex
//! plus a `mio::Waker`). One acceptor and round robin are simpler than a
//! listener in every worker (`SO_REUSEPORT` hashes clients to workers blindly
//! and needs one listening socket per worker; a shared edge-triggered listener
//! wakes every worker for each client), and accepting costs one `accept` and
//! one eventfd write per client, far below a burst's needs.
//!
//! # Cross-worker delivery, and one order for every client
//!
//! As in the blocking models, every service call and the queueing of its
//! outbox run under one lock per server ([`Hub::open`], which also records
//! where each open connection lives). A line for a connection of the same
//! worker is queued (and written if the socket takes it) at once; a line for
//! another worker's connection goes into that worker's mailbox, still under
//! the lock; a broadcast puts one shared copy in each other worker's mailbox.
//! A worker applies its mailbox first whenever it takes the lock, so what
//! reaches a connection reaches it in the order of the lock: every client sees
//! the same order. The other workers are woken once the lock is released (no
//! system call is made under it). The limit rules are part 1's: a line for another connection
//! that would pass `max_queue` drops that connection (`too slow`), decided by
//! the worker that owns it.
//!
//! See `worker.rs` for the event loop itself: turns and slices, buffers,
//! backpressure, timers, closing.

mod worker;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mio::{Poll, Token, Waker};

use super::conn::ConnId;
use super::peer::Peer;
use super::service::LineService;
use super::shared::Shared;
use super::threaded::Slot;
use crate::threading::Thread;

/// The token of each worker's waker (connections use their slab index).
const WAKER: Token = Token(usize::MAX);

/// What the workers of one server share.
pub(crate) struct Hub {
    service: Arc<dyn LineService>,
    /// The service lock: held around every service call and the queueing of
    /// its outbox, so every client sees the lines in one order. It guards the
    /// map of open connections, which only changes under it.
    open: Mutex<Open>,
    /// One per worker, by index.
    mailboxes: Vec<Mailbox>,
    /// The next worker to get a client (round robin).
    next: AtomicUsize,
    /// The worker threads, for `server_close`.
    threads: Mutex<Vec<Thread>>,
    /// Not every worker could start: the ones that did leave (as on a
    /// shutdown).
    abandoned: AtomicBool,
}

/// The connections the service knows (between `on_connect` and `on_close`).
#[derive(Debug, Default)]
pub(crate) struct Open {
    conns: HashMap<ConnId, Place>,
    /// How many open connections each worker has: a broadcast skips the
    /// mailboxes of workers with none.
    per_worker: Vec<usize>,
}

/// Where a connection lives.
#[derive(Debug, Clone, Copy)]
struct Place {
    worker: usize,
    token: usize,
}

/// A worker's inbox: new clients, and lines from other workers' callbacks.
pub(crate) struct Mailbox {
    inbox: Mutex<Inbox>,
    /// Something is in the inbox (changed under the inbox's mutex): saves
    /// taking that mutex when it is empty, and waking twice.
    pending: AtomicBool,
    waker: Waker,
}

#[derive(Default)]
struct Inbox {
    accepted: Vec<Accepted>,
    items: Vec<Item>,
    /// The worker has ended: nothing more is taken.
    closed: bool,
}

/// A client handed to a worker.
pub(crate) struct Accepted {
    pub(crate) stream: socket2::Socket,
    pub(crate) peer: Peer,
    pub(crate) id: ConnId,
    pub(crate) slot: Slot,
}

/// What one worker's callback asks of another worker, in lock order.
enum Item {
    /// Queue `data` (a line with its `\n`) for one connection.
    Send {
        to: ConnId,
        token: usize,
        data: Box<[u8]>,
    },
    /// Queue `data` for every open connection of the worker but `except`.
    Broadcast {
        except: Option<ConnId>,
        data: Arc<[u8]>,
    },
    /// Close a connection (the service's `Outbox::close`).
    Close { to: ConnId, token: usize },
}

impl Mailbox {
    /// Adds an item (called under the service lock); true when the worker
    /// must be woken (it was not told of earlier items yet). The caller wakes
    /// it once the lock is released.
    fn push(&self, item: Item) -> bool {
        let mut inbox = self.lock();
        if inbox.closed {
            return false;
        }
        inbox.items.push(item);
        !self.pending.swap(true, Ordering::AcqRel)
    }

    fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_locked(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            if let Err(e) = self.waker.wake() {
                log::error!("threadkit: cannot wake a server worker: {e}");
            }
        }
    }
}

impl Hub {
    /// Starts the workers of `shared`'s server: `config.workers` of them, or
    /// one per core.
    pub(crate) fn start(
        shared: &Arc<Shared>,
        service: Arc<dyn LineService>,
    ) -> io::Result<Arc<Hub>> {
        let n = match shared.config.workers {
            0 => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            n => n,
        };
        let mut polls = Vec::with_capacity(n);
        let mut mailboxes = Vec::with_capacity(n);
        for _ in 0..n {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKER)?;
            polls.push(poll);
            mailboxes.push(Mailbox {
                inbox: Mutex::new(Inbox::default()),
                pending: AtomicBool::new(false),
                waker,
            });
        }
        let hub = Arc::new(Hub {
            service,
            open: Mutex::new(Open {
                conns: HashMap::new(),
                per_worker: vec![0; n],
            }),
            mailboxes,
            next: AtomicUsize::new(0),
            threads: Mutex::new(Vec::with_capacity(n)),
            abandoned: AtomicBool::new(false),
        });
        for (index, poll) in polls.into_iter().enumerate() {
            let (s, h) = (Arc::clone(shared), Arc::clone(&hub));
            let spawned = Thread::builder()
                .name(format!("tk-worker-{index}"))
                .internal()
                .target(move || worker::run(&s, &h, index, poll))
                .spawn();
            match spawned {
                Ok(t) => hub.lock_threads().push(t),
                Err(e) => {
                    // Without all workers the server does not serve: the
                    // started ones leave.
                    hub.abandoned.store(true, Ordering::Release);
                    hub.stop();
                    return Err(io::Error::other(format!(
                        "cannot start the server's worker threads: {e}"
                    )));
                }
            }
        }
        Ok(hub)
    }

    fn lock_threads(&self) -> MutexGuard<'_, Vec<Thread>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a new client to the next worker; gives it back when the workers
    /// have ended (the server is shutting down).
    pub(crate) fn dispatch(&self, accepted: Accepted) -> Result<(), Accepted> {
        let n = self.mailboxes.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mailbox = &self.mailboxes[first];
        let mut inbox = mailbox.lock();
        if inbox.closed {
            return Err(accepted);
        }
        inbox.accepted.push(accepted);
        mailbox.wake_locked();
        Ok(())
    }

    /// Wakes every worker, so each sees the server's shutdown.
    pub(crate) fn stop(&self) {
        for mailbox in &self.mailboxes {
            if let Err(e) = mailbox.waker.wake() {
                log::error!("threadkit: cannot wake a server worker: {e}");
            }
        }
    }

    /// Waits up to `limit` for the workers to end (they end once their clients
    /// are closed after a shutdown); logs the ones still running.
    pub(crate) fn join(&self, limit: Duration) {
        let threads = std::mem::take(&mut *self.lock_threads());
        let deadline = Instant::now() + limit;
        let mut left = Vec::new();
        for t in threads {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Ok(false) = t.join_timeout(remaining) {
                left.push(t.name());
            }
        }
        if !left.is_empty() {
            log::warn!(
                "threadkit: server_close: worker thread(s) still running: {}",
                left.join(", ")
            );
        }
    }

    /// Whether the workers must end: the server is shutting down, or could
    /// not start.
    fn stopping(&self, shared: &Shared) -> bool {
        shared.stopping() || self.abandoned.load(Ordering::Acquire)
    }

    /// The service lock.
    fn lock_open(&self) -> MutexGuard<'_, Open> {
        // A service call that panicked is reported and its connection closed;
        // the map stays consistent.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("workers", &self.mailboxes.len())
            .finish_non_exhaustive()
    }
}
