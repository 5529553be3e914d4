//! [`Condition`]: Python's `threading.Condition`, a condition variable over a
//! [`Lock`] or an [`RLock`], with its guard [`ConditionGuard`] and the lock choice
//! [`ConditionLock`].

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timeout;
use super::wait::{self, Holder, Object, WaitKind};
use super::{Error, Lock, RLock};
use crate::sync::{lock, Mutex, Waiter, Wake};

/// The lock under a [`Condition`]: a [`Lock`] or an [`RLock`], shared by `Arc`
/// with other code.
///
/// [`Condition::with_lock`] takes anything that converts into it, so both
/// `Arc<Lock>` and `Arc<RLock>` can be passed directly.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::threading::{Condition, ConditionLock, Lock};
///
/// let lock = Arc::new(Lock::new());
/// let cond = Condition::with_lock(Arc::clone(&lock));
/// assert!(matches!(cond.lock_kind(), ConditionLock::Lock(_)));
/// ```
#[derive(Debug, Clone)]
pub enum ConditionLock {
    /// A [`Lock`]: "held" means held by any thread.
    Lock(Arc<Lock>),
    /// An [`RLock`]: "held" means owned by the calling thread; a wait releases
    /// every level and restores them.
    RLock(Arc<RLock>),
}

impl From<Arc<Lock>> for ConditionLock {
    /// Wraps a shared [`Lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::threading::{ConditionLock, Lock};
    ///
    /// let l: ConditionLock = Arc::new(Lock::new()).into();
    /// assert!(matches!(l, ConditionLock::Lock(_)));
    /// ```
    fn from(lock: Arc<Lock>) -> ConditionLock {
        ConditionLock::Lock(lock)
    }
}

impl From<Arc<RLock>> for ConditionLock {
    /// Wraps a shared [`RLock`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::threading::{ConditionLock, RLock};
    ///
    /// let l: ConditionLock = Arc::new(RLock::new()).into();
    /// assert!(matches!(l, ConditionLock::RLock(_)));
    /// ```
    fn from(rlock: Arc<RLock>) -> ConditionLock {
        ConditionLock::RLock(rlock)
    }
}

/// A condition variable: Python's `threading.Condition`.
///
/// Threads holding the condition's lock [`wait`](Self::wait) for a change;
/// another thread, holding the lock too, makes the change and calls
/// [`notify`](Self::notify) or [`notify_all`](Self::notify_all). A wait releases
/// the lock while it blocks and holds it again when it returns, whether it was
/// notified, timed out or stopped.
///
/// Waiters queue in arrival order, each with a signal of its own (as CPython
/// does), so `notify(n)` wakes the `n` oldest, and a notified waiter never misses
/// its wake-up: a notification that races a timeout makes the wait return `true`.
/// There are no spurious wake-ups, but a notified waiter still competes for the
/// lock, so re-check the state you wait for ([`wait_for`](Self::wait_for) does).
///
/// Waits are interrupted by [`Thread::stop`](super::Thread::stop): they return
/// `Ok(false)` with the lock held again.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::threading::{Condition, Thread};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let cond = Arc::new(Condition::new());
/// let items = Arc::new(Mutex::new(Vec::new()));
///
/// let (c, it) = (Arc::clone(&cond), Arc::clone(&items));
/// let producer = Thread::new(move || {
///     let _g = c.lock();
///     it.lock().unwrap().push(42);
///     c.notify(1).expect("lock held");
/// });
///
/// let _g = cond.lock();
/// producer.start()?;
/// // The wait releases the lock, so the producer can take it.
/// cond.wait_for(|| !items.lock().unwrap().is_empty(), None)?;
/// assert_eq!(items.lock().unwrap().pop(), Some(42));
/// # drop(_g);
/// # producer.join()?;
/// # Ok(())
/// # }
/// ```
pub struct Condition {
    lock: ConditionLock,
    /// Threads blocked in a wait, oldest first; each is woken through its own
    /// `Waiter`, so a notification reaches exactly the waiter it chose.
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
    /// Its name, for the records of threads waiting on it.
    meta: Arc<Object>,
}

