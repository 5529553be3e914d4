//! [`Semaphore`] and [`BoundedSemaphore`]: Python's counting semaphores, and their
//! guards [`SemaphoreGuard`] and [`BoundedSemaphoreGuard`].
//!
//! Both share one core: the free permits and a "waiters are queued" bit in one
//! atomic word, so a free permit is taken and a permit returned with no waiter
//! queued by a single compare-and-swap; a thread parks only when no permit is free.
//! A release that finds the bit set hands permits to the oldest waiters directly,
//! under the queue's lock.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::Error;
use super::timeout;
use super::wait::{self, Holder, Object, WaitKind};
use crate::sync::{lock, AtomicUsize, Mutex, Ordering, Waiter, Wake};

// The state word: `permits << 1 | QUEUED`.
/// Set while the wait queue may be non-empty; changed only under the queue's lock.
const QUEUED: usize = 1;
/// One permit in the state word.
const ONE: usize = 2;
/// The most permits a semaphore can count.
const MAX_PERMITS: usize = usize::MAX >> 1;

/// The shared machinery of both semaphores.
struct Core {
    /// `permits << 1 | QUEUED`: free permits, and whether a release must look at
    /// the queue.
    state: AtomicUsize,
    /// Threads waiting for a permit, oldest first. A waiter in this queue has not
    /// been given a permit; one taken off it by a release has.
    queue: Mutex<VecDeque<Arc<Waiter>>>,
    /// Its name, for the records of threads waiting on it.
    meta: Arc<Object>,
}

impl Core {
    fn new(permits: usize) -> Core {
        assert!(
            permits <= MAX_PERMITS,
            "semaphore value {permits} is larger than {MAX_PERMITS}"
        );
        Core {
            state: AtomicUsize::new(permits * ONE),
            queue: Mutex::new(VecDeque::new()),
            meta: Object::new(WaitKind::Semaphore),
        }
    }

    fn named(mut self, name: String) -> Core {
        Object::named(&mut self.meta, name);
        self
    }

    fn permits(&self) -> usize {
        // Relaxed: a snapshot (`value()`, `Debug`, the bound check's error path).
        self.state.load(Ordering::Relaxed) / ONE
    }

