//! [`Event`]: Python's `threading.Event`, a flag threads can wait for.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timeout;
use super::wait::{self, Holder, Object, WaitKind};
use crate::sync::{lock, AtomicBool, Mutex, Ordering, Waiter, Wake};

/// A flag that threads can wait for: [`set`](Self::set) wakes every waiter, and
/// later waits return at once until [`clear`](Self::clear). Python:
/// `threading.Event`.
///
/// Every thread waiting when `set()` is called returns `true`, even if `clear()`
/// follows at once. [`is_set`](Self::is_set) and a wait on a set event cost one
/// atomic load.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Event, Thread};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let ready = Arc::new(Event::new());
/// let r = ready.clone();
/// let t = Thread::new(move || {
///     r.wait();
///     println!("proceeding");
/// });
/// t.start()?;
/// ready.set();
/// t.join()?;
/// # Ok(())
/// # }
/// ```
pub struct Event {
    /// The flag. Written only by `set` (under `waiters`' lock) and `clear`; read
    /// without the lock by the fast paths.
    flag: AtomicBool,
    /// Threads blocked in a wait. Only queued while the flag is false (checked under
    /// this lock), and `set` takes them all under it: a waiter cannot miss a `set`.
    waiters: Mutex<Vec<Arc<Waiter>>>,
    /// Its name, for the records of threads waiting on it.
    meta: Arc<Object>,
}

impl Event {
    /// A new event, not set. Python: `Event()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    ///
    /// let ev = Event::new();
    /// assert!(!ev.is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(Vec::new()),
            meta: Object::new(WaitKind::Event),
        }
    }

    /// Names the event, for thread dumps and wait records.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    ///
    /// let ev = Event::new().with_name("ready");
    /// assert_eq!(ev.name().as_deref(), Some("ready"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Event {
        Object::named(&mut self.meta, name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `Event#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    ///
    /// assert_eq!(Event::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.meta.name()
    }

    /// Whether the flag is set: one atomic load. Python: `is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    ///
    /// let ev = Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        // Acquire: what the setter did before `set()` is visible to a caller that
        // sees the flag set (pairs with the Release store in `set`).
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the flag and wakes every thread waiting at this moment; waits that start
    /// afterwards return at once until [`clear`](Self::clear). Python: `set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Event, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let go = Arc::new(Event::new());
    /// let workers: Vec<Thread> = (0..3)
    ///     .map(|_| {
    ///         let go = go.clone();
    ///         Thread::new(move || assert!(go.wait()))
    ///     })
    ///     .collect();
    /// for w in &workers {
    ///     w.start()?;
    /// }
    /// go.set(); // all three proceed
    /// for w in &workers {
    ///     w.join()?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set(&self) {
        // Fast path: already set means no waiter is queued (waiters queue only
        // while the flag is false, and the `set` that stored `true` took them all).
        // Acquire, as in `is_set`.
        if self.flag.load(Ordering::Acquire) {
            return;
        }
        let waiters = {
            let mut queue = lock(&self.waiters);
            // Release: pairs with the Acquire loads of `is_set` and the waits' fast
            // path, publishing what this thread did before `set()`.
            self.flag.store(true, Ordering::Release);
            std::mem::take(&mut *queue)
        };
        // Taken off the queue under the lock: each of these waiters is ours to
        // wake, and returns `true` whatever happens to the flag next.
        for w in waiters {
            w.notify();
        }
    }

    /// Resets the flag: later waits block until the next [`set`](Self::set).
    /// Threads already woken by a `set` still return `true`. Python: `clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    /// use std::time::Duration;
    ///
    /// let ev = Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.wait_timeout(Duration::from_millis(1)));
    /// ```
    pub fn clear(&self) {
        // No lock needed: a waiter decides to queue under the lock, seeing either
        // this store or a later `set`, and `set` takes the queue under the lock.
        // Release keeps the store ordered after what the caller did before.
        self.flag.store(false, Ordering::Release);
    }

    /// Blocks until the flag is set; returns `true` at once if it already is.
    /// Python: `wait()`.
    ///
    /// Returns `false` only when a stop is requested for the calling thread
    /// ([`Thread::stop`](super::Thread::stop)) before the event is set; an event
    /// already set returns `true` even then.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Event, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let done = Arc::new(Event::new());
    /// let d = done.clone();
    /// let t = Thread::new(move || d.set());
    /// t.start()?;
    /// assert!(done.wait());
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self) -> bool {
        self.wait_deadline(None)
    }

    /// Blocks until the flag is set or `timeout` has passed; `true` if the event was
    /// set before the timeout (even if it has been cleared since). Python:
    /// `wait(timeout)`.
    ///
    /// The timeout is measured from the call on the monotonic clock and never ends
    /// the wait early; a timeout beyond [`TIMEOUT_MAX`](super::TIMEOUT_MAX) waits
    /// forever. A stop requested for the calling thread ends the wait with `false`,
    /// unless the event is already set.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    /// use std::time::Duration;
    ///
    /// let ev = Event::new();
    /// assert!(!ev.wait_timeout(Duration::from_millis(10))); // nobody set it
    /// ev.set();
    /// assert!(ev.wait_timeout(Duration::from_millis(10)));
    /// ```
    #[must_use = "whether the event was set is the answer of the wait"]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        self.wait_deadline(timeout::deadline(timeout))
    }

    /// The number of threads blocked in a wait on this event right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Event, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let ev = Arc::new(Event::new());
    /// let e = ev.clone();
    /// let t = Thread::new(move || { e.wait(); });
    /// t.start()?;
    /// while ev.n_waiting() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// ev.set();
    /// t.join()?;
    /// assert_eq!(ev.n_waiting(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.waiters).len()
    }

    fn wait_deadline(&self, deadline: Option<Instant>) -> bool {
        if self.is_set() {
            return true;
        }
        let me = Waiter::new();
        {
            let mut queue = lock(&self.waiters);
            // Under the lock: a `set` either happened before (we see the flag) or
            // will take our waiter from the queue. Acquire as in `is_set`.
            if self.flag.load(Ordering::Acquire) {
                return true;
            }
            if me.is_stopped() {
                return false;
            }
            queue.push(Arc::clone(&me));
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let _record = wait::begin(WaitKind::Event, &self.meta, Holder::Nobody, timeout);
        match me.wait(deadline, true) {
            Wake::Notified => true,
            Wake::TimedOut | Wake::Stopped => {
                let mut queue = lock(&self.waiters);
                match queue.iter().position(|w| Arc::ptr_eq(w, &me)) {
                    Some(i) => {
                        queue.swap_remove(i);
                        false
                    }
                    // A `set` took us off the queue meanwhile: it chose us.
                    None => true,
                }
            }
        }
    }
}

impl Default for Event {
    /// The same as [`Event::new`]: not set.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Event;
    ///
    /// assert!(!Event::default().is_set());
    /// ```
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

// The public types are `Send + Sync + Debug`, checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + fmt::Debug>() {}
    check::<Event>();
};
