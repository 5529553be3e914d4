//! [`Lock`]: Python's `threading.Lock`, a lock with no owner, and its guard
//! [`LockGuard`].

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timeout;
use super::wait::{self, Holder, Object, WaitKind};
use super::Error;
use crate::sync::{current_ident, lock, AtomicU64, Mutex, MutexGuard, Ordering, Waiter, Wake};

// The state word. LOCKED: someone holds the lock. PARKED: the queue may hold
// waiters, so a release must take the slow path and wake one. Above them, from
// bit HOLDER_SHIFT, the ident of the thread that acquired it (0 while free): the
// acquiring compare-and-swap writes it with LOCKED, so naming the holder costs
// the fast path nothing (an RLock reads its owner there too).
//
// Invariants (all kept under the queue mutex):
// - a waiter is in the queue only while PARKED is set (it sets PARKED before it
//   queues, and whoever empties the queue clears PARKED in the same critical
//   section), so a release that sees no PARKED has nobody to wake;
// - PARKED is set and cleared only with the queue mutex held; LOCKED and the
//   holder are set by anyone (the fast path), cleared by a release;
// - the holder shown to wait records (`meta`'s) is not 0 only while the state is
//   LOCKED | PARKED with that holder: it is written only under the queue mutex
//   while the state is so (with the mutex held, that state cannot change: a
//   release sees PARKED and needs the mutex), and whoever leaves that state, a
//   release or the last waiter giving up, clears it first. So the uncontended
//   paths never touch it, and a dump never sees a holder that has released.
const LOCKED: u64 = 1;
const PARKED: u64 = 2;
const HOLDER_SHIFT: u32 = 2;

/// The state word of a lock `ident` has just acquired, keeping `parked`.
#[inline]
fn held(ident: u64, parked: u64) -> u64 {
    (ident << HOLDER_SHIFT) | parked | LOCKED
}

// How many times a contended acquire re-reads the state before it queues, when
// nobody is queued yet. A holder usually releases within a few hundred cycles;
// parking costs two system calls. Measured with benches/sync (two threads
// incrementing under the lock, 2 cores): with a spin, 15-17 ns per increment
// run after run, as parking_lot; without it, 7 to 47 ns depending on whether one
// thread happened to keep the lock while the other slept. The spin is short:
// three busy steps, then yields (`sync::backoff`). A longer one (30 busy steps
// of up to 32 pauses, then 10 yields) lost to it in 6 of 8 back-to-back pairs of
// benches/lock_interleaved on the loaded machine (median ratio to parking_lot
// about 1.4x against about 1.1x): the spinner kept pulling the state's cache
// line from the holder. Not under loom, whose scheduler would explore every spin.
#[cfg(not(loom))]
const SPIN_LIMIT: u32 = 10;
#[cfg(loom)]
const SPIN_LIMIT: u32 = 0;
/// Steps 1 to 3 of the spin are busy (2, 4, 8 pauses), the rest yield.
const SPIN_BUSY: u32 = 4;

/// A lock with no owner: Python's `threading.Lock`, a binary semaphore.
///
/// Any thread may release it, not only the one that acquired it, and acquiring it
/// twice from one thread blocks (use [`RLock`](super::RLock) for a re-entrant
/// lock). It protects no data of its own: pair it with the data by convention, as
/// Python code does, or use a `std::sync::Mutex<T>` when one thread both locks and
/// unlocks.
///
/// Uncontended, an acquire and a release are one atomic compare-and-swap each.
/// A waiter queues and parks on its thread's parker, so a timed acquire
/// ([`acquire_timeout`](Self::acquire_timeout), [`lock_timeout`](Self::lock_timeout))
/// gives up when [`Thread::stop`](super::Thread::stop) is called for its thread.
/// The lock is not fair: a release wakes one waiter, which competes with threads
/// arriving meanwhile.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::threading::{Lock, Thread};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// // A lock used as a signal: one thread acquires, another releases.
/// let done = Arc::new(Lock::new());
/// done.acquire();
/// let signal = Arc::clone(&done);
/// let t = Thread::new(move || {
///     signal.release().expect("it was locked");
/// });
/// t.start()?;
/// done.acquire(); // blocks until the other thread has released it
/// t.join()?;
/// # Ok(())
/// # }
/// ```
pub struct Lock {
    /// LOCKED and PARKED bits and the holder's ident: the fast path's only
    /// shared word.
    state: AtomicU64,
    /// Threads blocked in an acquire, oldest first; a release wakes the front one.
    queue: Mutex<VecDeque<Arc<Waiter>>>,
    /// Its name, and its holder while threads are queued (see the invariants),
    /// shared with the records of threads waiting on it (a dump reads the holder
    /// as it is then).
    meta: Arc<Object>,
}

