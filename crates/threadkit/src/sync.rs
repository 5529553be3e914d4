//! The loom switch: the synchronisation building blocks every primitive uses, from
//! `std` (and `src/sys.rs`'s futex) in a normal build and from `loom` under
//! `--cfg loom`, so the same primitive code runs in the loom models.
//!
//! - [`Mutex`], the atomics and [`lock`] (locks and recovers from poison: Python's
//!   locks do not poison, so our API never shows `PoisonError`);
//! - [`Parker`]: a one-token park/unpark slot. Every threadkit thread owns one; a
//!   stop request sets its flag and unparks it, which is what lets
//!   [`Thread::stop`](crate::threading::Thread::stop) wake any threadkit wait;
//! - [`Waiter`]: one queued wait. A primitive pushes an `Arc<Waiter>` on its queue,
//!   unlocks, and calls [`Waiter::wait`]; whoever hands over the resource calls
//!   [`Waiter::notify`];
//! - [`current_parker`] and [`current_ident`]: the calling thread's parker and
//!   identity (the threadkit thread it runs as; under loom, the loom thread).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

use std::sync::Arc;
use std::time::Instant;

/// Locks `m`, recovering the guard if a panicking thread poisoned it.
///
/// Every critical section in threadkit leaves its state consistent before it can
/// panic (user code never runs under an internal lock), so poison carries no
/// information here.
#[cfg(not(loom))]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Under loom: locks a loom `Mutex` (the primitives) or a std one (the registry and
/// the thread records keep std types), recovering from poison either way.
#[cfg(loom)]
pub(crate) fn lock<M: PoisonFree + ?Sized>(m: &M) -> M::Guard<'_> {
    m.lock_poison_free()
}

/// Under loom, the two kinds of mutex [`lock`] accepts.
#[cfg(loom)]
pub(crate) trait PoisonFree {
    /// The guard `lock` returns.
    type Guard<'a>
    where
        Self: 'a;
    /// Locks, recovering from poison.
    fn lock_poison_free(&self) -> Self::Guard<'_>;
}