impl Condition {
    /// Creates a condition over a new [`RLock`] of its own. Python:
    /// `Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// cond.acquire();
    /// cond.acquire(); // an RLock: re-entrant
    /// cond.release()?;
    /// cond.release()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn new() -> Condition {
        Condition::with_lock(Arc::new(RLock::new()))
    }

    /// Creates a condition over a lock shared with other code: an `Arc<Lock>`
    /// or an `Arc<RLock>`. Python: `Condition(lock)`.
    ///
    /// Over a [`Lock`], which has no owner, "the lock is held" means held by any
    /// thread; over an [`RLock`] it means owned by the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::threading::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let cond = Condition::with_lock(Arc::clone(&lock));
    /// cond.acquire();
    /// assert!(lock.locked());
    /// cond.release()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn with_lock(lock: impl Into<ConditionLock>) -> Condition {
        Condition {
            lock: lock.into(),
            waiters: Mutex::new(VecDeque::new()),
            meta: Object::new(WaitKind::Condition),
        }
    }

    /// Names the condition, for thread dumps, wait records and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new().with_name("work ready");
    /// assert_eq!(cond.name().as_deref(), Some("work ready"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Condition {
        Object::named(&mut self.meta, name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `Condition#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// assert_eq!(Condition::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.meta.name()
    }

    /// The lock this condition waits over.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Condition, ConditionLock};
    ///
    /// let cond = Condition::new();
    /// if let ConditionLock::RLock(rlock) = cond.lock_kind() {
    ///     let _g = cond.lock();
    ///     assert!(rlock.is_owned());
    /// }
    /// ```
    pub fn lock_kind(&self) -> &ConditionLock {
        &self.lock
    }

    /// Acquires the underlying lock, blocking as long as it takes. Python:
    /// `acquire()`.
    ///
    /// Not interrupted by [`Thread::stop`](super::Thread::stop).
    ///
    /// # Panics
    ///
    /// Over an [`RLock`], if its recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// cond.acquire();
    /// cond.notify_all()?; // allowed: the lock is held
    /// cond.release()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn acquire(&self) {
        match &self.lock {
            ConditionLock::Lock(l) => l.acquire(),
            ConditionLock::RLock(r) => r.acquire(),
        }
    }

    /// Acquires the underlying lock if that can be done without blocking; returns
    /// whether it was acquired. Python: `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Condition, Lock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let cond = Condition::with_lock(lock.clone());
    /// assert!(cond.try_acquire());
    /// assert!(!cond.try_acquire()); // a Lock is not re-entrant
    /// cond.release()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_acquire(&self) -> bool {
        match &self.lock {
            ConditionLock::Lock(l) => l.try_acquire(),
            ConditionLock::RLock(r) => r.try_acquire(),
        }
    }

    /// Acquires the underlying lock, giving up after `timeout`; returns whether it
    /// was acquired. Python: `acquire(timeout=...)`.
    ///
    /// As the lock's own `acquire_timeout`: never gives up before `timeout`, waits
    /// forever beyond [`TIMEOUT_MAX`](super::TIMEOUT_MAX), and a stop requested for
    /// the calling thread ends the wait with `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    /// use std::time::Duration;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(10)));
    /// assert!(cond.is_owned());
    /// cond.release()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        match &self.lock {
            ConditionLock::Lock(l) => l.acquire_timeout(timeout),
            ConditionLock::RLock(r) => r.acquire_timeout(timeout),
        }
    }

    /// Whether the caller may wait or notify: over an [`RLock`], the caller owns
    /// it; over a [`Lock`] (which has no owner), it is held by anyone. Python:
    /// `_is_owned()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// assert!(!cond.is_owned());
    /// let _g = cond.lock();
    /// assert!(cond.is_owned());
    /// ```
    pub fn is_owned(&self) -> bool {
        self.is_held()
    }

    /// Releases the underlying lock (one level of an [`RLock`]). Python:
    /// `release()`.
    ///
    /// # Errors
    ///
    /// As the lock's own release: [`Error::ReleaseUnlocked`] over an unlocked
    /// [`Lock`], [`Error::NotOwner`] over an [`RLock`] the caller does not own.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Condition, Error};
    ///
    /// let cond = Condition::new();
    /// assert!(matches!(cond.release(), Err(Error::NotOwner)));
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        match &self.lock {
            ConditionLock::Lock(l) => l.release(),
            ConditionLock::RLock(r) => r.release(),
        }
    }

    /// Acquires the underlying lock and returns a guard that releases it when
    /// dropped. Python: `with cond:`.
    ///
    /// # Panics
    ///
    /// Over an [`RLock`], if its recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// cond.notify(1)?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn lock(&self) -> ConditionGuard<'_> {
        self.acquire();
        ConditionGuard {
            cond: self,
            _not_send: PhantomData,
        }
    }

    /// Waits until notified; returns `Ok(true)`, or `Ok(false)` if a stop was
    /// requested for the calling thread (unless a notify had chosen it already).
    /// Python: `wait()`.
    ///
    /// Releases the lock while waiting (every level of an [`RLock`]) and holds it
    /// again, at the same depth, when it returns.
    ///
    /// # Errors
    ///
    /// [`Error::LockNotHeld`] if the lock is not held (over a [`Lock`]: by
    /// anyone; over an [`RLock`]: by the caller). The lock is then untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::threading::{Condition, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let cond = Arc::new(Condition::new());
    /// let c = Arc::clone(&cond);
    /// let _g = cond.lock();
    /// let t = Thread::new(move || {
    ///     let _g = c.lock(); // gets the lock once the main thread waits
    ///     c.notify(1).unwrap();
    /// });
    /// t.start()?;
    /// assert!(cond.wait()?);
    /// # drop(_g);
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self) -> Result<bool, Error> {
        Ok(self.wait_until(None)? == Wake::Notified)
    }

    /// Waits until notified or until `timeout` has passed; returns whether it was
    /// notified. Python: `wait(timeout)`.
    ///
    /// Never returns `false` before `timeout` has passed, except at once when a
    /// stop is requested for the calling thread; a timeout beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) waits forever. The timeout counts the
    /// wait for a notification, not the time to take the lock again afterwards:
    /// the lock is held again when this returns, timed out or not.
    ///
    /// # Errors
    ///
    /// [`Error::LockNotHeld`] if the lock is not held (see [`wait`](Self::wait)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// let _g = cond.lock();
    /// assert!(!cond.wait_timeout(Duration::from_millis(10))?); // nobody notifies
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        Ok(self.wait_until(timeout::deadline(timeout))? == Wake::Notified)
    }

    /// Waits until `pred` returns true, or until `timeout` (if any) has passed;
    /// returns the predicate's last value. Python: `wait_for(predicate, timeout)`.
    ///
    /// `pred` runs with the lock held: first at once, then after each wake-up.
    /// When the time runs out, or a stop is requested for the calling thread, it
    /// is evaluated once more and that value is returned. The lock is held when
    /// this returns.
    ///
    /// # Errors
    ///
    /// [`Error::LockNotHeld`] if the lock is not held (checked before `pred`
    /// runs; CPython checks only when it has to wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use threadkit::threading::{Condition, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let cond = Arc::new(Condition::new());
    /// let count = Arc::new(AtomicUsize::new(0));
    /// let (c, n) = (Arc::clone(&cond), Arc::clone(&count));
    /// let t = Thread::new(move || {
    ///     for _ in 0..3 {
    ///         let _g = c.lock();
    ///         n.fetch_add(1, Ordering::SeqCst);
    ///         c.notify_all().unwrap();
    ///     }
    /// });
    /// t.start()?;
    /// let _g = cond.lock();
    /// assert!(cond.wait_for(|| count.load(Ordering::SeqCst) == 3, None)?);
    /// # drop(_g);
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_for(
        &self,
        mut pred: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, Error> {
        if !self.is_held() {
            return Err(Error::LockNotHeld);
        }
        // One deadline for all the waits; None: no timeout (or beyond TIMEOUT_MAX).
        let deadline = timeout.and_then(timeout::deadline);
        let mut result = pred();
        while !result {
            let wake = self.wait_until(deadline)?;
            result = pred();
            let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
            if wake != Wake::Notified || out_of_time {
                break;
            }
        }
        Ok(result)
    }

    /// Wakes the `n` oldest waiters (fewer if fewer wait). Python: `notify(n)`.
    ///
    /// A woken waiter returns from its wait once it has taken the lock again, so
    /// after the caller releases it. `notify(0)` does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::LockNotHeld`] if the lock is not held (over a [`Lock`]: by
    /// anyone; over an [`RLock`]: by the caller).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Condition, Error};
    ///
    /// let cond = Condition::new();
    /// assert!(matches!(cond.notify(1), Err(Error::LockNotHeld)));
    /// let _g = cond.lock();
    /// cond.notify(1)?; // nobody waits: nothing happens
    /// # Ok::<(), Error>(())
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), Error> {
        if !self.is_held() {
            return Err(Error::LockNotHeld);
        }
        let mut waiters = lock(&self.waiters);
        let n = n.min(waiters.len());
        // Notifying under the mutex is cheap (a flag and an unpark) and keeps the
        // queue and the signals in step.
        for w in waiters.drain(..n) {
            w.notify();
        }
        Ok(())
    }

    /// Wakes every waiter. Python: `notify_all()`.
    ///
    /// # Errors
    ///
    /// [`Error::LockNotHeld`] if the lock is not held (see
    /// [`notify`](Self::notify)).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// let cond = Condition::new();
    /// let _g = cond.lock();
    /// cond.notify_all()?;
    /// # Ok::<(), threadkit::threading::Error>(())
    /// ```
    pub fn notify_all(&self) -> Result<(), Error> {
        self.notify(usize::MAX)
    }

    /// How many threads are waiting on the condition right now (not counting
    /// notified ones taking the lock again). A snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// assert_eq!(Condition::new().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.waiters).len()
    }

    /// Whether the caller may wait or notify: a Lock held by anyone, an RLock
    /// owned by the caller.
    fn is_held(&self) -> bool {
        match &self.lock {
            ConditionLock::Lock(l) => l.locked(),
            ConditionLock::RLock(r) => r.is_owned(),
        }
    }

    /// The wait itself: queue, release the lock, park until notified, `deadline`
    /// or a stop, take the lock again. Reports why the wait ended; a waiter that
    /// a notify chose counts as notified whatever woke it.
    fn wait_until(&self, deadline: Option<Instant>) -> Result<Wake, Error> {
        if !self.is_held() {
            return Err(Error::LockNotHeld);
        }
        let waiter = Waiter::new();
        // Queue before releasing, so a notify issued after our release sees us.
        lock(&self.waiters).push_back(Arc::clone(&waiter));
        let saved = match self.release_save() {
            Ok(saved) => saved,
            Err(e) => {
                // Over a Lock, another thread released it since `is_held`.
                if !self.dequeue(&waiter) {
                    self.pass_on();
                }
                return Err(e);
            }
        };
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        // Not an edge of the wait-for graph: nobody owns a notification.
        let record = wait::begin(WaitKind::Condition, &self.meta, Holder::Nobody, timeout);
        let wake = match waiter.wait(deadline, true) {
            Wake::Notified => Wake::Notified,
            // Timed out or stopped: leave the queue; if we are not in it any
            // more, a notify chose us meanwhile and we report it.
            other if self.dequeue(&waiter) => other,
            _ => Wake::Notified,
        };
        drop(record);
        self.acquire_restore(saved);
        Ok(wake)
    }

    /// Takes `waiter` off the queue; false if it was not there (it was chosen).
    fn dequeue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut waiters = lock(&self.waiters);
        match waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            Some(i) => {
                waiters.remove(i);
                true
            }
            None => false,
        }
    }

    /// Hands a notification the caller cannot use to the next waiter.
    fn pass_on(&self) {
        if let Some(w) = lock(&self.waiters).pop_front() {
            w.notify();
        }
    }

    /// Releases the lock completely for a wait and returns what to restore (an
    /// RLock's depth; 1 for a Lock). Python: `_release_save()`.
    fn release_save(&self) -> Result<usize, Error> {
        match &self.lock {
            ConditionLock::Lock(l) => l.release().map(|()| 1),
            ConditionLock::RLock(r) => r.release_save(),
        }
        .map_err(|_| Error::LockNotHeld)
    }

    /// Takes the lock again after a wait, at the saved depth. Python:
    /// `_acquire_restore()`. Blocking and not stoppable: a wait always returns
    /// with the lock held.
    fn acquire_restore(&self, depth: usize) {
        match &self.lock {
            ConditionLock::Lock(l) => l.acquire_shown_as(&self.meta),
            ConditionLock::RLock(r) => r.acquire_restore(depth, &self.meta),
        }
    }
}

