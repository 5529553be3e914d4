//! [`RLock`]: Python's `threading.RLock`, a re-entrant lock with an owner, and its
//! guard [`RLockGuard`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::wait::{Object, WaitKind};
use super::{Error, Lock};
use crate::sync::{current_ident, AtomicUsize, Ordering};

/// A re-entrant lock: Python's `threading.RLock`.
///
/// The thread that holds it (its owner) may acquire it again; each acquire needs
/// its own release, and the lock is free when the count drops to zero. Only the
/// owner may release it. The owner is the threadkit thread that is running (a
/// [`Thread`](super::Thread), or for a thread threadkit did not start, that OS
/// thread), so a pooled OS thread running a Timer's function does not inherit
/// another thread's ownership.
///
/// Blocking follows [`Lock`]: [`acquire`](Self::acquire) and [`lock`](Self::lock)
/// wait as long as it takes, while [`acquire_timeout`](Self::acquire_timeout) and
/// [`lock_timeout`](Self::lock_timeout) give up at their timeout or when
/// [`Thread::stop`](super::Thread::stop) is called for the waiting thread.
///
/// # Examples
///
/// ```
/// use threadkit::threading::RLock;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let rlock = RLock::new();
/// fn helper(rlock: &RLock) {
///     let _guard = rlock.lock(); // fine: this thread holds it already
/// }
/// let _guard = rlock.lock();
/// helper(&rlock);
/// assert!(rlock.is_owned());
/// # Ok(())
/// # }
/// ```
pub struct RLock {
    /// Held by the owner for the whole recursion; its queue is the waiters'. Its
    /// holder is the owner: only the owner releases it, so a thread that reads
    /// its own ident there is the owner, whatever the ordering
    /// ([`Lock::holder`]).
    lock: Lock,
    /// The recursion depth; only the owner reads or writes it.
    count: AtomicUsize,
}

impl RLock {
    /// Creates an unlocked re-entrant lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert!(!rlock.is_owned());
    /// ```
    pub fn new() -> RLock {
        RLock {
            lock: Lock::of_kind(WaitKind::RLock),
            count: AtomicUsize::new(0),
        }
    }

    /// Names the lock, for thread dumps, wait records and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new().with_name("registry");
    /// assert_eq!(rlock.name().as_deref(), Some("registry"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> RLock {
        self.lock = self.lock.with_name(name);
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `RLock#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// assert_eq!(RLock::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.lock.name()
    }

    /// Acquires the lock, or adds one level if the calling thread owns it already;
    /// blocks as long as it takes. Python: `acquire()`.
    ///
    /// Not interrupted by [`Thread::stop`](super::Thread::stop).
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// rlock.acquire();
    /// rlock.acquire();
    /// rlock.release().unwrap();
    /// assert!(rlock.is_owned()); // one level still held
    /// rlock.release().unwrap();
    /// assert!(!rlock.is_owned());
    /// ```
    #[inline]
    pub fn acquire(&self) {
        let me = current_ident();
        // One CAS when the lock is free; when it is not, the CAS tells who holds
        // it, so a re-entry needs no second look.
        match self.lock.acquire_fast(me) {
            Ok(()) => self.take(1),
            Err(holder) if holder == me => self.add_level(),
            Err(_) => {
                self.lock.acquire_contended(me);
                self.take(1);
            }
        }
    }

    /// Acquires the lock (or one more level) without blocking; returns whether it
    /// did. Python: `acquire(blocking=False)`.
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::threading::{RLock, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let rlock = Arc::new(RLock::new());
    /// assert!(rlock.try_acquire());
    /// assert!(rlock.try_acquire()); // again: re-entrant
    /// let other = Arc::clone(&rlock);
    /// let t = Thread::new(move || assert!(!other.try_acquire()));
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.panicked());
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_acquire(&self) -> bool {
        let me = current_ident();
        if self.reenter(me) {
            return true;
        }
        if self.lock.try_acquire_as(me) {
            self.take(1);
            return true;
        }
        false
    }

