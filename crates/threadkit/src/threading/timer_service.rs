//! The timer service behind [`Timer`](super::Timer): one internal thread holding every
//! pending timer, and a cache of idle internal threads that run the functions.
//!
//! Pending timers sit in a binary heap keyed by due instant (a heap, not a timing
//! wheel: `O(log n)` insertion measured at well under a microsecond at a million
//! entries, exact due instants, and nothing to tick while idle). The service thread
//! sleeps on a condition variable until the earliest due instant or until an earlier
//! timer arrives; due timers are handed to a pooled thread each, so a slow or
//! blocking function never delays another timer. The service starts on the first
//! `Timer::start` and ends after a short linger with nothing pending; pooled threads
//! end after a second idle. All of them are internal threadkit threads: left out of
//! `enumerate()`, marked in `dump_all()`.
//!
//! Cancelled timers leave their heap entry behind (cancel is `O(1)`); the entry is
//! skipped when due, and the heap is purged when such entries outnumber live ones.
//! Everything here uses std types: the service stays out of the loom models.
//!
//! A pending timer is listed by the heap, not by the registry's map (a map entry
//! would cost a pending timer a third of its memory and start + cancel two map
//! updates): the registry asks `with_scheduled` for them. A timer is in the
//! registry's map only while a pooled thread has it (popped, until its call ends).
//! Under `STATE` a live timer is therefore always in one of the two, which is why
//! the hand-overs (a due entry popped and listed, a repeat pushed and unlisted)
//! happen under `STATE`, and why `STATE` is taken before the registry's lock, never
//! after.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::clock::nanos_of;
use super::registry;
use super::thread::Thread;
use crate::sync::lock;

/// How long the service thread stays with nothing pending before it ends.
const LINGER: Duration = Duration::from_millis(200);
/// How long a pooled thread stays idle before it ends.
const REAP: Duration = Duration::from_secs(1);

/// One pending slot of one timer. 16 bytes: the due instant as nanoseconds since
/// `clock`'s epoch, not an `Instant`, to keep a million pending timers small; which slot
/// it is follows from the due instant (`timer::fire`).
struct Entry {
    due: u64,
    thread: Thread,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.due == other.due
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    // Reversed: `BinaryHeap` is a max-heap and the earliest due must be on top.
    fn cmp(&self, other: &Entry) -> CmpOrdering {
        other.due.cmp(&self.due)
    }
}

struct State {
    heap: BinaryHeap<Entry>,
    /// Whether the service thread runs (or is being started).
    running: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    heap: BinaryHeap::new(),
    running: false,
});
/// Heap entries whose timer was cancelled (an estimate: used to decide a purge).
/// Outside `STATE`, so a cancel takes the lock only when it may purge.
static CANCELLED: AtomicUsize = AtomicUsize::new(0);
/// Wakes the service when an earlier timer arrives.
static WAKE: Condvar = Condvar::new();

/// What the service asks of a timer's state machine. `timer.rs` passes them with
/// every `schedule`, so the service, the floor below it, never imports `timer.rs`.
#[derive(Clone, Copy)]
pub(crate) struct Callbacks {
    /// Whether the timer waits for its heap entry (the entry is live).
    pub(crate) is_scheduled: fn(&Thread) -> bool,
    /// The entry was popped: marks the timer due, or returns `false` when it was
    /// cancelled. Called under the registry's lock (see the module docs).
    pub(crate) mark_due: fn(&Thread) -> bool,
    /// Runs a due timer on a pooled thread (`due`: the entry's due instant).
    pub(crate) fire: fn(&Thread, u64),
}

/// The callbacks, from the first `schedule` on (nothing else runs before one).
static CALLBACKS: OnceLock<Callbacks> = OnceLock::new();

fn callbacks() -> &'static Callbacks {
    CALLBACKS.get().expect("set by the first schedule")
}

/// Adds a timer's next slot, due at `due` (nanoseconds since the epoch; `u64::MAX`
/// is never); starts the service if needed. `unlist`: the timer was in the
/// registry's map (a repeat between calls), and leaves it now that the heap lists it.
pub(crate) fn schedule(due: u64, thread: Thread, unlist: bool, callbacks: &Callbacks) {
    CALLBACKS.get_or_init(|| *callbacks);
    registry::set_pending_source(with_scheduled);
    let mut st = lock(&STATE);
    let earliest = st.heap.peek().is_none_or(|top| due < top.due);
    if unlist {
        registry::remove(&thread);
    }
    st.heap.push(Entry { due, thread });
    if !st.running {
        st.running = true;
        drop(st);
        start_service();
    } else if earliest {
        WAKE.notify_one();
    }
}