impl Default for Condition {
    /// Creates a condition over a new [`RLock`], as [`Condition::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Condition;
    ///
    /// assert_eq!(Condition::default().n_waiting(), 0);
    /// ```
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// Holds a [`Condition`]'s lock and releases it when dropped: Python's
/// `with cond:`.
///
/// Made by [`Condition::lock`]. Wait and notify through the condition while the
/// guard lives. Not `Send`: over an [`RLock`], only the owner may release it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::threading::Condition;
///
/// let cond = Condition::new();
/// let guard = cond.lock();
/// let _ = cond.wait_timeout(Duration::from_millis(1))?;
/// drop(guard);
/// assert!(cond.notify(1).is_err()); // released
/// # Ok::<(), threadkit::threading::Error>(())
/// ```
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct ConditionGuard<'a> {
    cond: &'a Condition,
    /// Not `Send`: the release must happen on the owning thread (RLock).
    _not_send: PhantomData<*const ()>,
}

impl Drop for ConditionGuard<'_> {
    fn drop(&mut self) {
        // Fails only if the lock was released by hand meanwhile: nothing to do.
        let _ = self.cond.release();
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("cond", self.cond)
            .finish()
    }
}

// The public types are shareable between threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Condition>();
    send_sync::<ConditionLock>();
};