impl Lock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Lock {
        Lock::of_kind(WaitKind::Lock)
    }

    /// A lock shown in wait records as `kind` (an RLock's inner lock).
    pub(crate) fn of_kind(kind: WaitKind) -> Lock {
        Lock {
            state: AtomicU64::new(0),
            queue: Mutex::new(VecDeque::new()),
            meta: Object::new(kind),
        }
    }

    /// Names the lock, for thread dumps, wait records and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new().with_name("accounts");
    /// assert_eq!(lock.name().as_deref(), Some("accounts"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Lock {
        Object::named(&mut self.meta, name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed locks
    /// are shown as `Lock#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// assert_eq!(Lock::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.meta.name()
    }

    /// Acquires the lock, blocking as long as it takes. Python: `acquire()`.
    ///
    /// Not interrupted by [`Thread::stop`](super::Thread::stop). Acquiring a lock
    /// the calling thread already holds blocks until another thread releases it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        let me = current_ident();
        if !self.try_acquire_fast(me) {
            self.acquire_slow(me, None, false, &self.meta);
        }
    }

    /// [`acquire`](Self::acquire) by the thread `me` (the caller), past a
    /// failed fast path: an RLock that has tried it already.
    pub(crate) fn acquire_contended(&self, me: u64) {
        self.acquire_slow(me, None, false, &self.meta);
    }

    /// Acquires the lock as [`acquire`](Self::acquire) does, but a blocked wait
    /// is recorded as one on `shown` (a Condition taking its lock again).
    pub(crate) fn acquire_shown_as(&self, shown: &Arc<Object>) {
        let me = current_ident();
        if !self.try_acquire_fast(me) {
            self.acquire_slow(me, None, false, shown);
        }
    }

    /// Acquires the lock if it is free, without blocking; returns whether it did.
    /// Python: `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // held now, even by this thread
    /// ```
    #[inline]
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_as(current_ident())
    }

    /// [`try_acquire`](Self::try_acquire) by the thread `me` (the caller).
    #[inline]
    pub(crate) fn try_acquire_as(&self, me: u64) -> bool {
        self.try_acquire_fast(me) || self.take_state(me)
    }

    /// Sets LOCKED and names `me` the holder if the lock is free, whoever is
    /// queued; whether it did. When threads are queued, it shows them the new
    /// holder. A caller with a wait record of its own must have dropped it (see
    /// `acquire_slow`).
    fn take_state(&self, me: u64) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & LOCKED == 0 {
            // Acquire: what the last holder wrote before its release is visible
            // to us. Failure ordering Relaxed: we only retry.
            match self.state.compare_exchange_weak(
                s,
                held(me, s & PARKED),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if s & PARKED != 0 {
                        self.show_holder(&lock(&self.queue));
                    }
                    return true;
                }
                Err(now) => s = now,
            }
        }
        false
    }

    /// Shows the threads queued the holder as the state word names it now.
    /// Called with the queue mutex held (`_queue`): then a state of LOCKED |
    /// PARKED cannot change, so the holder shown is the holder (see the
    /// invariants); otherwise nobody is shown.
    fn show_holder(&self, _queue: &MutexGuard<'_, VecDeque<Arc<Waiter>>>) {
        // Relaxed: the mutex keeps this state from changing (see above).
        let s = self.state.load(Ordering::Relaxed);
        let shown = if s & (LOCKED | PARKED) == LOCKED | PARKED {
            s >> HOLDER_SHIFT
        } else {
            0
        };
        self.meta.set_holder(shown);
    }

    /// The ident of the thread that acquired the lock, while it is locked.
    ///
    /// A thread that reads its own ident here holds the lock (until someone
    /// else releases it: a Lock has no owner), whatever the ordering: only its
    /// own acquire wrote it, and only a release removes it.
    #[inline]
    pub(crate) fn holder(&self) -> u64 {
        // Relaxed: see above; for anyone else a snapshot.
        self.state.load(Ordering::Relaxed) >> HOLDER_SHIFT
    }

    /// Acquires the lock, giving up after `timeout`; returns whether it was
    /// acquired. Python: `acquire(timeout=...)`.
    ///
    /// Never gives up before `timeout` has passed; a timeout beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) waits forever. Returns `false` at once
    /// when the lock is held and a stop was requested for the calling thread
    /// ([`Thread::stop`](super::Thread::stop)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)));
    /// // Held: the second attempt waits 10 ms, then gives up.
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    /// ```
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_timeout_as(current_ident(), timeout)
    }

    /// [`acquire_timeout`](Self::acquire_timeout) by the thread `me` (the caller).
    pub(crate) fn acquire_timeout_as(&self, me: u64, timeout: Duration) -> bool {
        if self.try_acquire_fast(me) {
            return true;
        }
        self.acquire_slow(me, timeout::deadline(timeout), true, &self.meta)
    }

    /// Releases the lock, from any thread. Python: `release()`.
    ///
    /// Wakes one thread blocked in an acquire, if any.
    ///
    /// # Errors
    ///
    /// [`Error::ReleaseUnlocked`] if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, Lock};
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// lock.release()?;
    /// assert!(matches!(lock.release(), Err(Error::ReleaseUnlocked)));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), Error> {
        if self.release_fast(current_ident()) {
            return Ok(());
        }
        self.release_contended()
    }

    /// The common release: by `me` (the caller), its acquirer, with nobody
    /// queued. One CAS whose expected value is known without reading the word
    /// first (a load between the two CASes of an acquire + release, feeding the
    /// second, cost a third more: benches/sync, `lock_uncontended`). Nobody
    /// queued (no PARKED), so no wait record shows a holder (see the
    /// invariants) and the word is all there is to clear.
    #[inline]
    pub(crate) fn release_fast(&self, me: u64) -> bool {
        // Release: our writes under the lock are visible to the next acquirer,
        // whose CAS is Acquire. Failure Relaxed: the caller's slow path reloads.
        self.state
            .compare_exchange(held(me, 0), 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// The release when the word is not "locked by the caller, nobody queued":
    /// report a double release, wake a waiter, or release for another thread
    /// (a Lock has no owner).
    #[cold]
    fn release_contended(&self) -> Result<(), Error> {
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & LOCKED == 0 {
                return Err(Error::ReleaseUnlocked);
            }
            if s & PARKED != 0 {
                return self.release_slow();
            }
            // As in `release`; a failure means the word changed: look again.
            if self
                .state
                .compare_exchange(s, 0, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(());
            }
        }
    }

    /// Whether the lock is held (by any thread). Python: `locked()`.
    ///
    /// A snapshot: another thread may change it at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        // Relaxed: a snapshot that orders nothing else.
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Acquires the lock and returns a guard that releases it when dropped.
    /// Python: `with lock:`.
    ///
    /// Blocks as [`acquire`](Self::acquire) does (not interrupted by a stop).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// {
    ///     let _guard = lock.lock();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// Acquires the lock if it is free and returns its guard, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.try_lock();
    /// assert!(guard.is_some());
    /// assert!(lock.try_lock().is_none());
    /// ```
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        // `then`, not `then_some`: a guard built eagerly and dropped would
        // release the lock someone else holds.
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// Acquires the lock within `timeout` and returns its guard, or `None` if
    /// the time ran out or a stop was requested for the calling thread.
    ///
    /// Waits as [`acquire_timeout`](Self::acquire_timeout) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock_timeout(Duration::from_secs(1)).expect("free");
    /// assert!(lock.lock_timeout(Duration::from_millis(5)).is_none());
    /// drop(guard);
    /// ```
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// How many threads are blocked acquiring the lock right now.
    ///
    /// A snapshot, useful in tests to know a thread is blocked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.queue).len()
    }

    /// The uncontended case: unlocked, nobody queued. One CAS, which also names
    /// `me` the holder.
    #[inline]
    fn try_acquire_fast(&self, me: u64) -> bool {
        self.acquire_fast(me).is_ok()
    }

    /// [`try_acquire_fast`](Self::try_acquire_fast), or the holder's ident it
    /// saw instead (0: free, but threads are queued). An RLock learns from it
    /// that the caller owns it already, with no second look at the word.
    #[inline]
    pub(crate) fn acquire_fast(&self, me: u64) -> Result<(), u64> {
        // Acquire pairs with the Release of the previous release. Failure
        // Relaxed: the slow path reloads.
        match self
            .state
            .compare_exchange(0, held(me, 0), Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Ok(()),
            Err(s) => Err(s >> HOLDER_SHIFT),
        }
    }

    /// The contended acquire: spin a little, then queue and park until woken,
    /// retrying after each wake-up (a woken waiter competes with newcomers).
    /// Returns false when `deadline` passes or, if `stoppable`, a stop is
    /// requested. While it blocks, its thread's wait record names `shown`.
    #[cold]
    fn acquire_slow(
        &self,
        me: u64,
        deadline: Option<Instant>,
        stoppable: bool,
        shown: &Arc<Object>,
    ) -> bool {
        let mut spins = 0;
        // When this acquire first blocked, and the time it had left then: the
        // wait record of every park shows them.
        let mut blocked: Option<(Instant, Option<Duration>)> = None;
        loop {
            if self.take_state(me) {
                return true;
            }
            // Spin only while nobody is queued: with waiters queued, we would
            // only steal from them.
            if spins < SPIN_LIMIT && self.state.load(Ordering::Relaxed) & PARKED == 0 {
                spins += 1;
                crate::sync::backoff(spins, SPIN_BUSY);
                continue;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }

            let waiter = Waiter::new();
            if stoppable && waiter.is_stopped() {
                return false; // do not even queue
            }
            {
                let mut queue = lock(&self.queue);
                // Under the queue mutex nobody else can set or clear PARKED, so
                // after this CAS succeeds a release is bound to see PARKED and
                // wake the queue's front. Relaxed: the mutex orders the queue;
                // the lock's data is ordered by the Acquire CAS after wake-up.
                let s = self.state.load(Ordering::Relaxed);
                if s & LOCKED == 0 {
                    continue; // released meanwhile: retry
                }
                if s & PARKED == 0
                    && self
                        .state
                        .compare_exchange(s, s | PARKED, Ordering::Relaxed, Ordering::Relaxed)
                        .is_err()
                {
                    continue; // changed meanwhile (released or re-taken): retry
                }
                // LOCKED | PARKED now: show the queue who holds it (a holder that
                // took it by the fast path has not).
                self.show_holder(&queue);
                queue.push_back(Arc::clone(&waiter));
            }

            let (since, timeout) = *blocked.get_or_insert_with(|| {
                let now = Instant::now();
                (now, deadline.map(|d| d.saturating_duration_since(now)))
            });
            // The wait record lives for this park only: gone before we try to take
            // the lock again, it never shows us waiting on a lock the state word
            // already names us the holder of (a dump would see a self-deadlock
            // that is not there).
            let record = wait::begin_since(
                shown.kind(),
                shown,
                Holder::Of(Arc::clone(&self.meta)),
                timeout,
                since,
            );
            let woke = waiter.wait(deadline, stoppable);
            drop(record);
            match woke {
                Wake::Notified => spins = 0,
                Wake::TimedOut | Wake::Stopped => {
                    let mut queue = lock(&self.queue);
                    if let Some(i) = queue.iter().position(|w| Arc::ptr_eq(w, &waiter)) {
                        queue.remove(i);
                        if queue.is_empty() {
                            // Nobody is queued to be shown a holder any more, and
                            // the holder may now release by the fast path.
                            self.meta.set_holder(0);
                            // Relaxed: PARKED only routes releases; under the mutex.
                            self.state.fetch_and(!PARKED, Ordering::Relaxed);
                        }
                    } else {
                        // A release chose us meanwhile: its wake-up must not be
                        // lost, so hand it to the next waiter if the lock is
                        // still free.
                        self.wake_one_if_free(&mut queue);
                    }
                    return false;
                }
            }
        }
    }

    /// The release when PARKED is set: unlock and wake the oldest waiter.
    #[cold]
    fn release_slow(&self) -> Result<(), Error> {
        let mut queue = lock(&self.queue);
        // The holder is leaving: show none until the next one takes it.
        self.meta.set_holder(0);
        // Relaxed load: the CAS below validates it.
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED == 0 {
                return Err(Error::ReleaseUnlocked);
            }
            // Keep PARKED while others stay queued after the one we wake; the
            // woken waiter sets it again if it has to queue once more.
            let next = if queue.len() > 1 { PARKED } else { 0 };
            // Release: publishes the holder's writes to the next acquirer.
            match self
                .state
                .compare_exchange(s, next, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if let Some(w) = queue.pop_front() {
            w.notify();
        }
        Ok(())
    }

    /// Passes on a wake-up that a giving-up waiter received: if the lock is free
    /// and someone is queued, wake the oldest.
    fn wake_one_if_free(&self, queue: &mut VecDeque<Arc<Waiter>>) {
        // Relaxed: under the queue mutex; the woken waiter retries with Acquire.
        if self.state.load(Ordering::Relaxed) & LOCKED != 0 {
            return; // the holder's release will wake someone
        }
        if let Some(w) = queue.pop_front() {
            if queue.is_empty() {
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            w.notify();
        }
    }
}

impl Default for Lock {
    /// Creates an unlocked lock, as [`Lock::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Lock;
    ///
    /// assert!(!Lock::default().locked());
    /// ```
    fn default() -> Lock {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// Holds a [`Lock`] and releases it when dropped: Python's `with lock:`.
///
/// Made by [`Lock::lock`], [`Lock::try_lock`] and [`Lock::lock_timeout`]. As a
/// `Lock` has no owner, the guard may be sent to and dropped on another thread.
/// If someone else released the lock meanwhile, the drop does nothing.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Lock;
///
/// let lock = Lock::new();
/// let guard = lock.lock();
/// assert!(lock.locked());
/// drop(guard);
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // An error means another thread released the lock already: Python code
        // may do that, and a destructor has nothing to report it to.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}

// The public types are shareable between threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Lock>();
    send_sync::<LockGuard<'_>>();
};