    /// Acquires the lock (or one more level), giving up after `timeout`; returns
    /// whether it did. Python: `acquire(timeout=...)`.
    ///
    /// Never gives up before `timeout` has passed; a timeout beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) waits forever. Returns `false` at once
    /// when another thread holds the lock and a stop was requested for the
    /// calling thread.
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.acquire_timeout(Duration::from_millis(10)));
    /// assert!(rlock.acquire_timeout(Duration::from_millis(10))); // re-entrant
    /// ```
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        let me = current_ident();
        if self.reenter(me) {
            return true;
        }
        if self.lock.acquire_timeout_as(me, timeout) {
            self.take(1);
            return true;
        }
        false
    }

    /// Releases one level; the lock is free when the last level is released.
    /// Python: `release()`.
    ///
    /// # Errors
    ///
    /// [`Error::NotOwner`] if the calling thread does not own the lock (also when
    /// nobody holds it).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, RLock};
    ///
    /// let rlock = RLock::new();
    /// assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    /// rlock.acquire();
    /// rlock.release()?;
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), Error> {
        let me = current_ident();
        // The last level, nobody queued: one CAS, which succeeds only if `me`
        // holds the inner lock, that is, owns it; so `count` was ours to read
        // (Relaxed: only the owner writes it), and the next owner sets it
        // afresh. Checking the owner first would put a load between the
        // acquire's CAS and this one (benches/sync, `rlock_uncontended`).
        if self.count.load(Ordering::Relaxed) == 1 && self.lock.release_fast(me) {
            return Ok(());
        }
        self.release_level(me)
    }

    /// The release of an inner level, of the last one with threads queued, or
    /// by a thread that does not own the lock.
    fn release_level(&self, me: u64) -> Result<(), Error> {
        if self.lock.holder() != me {
            return Err(Error::NotOwner);
        }
        // Relaxed: only the owner touches `count`.
        let depth = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(depth, Ordering::Relaxed);
        if depth == 0 {
            self.give_up();
        }
        Ok(())
    }

    /// Whether some thread holds the lock. A snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert!(!rlock.locked());
    /// let _g = rlock.lock();
    /// assert!(rlock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Whether the calling thread owns the lock. Python: `_is_owned()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert!(!rlock.is_owned());
    /// let _g = rlock.lock();
    /// assert!(rlock.is_owned());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        // Only the calling thread can have stored its own ident as the holder
        // (see `lock`), so reading it proves ownership.
        self.lock.holder() == current_ident()
    }

    /// How many levels the caller holds: 0 when it does not own the lock. Python
    /// 3.11: `_recursion_count()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert_eq!(rlock.recursion_count(), 0);
    /// let _a = rlock.lock();
    /// let _b = rlock.lock();
    /// assert_eq!(rlock.recursion_count(), 2);
    /// ```
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            // Relaxed: only the owner reads or writes `count` (see the field).
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Acquires the lock (or one more level) and returns a guard that releases
    /// that level when dropped. Python: `with rlock:`.
    ///
    /// Blocks as [`acquire`](Self::acquire) does.
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// let outer = rlock.lock();
    /// let inner = rlock.lock();
    /// drop(inner);
    /// assert!(rlock.is_owned());
    /// drop(outer);
    /// assert!(!rlock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard::new(self)
    }

    /// Acquires the lock (or one more level) without blocking and returns its
    /// guard, or `None` if another thread holds it.
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// let _a = rlock.try_lock().expect("free");
    /// let _b = rlock.try_lock().expect("re-entrant");
    /// ```
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.try_acquire().then(|| RLockGuard::new(self))
    }

    /// Acquires the lock (or one more level) within `timeout` and returns its
    /// guard, or `None` if the time ran out or a stop was requested for the
    /// calling thread.
    ///
    /// Waits as [`acquire_timeout`](Self::acquire_timeout) does.
    ///
    /// # Panics
    ///
    /// If the recursion depth would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::RLock;
    ///
    /// let rlock = RLock::new();
    /// let guard = rlock.lock_timeout(Duration::from_secs(1));
    /// assert!(guard.is_some());
    /// ```
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_timeout(timeout).then(|| RLockGuard::new(self))
    }

    /// How many threads are blocked acquiring the lock right now. A snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// assert_eq!(RLock::new().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.lock.n_waiting()
    }

    /// Releases every level the caller holds and returns the depth, for
    /// `Condition::wait`. Python: `_release_save()`.
    pub(crate) fn release_save(&self) -> Result<usize, Error> {
        if !self.is_owned() {
            return Err(Error::NotOwner);
        }
        let depth = self.count.swap(0, Ordering::Relaxed);
        self.give_up();
        Ok(depth)
    }

    /// Acquires the lock (blocking, not stoppable) and restores `depth` levels,
    /// after [`release_save`](Self::release_save). Python: `_acquire_restore()`.
    /// While it blocks, the wait is recorded as one on `shown` (the Condition).
    pub(crate) fn acquire_restore(&self, depth: usize, shown: &Arc<Object>) {
        self.lock.acquire_shown_as(shown);
        self.take(depth);
    }

    /// If the caller, `me`, owns the lock, adds a level and returns true.
    #[inline]
    fn reenter(&self, me: u64) -> bool {
        // See `is_owned`.
        if self.lock.holder() != me {
            return false;
        }
        self.add_level();
        true
    }

    /// Adds a level; the caller owns the lock.
    #[inline]
    fn add_level(&self) {
        // Relaxed: only the owner reads or writes `count`.
        let depth = self.count.load(Ordering::Relaxed);
        let depth = depth
            .checked_add(1)
            .expect("RLock recursion depth overflow");
        self.count.store(depth, Ordering::Relaxed);
    }

    /// Sets the caller's depth to `depth`, right after acquiring `lock` (which
    /// made it the owner).
    #[inline]
    fn take(&self, depth: usize) {
        // Relaxed: the Acquire of `lock` orders this after the previous owner's
        // writes, and only the owner reads it.
        self.count.store(depth, Ordering::Relaxed);
    }

    /// Releases `lock`, and with it the ownership (the owner's last level is
    /// gone).
    #[inline]
    fn give_up(&self) {
        let released = self.lock.release();
        debug_assert!(released.is_ok(), "the owner holds the inner lock");
    }
}

