//! The thread-per-client model (Python's `ThreadingMixIn`): one threadkit
//! [`Thread`] per connection, named after the peer, counted
//! against `max_clients` by a [`Slot`], remembered in a [`ThreadSet`] so
//! `server_close` can join them.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::config::ServerConfig;
use super::peer::Client;
use crate::threading::Thread;

/// The running clients, counted against a maximum.
#[derive(Debug)]
pub(crate) struct Slots {
    active: AtomicUsize,
    max: usize,
}

/// One taken place of [`Slots`], given back when dropped (also when the
/// connection's code panicked).
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
}

impl Slots {
    pub(crate) fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            active: AtomicUsize::new(0),
            max,
        })
    }

    /// A place, unless `max` are taken.
    pub(crate) fn try_take(self: &Arc<Self>) -> Option<Slot> {
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot {
                slots: Arc::clone(self),
            })
    }

    /// How many places are taken.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The threads a server started, for `server_close` to join; finished ones are
/// forgotten whenever a new one is added (Python's `_threads.reap()`).
#[derive(Default)]
pub(crate) struct ThreadSet {
    threads: Mutex<Vec<Thread>>,
}

impl ThreadSet {
    fn lock(&self) -> MutexGuard<'_, Vec<Thread>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a thread named `name` with the config's daemon flag and stack
    /// size, running `body`, and remembers it.
    pub(crate) fn spawn(
        &self,
        name: String,
        config: &ServerConfig,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<()> {
        let mut builder = Thread::builder()
            .name(name)
            .daemon(config.daemon_threads)
            .target(body);
        if let Some(size) = config.handler_stack_size {
            builder = builder.stack_size(size);
        }
        let mut threads = self.lock();
        threads.retain(Thread::is_alive);
        let t = builder.spawn().map_err(io::Error::other)?;
        threads.push(t);
        Ok(())
    }

    /// Joins every remembered thread but the caller's own, for at most `grace`;
    /// then calls `force` (which makes stragglers' I/O fail) and waits up to
    /// `after_force` more. Logs the threads still running after that.
    pub(crate) fn join_all(&self, grace: Duration, force: impl FnOnce(), after_force: Duration) {
        let threads = std::mem::take(&mut *self.lock());
        let left = join_until(&threads, Instant::now() + grace);
        if left.is_empty() {
            return;
        }
        force();
        let left = join_until(&left, Instant::now() + after_force);
        if !left.is_empty() {
            log::warn!(
                "threadkit: server_close: {} connection thread(s) still running: {}",
                left.len(),
                left.iter().map(Thread::name).collect::<Vec<_>>().join(", ")
            );
        }
    }
}

/// Joins `threads` until `deadline`; the ones still alive (never the caller).
fn join_until(threads: &[Thread], deadline: Instant) -> Vec<Thread> {
    let mut left = Vec::new();
    for t in threads {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // Err: the caller's own thread (server_close from a handler): skip it.
        if let Ok(false) = t.join_timeout(remaining) {
            left.push(t.clone());
        }
    }
    left
}

impl fmt::Debug for ThreadSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadSet")
            .field("threads", &self.lock().len())
            .finish()
    }
}

/// The name of a client's thread: `client ADDR`, so `threading::dump()` shows
/// who is connected.
pub(crate) fn client_thread_name(client: Client<'_>) -> String {
    format!("client {client}")
}