/// A scheduled timer was cancelled; its entry stays in the heap until due.
pub(crate) fn note_cancelled() {
    let cancelled = CANCELLED.fetch_add(1, Ordering::Relaxed) + 1;
    // Look at the heap every 64 cancels only: the lock stays off the cancel path.
    if cancelled % 64 != 0 {
        return;
    }
    let mut st = lock(&STATE);
    // Purge when dead entries are the majority: amortised O(1) per cancel, and a
    // program that starts and cancels long timers in a loop stays bounded.
    if cancelled * 2 > st.heap.len() {
        let (live, dead): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut st.heap)
            .into_vec()
            .into_iter()
            .partition(|e| (callbacks().is_scheduled)(&e.thread));
        st.heap = BinaryHeap::from(live);
        CANCELLED.store(0, Ordering::Relaxed);
        drop(st);
        // Dropping a timer can run user code (its closure's captures): not under
        // the service's lock.
        drop(dead);
    }
}

/// Calls `f` with every scheduled timer, under the service's lock: the registry's
/// listing (it takes its own lock inside `f`).
fn with_scheduled(f: &mut dyn FnMut(Vec<Thread>)) {
    let st = lock(&STATE);
    let scheduled = st
        .heap
        .iter()
        .filter(|e| (callbacks().is_scheduled)(&e.thread))
        .map(|e| e.thread.clone())
        .collect();
    f(scheduled);
}

fn start_service() {
    let spawned = Thread::builder()
        .name("tk-timer")
        .internal()
        .target(service_loop)
        .spawn();
    if let Err(e) = spawned {
        // Without a service no timer fires: say so loudly, and let the next
        // `schedule` try again.
        log::error!("threadkit: cannot start the timer service: {e}");
        lock(&STATE).running = false;
    }
}

fn service_loop() {
    let mut due_now = Vec::new();
    let mut dead = Vec::new();
    let mut st = lock(&STATE);
    loop {
        let now = nanos_of(Instant::now());
        while st.heap.peek().is_some_and(|top| top.due <= now) {
            let Some(e) = st.heap.pop() else { break };
            // Listed by the registry from here on, unless it was cancelled.
            if registry::insert_if(&e.thread, || (callbacks().mark_due)(&e.thread)) {
                due_now.push(e);
            } else {
                // Saturating: the count is an estimate, reset by purges.
                let _ = CANCELLED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
                dead.push(e);
            }
        }
        if !due_now.is_empty() || !dead.is_empty() {
            drop(st);
            // Dropping a timer can run user code: not under the lock.
            dead.clear();
            for e in due_now.drain(..) {
                pool_dispatch(e);
            }
            st = lock(&STATE);
            continue;
        }
        let wait = match st.heap.peek() {
            Some(top) => Duration::from_nanos(top.due - now),
            None => LINGER,
        };
        let (guard, timeout) = WAKE
            .wait_timeout(st, wait)
            .unwrap_or_else(|e| e.into_inner());
        st = guard;
        if timeout.timed_out() && st.heap.is_empty() {
            st.running = false;
            return;
        }
    }
}

/// One pooled thread's mailbox.
struct Mailbox {
    job: Mutex<Option<Entry>>,
    ready: Condvar,
}

/// Idle pooled threads, most recently idle last (reused first, while warm).
static IDLE: Mutex<Vec<Arc<Mailbox>>> = Mutex::new(Vec::new());

fn pool_dispatch(e: Entry) {
    let idle = lock(&IDLE).pop();
    match idle {
        Some(mailbox) => {
            *lock(&mailbox.job) = Some(e);
            mailbox.ready.notify_one();
        }
        None => spawn_worker(e),
    }
}

fn spawn_worker(first: Entry) {
    let mailbox = Arc::new(Mailbox {
        job: Mutex::new(None),
        ready: Condvar::new(),
    });
    *lock(&mailbox.job) = Some(first);
    let m = Arc::clone(&mailbox);
    let spawned = Thread::builder()
        .name("tk-timer-pool")
        .internal()
        .target(move || worker_loop(&m))
        .spawn();
    if let Err(e) = spawned {
        // No thread to be had: run it here rather than lose it.
        log::warn!("threadkit: timer pool cannot grow ({e}); running a timer inline");
        if let Some(job) = lock(&mailbox.job).take() {
            run(job);
        }
    }
}

fn run(e: Entry) {
    (callbacks().fire)(&e.thread, e.due);
}

fn worker_loop(mailbox: &Arc<Mailbox>) {
    loop {
        let job = lock(&mailbox.job).take();
        if let Some(job) = job {
            run(job);
        }
        lock(&IDLE).push(Arc::clone(mailbox));
        let mut job = lock(&mailbox.job);
        let deadline = Instant::now() + REAP;
        while job.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Leave the idle list; if we are not on it any more, a job is on
                // its way to this mailbox: wait for it.
                let mut idle = lock(&IDLE);
                if let Some(i) = idle.iter().position(|m| Arc::ptr_eq(m, mailbox)) {
                    idle.swap_remove(i);
                    return;
                }
                drop(idle);
                while job.is_none() {
                    job = mailbox.ready.wait(job).unwrap_or_else(|e| e.into_inner());
                }
                break;
            }
            job = mailbox
                .ready
                .wait_timeout(job, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