impl Default for RLock {
    /// Creates an unlocked re-entrant lock, as [`RLock::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::RLock;
    ///
    /// assert!(!RLock::default().locked());
    /// ```
    fn default() -> RLock {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot, as Python's repr: owner 0 means unlocked.
        let owner = self.lock.holder();
        let mut d = f.debug_struct("RLock");
        d.field("locked", &self.locked());
        if owner != 0 {
            d.field("owner", &owner);
        }
        d.field("n_waiting", &self.n_waiting()).finish()
    }
}

/// Holds one level of an [`RLock`] and releases it when dropped: Python's
/// `with rlock:`.
///
/// Made by [`RLock::lock`], [`RLock::try_lock`] and [`RLock::lock_timeout`]. It is
/// not `Send`: only the owning thread may release an `RLock`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::RLock;
///
/// let rlock = RLock::new();
/// {
///     let _guard = rlock.lock();
///     assert!(rlock.is_owned());
/// }
/// assert!(!rlock.is_owned());
/// ```
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct RLockGuard<'a> {
    rlock: &'a RLock,
    /// Not `Send`: the release must happen on the owning thread.
    _not_send: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    #[inline]
    fn new(rlock: &'a RLock) -> RLockGuard<'a> {
        RLockGuard {
            rlock,
            _not_send: PhantomData,
        }
    }
}

impl Drop for RLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // The guard stays on the owning thread (it is not Send), so this only
        // fails if the owner released the level by hand already; nothing to do.
        let _ = self.rlock.release();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("rlock", self.rlock)
            .finish()
    }
}

// The public lock type is shareable between threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<RLock>();
};