#[cfg(loom)]
impl<T: ?Sized> PoisonFree for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_poison_free(&self) -> MutexGuard<'_, T> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(loom)]
impl<T: ?Sized> PoisonFree for std::sync::Mutex<T> {
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_poison_free(&self) -> std::sync::MutexGuard<'_, T> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One step of a wait for another thread's short step (a lock's release, an
/// item, a slot): steps below `busy` spin on the CPU (2, 4, 8, .. pauses), later
/// ones yield it (on two cores the awaited thread may need ours to run). The one
/// backoff of the bounded spins before parking ([`spin_until`]) and of
/// [`spin_while`].
#[cfg(not(loom))]
pub(crate) fn backoff(step: u32, busy: u32) {
    if step < busy {
        for _ in 0..1u32 << step.min(BUSY_CAP) {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

/// The longest busy step, in doublings: 64 pauses.
#[cfg(not(loom))]
const BUSY_CAP: u32 = 6;

/// Under loom every step yields to the model's scheduler.
#[cfg(loom)]
pub(crate) fn backoff(_step: u32, _busy: u32) {
    loom::thread::yield_now();
}

/// The bounded spin before a thread parks: polls `attempt` up to `steps + 1`
/// times with a [`backoff`] between polls (the first `busy` steps on the CPU),
/// and returns its first `Some`; `None` when the spin ran out.
pub(crate) fn spin_until<R>(
    steps: u32,
    busy: u32,
    mut attempt: impl FnMut() -> Option<R>,
) -> Option<R> {
    for step in 0..steps {
        if let Some(r) = attempt() {
            return Some(r);
        }
        backoff(step, busy);
    }
    attempt()
}

/// Waits while `pending` holds, for a step another thread has begun and
/// finishes without waiting itself (a slot being filled or emptied): with a
/// [`backoff`], unbounded.
pub(crate) fn spin_while(mut pending: impl FnMut() -> bool) {
    let mut step = 0;
    while pending() {
        backoff(step, BUSY_STEPS_WHILE);
        step = step.saturating_add(1);
    }
}

/// [`spin_while`]'s busy steps before it yields.
const BUSY_STEPS_WHILE: u32 = 6;

/// How a [`Waiter::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// [`Waiter::notify`] was called.
    Notified,
    /// The deadline passed first.
    TimedOut,
    /// A stop was requested for the waiting thread (only for stoppable waits).
    Stopped,
}

/// One queued wait: the waiting thread's parker plus a "you were chosen" flag.
///
/// The flag is set before the unpark, so a waiter that wakes for any reason (a
/// stale token, a stop request) can tell whether it was notified. A waiter whose
/// wait ended without a notification must take itself off its queue under the
/// primitive's lock; if it is no longer there, a notifier chose it meanwhile and it
/// must treat the wait as notified (or pass the notification on).
#[derive(Debug)]
pub(crate) struct Waiter {
    parker: Arc<Parker>,
    notified: AtomicBool,
}

impl Waiter {
    /// A waiter for the calling thread.
    pub(crate) fn new() -> Arc<Waiter> {
        Self::with_parker(current_parker())
    }

    /// A waiter that parks on `parker` (the exit hook, which may not touch
    /// thread-locals, brings its own).
    pub(crate) fn with_parker(parker: Arc<Parker>) -> Arc<Waiter> {
        Arc::new(Waiter {
            parker,
            notified: AtomicBool::new(false),
        })
    }

    /// Makes a waiter that nobody else holds (`&mut` proves it) ready for another
    /// wait: not notified. A token its last notifier left on the parker is kept;
    /// a wait re-checks its condition after every wake anyway.
    pub(crate) fn reset(&mut self) {
        // A new atomic rather than a store: under loom, the old one's history (a
        // notifier's store) must not be read by the next wait.
        self.notified = AtomicBool::new(false);
    }

    /// Whether this waiter parks on the calling thread's parker (a cached waiter is
    /// reused only by the thread it was made for); no reference count is touched.
    pub(crate) fn parks_on_current(&self) -> bool {
        with_current_parker(|p| Arc::ptr_eq(&self.parker, p))
    }

    /// Marks the waiter notified and wakes its thread.
    pub(crate) fn notify(&self) {
        // Release: what the notifier did before is visible to the waiter that sees
        // the flag with Acquire.
        self.notified.store(true, Ordering::Release);
        self.parker.unpark();
    }

    /// Whether [`notify`](Self::notify) has been called.
    pub(crate) fn is_notified(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Whether a stop was requested for the thread that owns this waiter's parker.
    pub(crate) fn is_stopped(&self) -> bool {
        self.parker.is_stopped()
    }

    /// Parks until notified, until `deadline` (None: no deadline) or, when
    /// `stoppable`, until a stop is requested. A notification wins over the other
    /// two when both are seen.
    pub(crate) fn wait(&self, deadline: Option<Instant>, stoppable: bool) -> Wake {
        loop {
            if self.is_notified() {
                return Wake::Notified;
            }
            if stoppable && self.parker.is_stopped() {
                return Wake::Stopped;
            }
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    return Wake::TimedOut;
                }
            }
            self.parker.park_deadline(deadline);
        }
    }
}

/// A one-token park/unpark slot, owned by one thread at a time, plus the sticky stop
/// flag of the threadkit thread it belongs to.
#[derive(Debug)]
pub(crate) struct Parker {
    #[cfg(not(loom))]
    state: AtomicU32,
    #[cfg(loom)]
    notify: loom::sync::Notify,
    stopped: AtomicBool,
}

// States of the futex word, as in std's futex parker: EMPTY, NOTIFIED (a token is
// waiting), PARKED (the owner sleeps, or is about to).
#[cfg(not(loom))]
const EMPTY: u32 = 0;
#[cfg(not(loom))]
const NOTIFIED: u32 = 1;
#[cfg(not(loom))]
const PARKED: u32 = u32::MAX;

impl Parker {
    /// A parker with no token and no stop request.
    pub(crate) fn new() -> Parker {
        Parker {
            #[cfg(not(loom))]
            state: AtomicU32::new(EMPTY),
            #[cfg(loom)]
            notify: loom::sync::Notify::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// Blocks until a token is available (consuming it) or `deadline` passes; may
    /// also return spuriously. Only the owning thread calls this.
    #[cfg(not(loom))]
    pub(crate) fn park_deadline(&self, deadline: Option<Instant>) {
        // NOTIFIED -> EMPTY (take the token and go) or EMPTY -> PARKED.
        if self.state.fetch_sub(1, Ordering::Acquire) == NOTIFIED {
            return;
        }
        loop {
            let in_time = crate::sys::futex_wait(&self.state, PARKED, deadline);
            // Acquire pairs with the Release in `unpark`.
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            if !in_time {
                // Timed out: leave PARKED for EMPTY; a token that raced in is kept
                // for the next park (the caller re-checks its condition anyway).
                if self.state.swap(EMPTY, Ordering::Acquire) == NOTIFIED {
                    self.state.store(NOTIFIED, Ordering::Release);
                }
                return;
            }
            // Spurious wake-up: still PARKED, sleep again.
        }
    }

    /// Under loom time does not exist: a deadline is ignored (models never rely on
    /// a timeout firing).
    #[cfg(loom)]
    pub(crate) fn park_deadline(&self, _deadline: Option<Instant>) {
        self.notify.wait();
    }

    /// Makes a token available, waking the owner if it is parked.
    #[cfg(not(loom))]
    pub(crate) fn unpark(&self) {
        // Release pairs with the Acquire in `park_deadline`.
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            crate::sys::futex_wake(&self.state, 1);
        }
    }

    /// Makes a token available, waking the owner if it is parked.
    #[cfg(loom)]
    pub(crate) fn unpark(&self) {
        self.notify.notify();
    }

    /// Sets the sticky stop flag and wakes the owner so its wait can see it.
    pub(crate) fn request_stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.unpark();
    }

    /// Whether a stop was requested.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

// The calling thread's identity, which every primitive needs (RLock ownership, the
// parker a wait parks on) and which therefore lives here, below the registry: an
// ident and a parker per OS thread. The registry builds on it: `enter` makes an OS
// thread run as a threadkit thread (and `leave` undoes it); the registry's own
// thread-local maps the ident to its `Thread` record.

/// The main thread's ident; everything else counts from 2.
pub(crate) const MAIN_IDENT: u64 = 1;
static NEXT_IDENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(MAIN_IDENT + 1);

/// A new ident: unique in the process, never reused.
pub(crate) fn next_ident() -> u64 {
    NEXT_IDENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Whether the caller is the process's main thread (on Linux its tid is the pid):
/// known without thread-locals, so it holds during `exit()` too.
pub(crate) fn is_main_os_thread() -> bool {
    crate::sys::gettid() == crate::sys::getpid()
}

/// The main thread's parker (its record's, made on first use).
pub(crate) fn main_parker() -> &'static Arc<Parker> {
    static MAIN_PARKER: std::sync::OnceLock<Arc<Parker>> = std::sync::OnceLock::new();
    MAIN_PARKER.get_or_init(|| Arc::new(Parker::new()))
}

std::thread_local! {
    /// The ident this OS thread runs as, 0 until first asked. No destructor, so it
    /// stays readable while thread-locals are torn down.
    static IDENT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The parker this OS thread's waits park on, made on first use.
    static PARKER: std::cell::RefCell<Option<Arc<Parker>>> = const { std::cell::RefCell::new(None) };
}

/// The parker of a thread not yet seen: the main thread's, or a private one (a
/// thread threadkit did not start is not registered by waiting).
#[cfg(not(loom))]
fn fresh_parker() -> Arc<Parker> {
    if is_main_os_thread() {
        Arc::clone(main_parker())
    } else {
        Arc::new(Parker::new())
    }
}

/// The calling thread's parker: that of the threadkit thread it runs as, the main
/// thread's, or a private one for a thread threadkit did not start.
pub(crate) fn current_parker() -> Arc<Parker> {
    with_current_parker(Arc::clone)
}

/// Runs `f` on the calling thread's parker (see [`current_parker`]) without
/// cloning it.
#[cfg(not(loom))]
fn with_current_parker<R>(f: impl FnOnce(&Arc<Parker>) -> R) -> R {
    let mut f = Some(f);
    PARKER
        .try_with(|p| {
            (f.take().expect("called once"))(p.borrow_mut().get_or_insert_with(fresh_parker))
        })
        // Thread-locals are being torn down: a parker for this call only.
        .unwrap_or_else(|_| (f.take().expect("not called"))(&fresh_parker()))
}

/// The calling thread's identity for ownership (RLock): the ident of the threadkit
/// thread it runs as, [`MAIN_IDENT`] on the main thread, or a number reserved for
/// this OS thread (the one it gets if it is later registered as a dummy thread).
///
/// Inlined: every Lock and RLock fast path asks for it, and once the ident is
/// assigned it is one thread-local load (a `const`-initialised `Cell` with no
/// destructor needs no lazy-init check); a call into this crate cost more than
/// the load (benches/sync, `lock_uncontended`).
#[cfg(not(loom))]
#[inline]
pub(crate) fn current_ident() -> u64 {
    let id = IDENT.get();
    if id != 0 {
        return id;
    }
    first_ident()
}

/// Assigns the calling OS thread its ident on its first ask.
#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn first_ident() -> u64 {
    let id = if is_main_os_thread() {
        MAIN_IDENT
    } else {
        next_ident()
    };
    IDENT.set(id);
    id
}

/// Whether a stop was requested for the thread the caller runs as.
pub(crate) fn current_stop_requested() -> bool {
    current_parker().is_stopped()
}

/// What [`enter`] replaced, for [`leave`] to put back.
#[derive(Debug)]
pub(crate) struct Entered {
    ident: u64,
    parker: Option<Arc<Parker>>,
}

/// Makes the calling OS thread run as the thread with `ident` and `parker` until
/// [`leave`].
pub(crate) fn enter(ident: u64, parker: Arc<Parker>) -> Entered {
    Entered {
        ident: IDENT.replace(ident),
        parker: PARKER.with(|p| p.replace(Some(parker))),
    }
}

/// Undoes [`enter`].
pub(crate) fn leave(previous: Entered) {
    IDENT.set(previous.ident);
    PARKER.with(|p| *p.borrow_mut() = previous.parker);
}

#[cfg(loom)]
loom::thread_local! {
    static LOOM_PARKER: Arc<Parker> = Arc::new(Parker::new());
    static LOOM_IDENT: u64 = {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
}

/// Under loom: the loom thread's own parker.
#[cfg(loom)]
fn with_current_parker<R>(f: impl FnOnce(&Arc<Parker>) -> R) -> R {
    LOOM_PARKER.with(f)
}

/// Under loom: a number unique to the loom thread.
#[cfg(loom)]
pub(crate) fn current_ident() -> u64 {
    LOOM_IDENT.with(|id| *id)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn token_before_park_returns_at_once() {
        let p = Parker::new();
        p.unpark();
        p.park_deadline(None);
    }

    #[test]
    fn park_deadline_returns_after_deadline() {
        let p = Parker::new();
        let start = Instant::now();
        p.park_deadline(Some(start + Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn waiter_times_out_and_then_sees_notify() {
        let w = Waiter::with_parker(Arc::new(Parker::new()));
        let d = Instant::now() + Duration::from_millis(10);
        assert_eq!(w.wait(Some(d), true), Wake::TimedOut);
        w.notify();
        assert_eq!(w.wait(Some(d), true), Wake::Notified);
    }

    #[test]
    fn stop_wakes_a_stoppable_wait_only() {
        let p = Arc::new(Parker::new());
        let w = Waiter::with_parker(p.clone());
        p.request_stop();
        assert_eq!(w.wait(None, true), Wake::Stopped);
        let d = Instant::now() + Duration::from_millis(10);
        assert_eq!(w.wait(Some(d), false), Wake::TimedOut);
    }
}