    /// Takes a free permit if there is one, without blocking.
    fn try_acquire(&self) -> bool {
        // Relaxed first read: the CAS below validates it.
        let mut s = self.state.load(Ordering::Relaxed);
        while s >= ONE {
            // Acquire on success: pairs with the Release of the `release` that put
            // this permit back, so what the releaser did is visible to us.
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// Takes a permit, blocking until `deadline` (None: no deadline); a stoppable
    /// wait gives up when a stop is requested for the caller.
    fn acquire(&self, deadline: Option<Instant>, stoppable: bool) -> bool {
        if self.try_acquire() {
            return true;
        }
        self.acquire_slow(deadline, stoppable)
    }

    /// Takes a permit, waiting at most `timeout` (stoppable); a free permit is taken
    /// before the clock is read.
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.try_acquire() || self.acquire_slow(timeout::deadline(timeout), true)
    }

    fn acquire_slow(&self, deadline: Option<Instant>, stoppable: bool) -> bool {
        let me = Waiter::new();
        {
            let mut queue = lock(&self.queue);
            // Take a permit or announce ourselves with QUEUED in one CAS on the
            // state word, so a concurrent release either leaves a permit we see here
            // or sees the bit and comes to the queue (after we unlock).
            let mut s = self.state.load(Ordering::Relaxed);
            loop {
                let (new, got) = if s >= ONE {
                    (s - ONE, true)
                } else {
                    (s | QUEUED, false)
                };
                // Acquire, as in `try_acquire`.
                match self
                    .state
                    .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
                {
                    Ok(_) if got => return true,
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
            if stoppable && me.is_stopped() {
                self.clear_queued_if_empty(&queue);
                return false;
            }
            queue.push_back(Arc::clone(&me));
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let _record = wait::begin(WaitKind::Semaphore, &self.meta, Holder::Nobody, timeout);
        match me.wait(deadline, stoppable) {
            // A release took us off the queue and handed us its permit.
            Wake::Notified => true,
            Wake::TimedOut | Wake::Stopped => {
                let mut queue = lock(&self.queue);
                match queue.iter().position(|w| Arc::ptr_eq(w, &me)) {
                    Some(i) => {
                        queue.remove(i);
                        self.clear_queued_if_empty(&queue);
                        false
                    }
                    // Chosen meanwhile: the permit is ours.
                    None => true,
                }
            }
        }
    }

    /// Clears QUEUED when nobody waits any more (called under the queue's lock).
    fn clear_queued_if_empty(&self, queue: &VecDeque<Arc<Waiter>>) {
        if queue.is_empty() {
            // Relaxed: the bit only routes releases to the lock; the permits it
            // shares the word with are untouched.
            self.state.fetch_and(!QUEUED, Ordering::Relaxed);
        }
    }

    /// Returns `n` permits; with `bound`, fails (changing nothing) if the free
    /// permits would exceed it.
    fn release(&self, n: usize, bound: Option<usize>) -> Result<(), Error> {
        if n == 0 {
            return Ok(());
        }
        // Relaxed first read: the CAS validates it.
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let permits = s / ONE;
            let total = match permits.checked_add(n) {
                Some(t) if t <= MAX_PERMITS => t,
                _ if bound.is_some() => return Err(Error::OverRelease),
                _ => panic!("semaphore value overflow: {permits} + {n} permits"),
            };
            if bound.is_some_and(|b| total > b) {
                return Err(Error::OverRelease);
            }
            // Release on success: what we did before releasing becomes visible to
            // the thread that takes the permit (its Acquire CAS).
            match self.state.compare_exchange_weak(
                s,
                (total * ONE) | (s & QUEUED),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if s & QUEUED != 0 {
            self.hand_off(n);
        }
        Ok(())
    }

    /// Gives up to `n` free permits to the oldest waiters.
    fn hand_off(&self, n: usize) {
        // The first chosen waiter needs no allocation; more (release_n) go in a Vec.
        let mut first = None;
        let mut more = Vec::new();
        {
            let mut queue = lock(&self.queue);
            for _ in 0..n {
                if queue.is_empty() || !self.try_acquire() {
                    // Nobody left to wake, or a thread that did not queue took the
                    // permit first (it is in use either way: nothing is lost).
                    break;
                }
                let w = queue.pop_front().expect("checked non-empty");
                if first.is_none() {
                    first = Some(w);
                } else {
                    more.push(w);
                }
            }
            self.clear_queued_if_empty(&queue);
        }
        // Off the queue under the lock, with a permit each: these waiters return
        // `true` even if their wait timed out meanwhile. They are woken after the
        // unlock: a waiter woken on this core could otherwise preempt us and then
        // block on the lock we still hold (two extra context switches per hand-off).
        for w in first.into_iter().chain(more) {
            w.notify();
        }
    }

    fn n_waiting(&self) -> usize {
        lock(&self.queue).len()
    }
}

/// A counting semaphore: [`acquire`](Self::acquire) takes one of its permits,
/// blocking while there are none, and [`release`](Self::release) returns one.
/// Python: `threading.Semaphore`.
///
/// Waiters are served oldest first, but a thread arriving while a permit is free
/// takes it without queueing (as in CPython). A permit released while threads wait
/// goes straight to the oldest of them.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Semaphore, Thread};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// // At most two workers download at once.
/// let slots = Arc::new(Semaphore::new(2));
/// let workers: Vec<Thread> = (0..5)
///     .map(|i| {
///         let slots = slots.clone();
///         Thread::new(move || {
///             let _slot = slots.access();
///             println!("worker {i} downloading");
///         })
///     })
///     .collect();
/// for w in &workers {
///     w.start()?;
/// }
/// for w in &workers {
///     w.join()?;
/// }
/// # Ok(())
/// # }
/// ```
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// A semaphore with `value` free permits. Python: `Semaphore(value)`.
    ///
    /// # Panics
    ///
    /// If `value` is larger than `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            core: Core::new(value),
        }
    }

    /// Names the semaphore, for thread dumps and wait records.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(2).with_name("db slots");
    /// assert_eq!(sem.name().as_deref(), Some("db slots"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Semaphore {
        self.core = self.core.named(name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `Semaphore#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// assert_eq!(Semaphore::new(2).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.core.meta.name()
    }

    /// Takes a permit, blocking until one is free. Python: `acquire()`.
    ///
    /// Not interrupted by a stop request ([`Thread::stop`](super::Thread::stop)):
    /// use [`acquire_timeout`](Self::acquire_timeout) for a wait that is.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// sem.acquire();
    /// // ... use the resource ...
    /// sem.release();
    /// ```
    pub fn acquire(&self) {
        self.core.acquire(None, false);
    }

    /// Takes a permit if one is free, without blocking; `true` if it did. Python:
    /// `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// assert!(!sem.try_acquire());
    /// sem.release();
    /// assert!(sem.try_acquire());
    /// ```
    #[must_use = "if it returns true a permit is taken and must be released"]
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; `true` if it got one. Python:
    /// `acquire(timeout=t)`.
    ///
    /// The timeout is measured from the call and never ends the wait early; beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) it waits forever. A stop requested for the
    /// calling thread ends the wait with `false` (a free permit is still taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    /// use std::time::Duration;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(10)));
    /// ```
    #[must_use = "if it returns true a permit is taken and must be released"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.core.acquire_timeout(timeout)
    }

    /// Takes a permit (blocking as [`acquire`](Self::acquire)) and returns a guard
    /// that releases it when dropped. Python: `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// {
    ///     let _permit = sem.access();
    ///     assert!(!sem.try_acquire());
    /// }
    /// assert!(sem.try_acquire());
    /// ```
    pub fn access(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { sem: self }
    }

    /// Returns one permit, waking the oldest waiter if any. Any thread may release,
    /// and releasing more than was acquired raises the count. Python: `release()`.
    ///
    /// # Panics
    ///
    /// If the count would exceed `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.release();
    /// assert!(sem.try_acquire());
    /// ```
    pub fn release(&self) {
        self.release_n(1);
    }

    /// Returns `n` permits, waking up to `n` waiters; `n = 0` does nothing. Python:
    /// `release(n)` (which rejects 0).
    ///
    /// # Panics
    ///
    /// If the count would exceed `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.release_n(3);
    /// assert!(sem.try_acquire() && sem.try_acquire() && sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn release_n(&self, n: usize) {
        let unbounded = self.core.release(n, None);
        debug_assert!(unbounded.is_ok());
    }

    /// The number of threads blocked waiting for a permit right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Semaphore, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let sem = Arc::new(Semaphore::new(0));
    /// let s = sem.clone();
    /// let t = Thread::new(move || s.acquire());
    /// t.start()?;
    /// while sem.n_waiting() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// sem.release();
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.core.n_waiting()
    }

    /// The free permits now: a snapshot, for monitors and tests. Python: `_value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 1);
    /// sem.release_n(3);
    /// assert_eq!(sem.value(), 4);
    /// ```
    pub fn value(&self) -> usize {
        self.core.permits()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.core.permits())
            .field("n_waiting", &self.core.n_waiting())
            .finish()
    }
}

/// A permit of a [`Semaphore`], released when dropped; from
/// [`Semaphore::access`].
///
/// # Examples
///
/// ```
/// use threadkit::threading::Semaphore;
///
/// let sem = Semaphore::new(1);
/// let permit = sem.access();
/// drop(permit);
/// assert!(sem.try_acquire());
/// ```
#[must_use = "the permit is released as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    sem: &'a Semaphore,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        self.sem.release();
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("sem", self.sem)
            .finish()
    }
}

/// A semaphore that refuses to be released above its initial value, which catches
/// a release without a matching acquire. Python: `threading.BoundedSemaphore`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{BoundedSemaphore, Error};
///
/// let pool = BoundedSemaphore::new(2);
/// pool.acquire();
/// pool.release().unwrap();
/// assert!(matches!(pool.release(), Err(Error::OverRelease)));
/// ```
pub struct BoundedSemaphore {
    core: Core,
    /// The initial value: the free permits may never exceed it.
    bound: usize,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, all free. Python:
    /// `BoundedSemaphore(value)`.
    ///
    /// # Panics
    ///
    /// If `value` is larger than `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// ```
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(value),
            bound: value,
        }
    }

    /// Names the semaphore, for thread dumps and wait records.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2).with_name("db slots");
    /// assert_eq!(sem.name().as_deref(), Some("db slots"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> BoundedSemaphore {
        self.core = self.core.named(name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `Semaphore#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// assert_eq!(BoundedSemaphore::new(2).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.core.meta.name()
    }

    /// Takes a permit, blocking until one is free; not interrupted by a stop
    /// request. Python: `acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let sem = BoundedSemaphore::new(1);
    /// sem.acquire();
    /// sem.release()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn acquire(&self) {
        self.core.acquire(None, false);
    }

    /// Takes a permit if one is free, without blocking; `true` if it did. Python:
    /// `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[must_use = "if it returns true a permit is taken and must be released"]
    pub fn try_acquire(&self) -> bool {
        self.core.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; `true` if it got one. Python:
    /// `acquire(timeout=t)`.
    ///
    /// The timeout is measured from the call and never ends the wait early; beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) it waits forever. A stop requested for the
    /// calling thread ends the wait with `false` (a free permit is still taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    /// use std::time::Duration;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(10)));
    /// ```
    #[must_use = "if it returns true a permit is taken and must be released"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.core.acquire_timeout(timeout)
    }

    /// Takes a permit (blocking as [`acquire`](Self::acquire)) and returns a guard
    /// that releases it when dropped. Python: `with sem:`.
    ///
    /// If the semaphore was over-released meanwhile so that the guard's own release
    /// would exceed the bound, the drop releases nothing (a destructor cannot report
    /// [`Error::OverRelease`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// {
    ///     let _permit = sem.access();
    ///     assert!(!sem.try_acquire());
    /// }
    /// assert!(sem.try_acquire());
    /// ```
    pub fn access(&self) -> BoundedSemaphoreGuard<'_> {
        self.acquire();
        BoundedSemaphoreGuard { sem: self }
    }

    /// Returns one permit, waking the oldest waiter if any. Python: `release()`.
    ///
    /// # Errors
    ///
    /// [`Error::OverRelease`] if the free permits would exceed the initial value;
    /// nothing changes then.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{BoundedSemaphore, Error};
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert!(matches!(sem.release(), Err(Error::OverRelease)));
    /// sem.acquire();
    /// assert!(sem.release().is_ok());
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        self.release_n(1)
    }

    /// Returns `n` permits, waking up to `n` waiters; `n = 0` does nothing. Python:
    /// `release(n)` (which rejects 0).
    ///
    /// # Errors
    ///
    /// [`Error::OverRelease`] if the free permits would exceed the initial value;
    /// nothing changes then (no permit of the `n` is returned).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{BoundedSemaphore, Error};
    ///
    /// let sem = BoundedSemaphore::new(3);
    /// sem.acquire();
    /// sem.acquire();
    /// assert!(matches!(sem.release_n(3), Err(Error::OverRelease)));
    /// assert!(sem.release_n(2).is_ok());
    /// ```
    pub fn release_n(&self, n: usize) -> Result<(), Error> {
        self.core.release(n, Some(self.bound))
    }

    /// The number of threads blocked waiting for a permit right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert_eq!(sem.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.core.n_waiting()
    }

    /// The free permits now (at most the initial value): a snapshot, for monitors
    /// and tests. Python: `_value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire());
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.core.permits()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.core.permits())
            .field("bound", &self.bound)
            .field("n_waiting", &self.core.n_waiting())
            .finish()
    }
}

/// A permit of a [`BoundedSemaphore`], released when dropped; from
/// [`BoundedSemaphore::access`].
///
/// # Examples
///
/// ```
/// use threadkit::threading::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// let permit = sem.access();
/// drop(permit);
/// assert!(sem.try_acquire());
/// ```
#[must_use = "the permit is released as soon as the guard is dropped"]
pub struct BoundedSemaphoreGuard<'a> {
    sem: &'a BoundedSemaphore,
}

impl Drop for BoundedSemaphoreGuard<'_> {
    fn drop(&mut self) {
        // An over-release here means someone else released our permit already.
        let _ = self.sem.release();
    }
}

impl fmt::Debug for BoundedSemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphoreGuard")
            .field("sem", self.sem)
            .finish()
    }
}

// The public types are `Send + Sync + Debug`, checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + fmt::Debug>() {}
    check::<Semaphore>();
    check::<BoundedSemaphore>();
    check::<SemaphoreGuard<'static>>();
    check::<BoundedSemaphoreGuard<'static>>();
};
