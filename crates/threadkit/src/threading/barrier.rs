//! [`Barrier`]: Python's `threading.Barrier`, a meeting point for a fixed number of
//! threads, with an action, a default timeout, `abort()` and `reset()`.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::Error;
use super::timeout;
use super::wait::{self, Holder, Object, WaitKind};
use crate::sync::{lock, Mutex, MutexGuard, Waiter, Wake};

/// Where the barrier is in its cycle: CPython's states plus `Action`, which CPython
/// does not need because it runs the action under the barrier's lock (we never run
/// user code under an internal lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Threads arrive and wait for the last one (CPython 0).
    Filling,
    /// The last thread runs the action; arrivals wait, waiters keep waiting.
    Action,
    /// The barrier tripped: the cycle's threads leave; arrivals wait (CPython 1).
    Draining,
    /// `reset()` while threads waited: they leave with an error; arrivals wait
    /// (CPython -1).
    Resetting,
    /// Broken by a timeout, `abort()`, a stopped waiter or a panicking action, until
    /// `reset()` (CPython -2).
    Broken,
}

/// The barrier's state, under one lock.
struct State {
    phase: Phase,
    /// Threads inside `wait` for the current cycle (arrived, not yet left).
    count: usize,
    /// Threads parked in `wait`: woken all at once on every phase change, each
    /// re-checks the phase.
    waiters: Vec<Arc<Waiter>>,
    /// Waiters taken off `waiters` by a phase change, to be notified by
    /// [`unlock`] once the lock is released (a thread woken on this core would
    /// otherwise run only to block on the lock we still hold).
    woken: Vec<Arc<Waiter>>,
}

impl State {
    /// Marks every parked thread for waking at the next [`unlock`], so each
    /// re-checks the phase.
    fn notify_all(&mut self) {
        let mut parked = std::mem::take(&mut self.waiters);
        self.woken.append(&mut parked);
        // Keep the queue's allocation for the next cycle.
        self.waiters = parked;
    }

    /// CPython's `_break`.
    fn break_barrier(&mut self) {
        self.phase = Phase::Broken;
        self.notify_all();
    }
}

/// Releases the lock, then wakes the threads a phase change chose.
fn unlock(mut st: MutexGuard<'_, State>) {
    let woken = std::mem::take(&mut st.woken);
    drop(st);
    for w in woken {
        w.notify();
    }
}

type Action = Box<dyn Fn() + Send + Sync>;

/// A meeting point for a fixed number of threads: each calls
/// [`wait`](Self::wait), and all are released together when the last one arrives.
/// Python: `threading.Barrier`.
///
/// The barrier is cyclic: once every thread of a cycle has left, it can be used
/// again. A timeout, [`abort`](Self::abort), a stop request for a waiting thread, or
/// a panicking action *breaks* it: every waiter, and every later `wait`, gets
/// [`Error::BrokenBarrier`] until [`reset`](Self::reset).
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Barrier, Thread};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let start = Arc::new(Barrier::new(3));
/// let runners: Vec<Thread> = (0..3)
///     .map(|i| {
///         let start = start.clone();
///         Thread::new(move || {
///             // Everyone starts at the same time.
///             let index = start.wait().expect("barrier broken");
///             println!("runner {i} got index {index}");
///         })
///     })
///     .collect();
/// for r in &runners {
///     r.start()?;
/// }
/// for r in &runners {
///     r.join()?;
/// }
/// # Ok(())
/// # }
/// ```
pub struct Barrier {
    parties: usize,
    /// Run once per cycle by the last thread to arrive, before anyone leaves.
    action: Option<Action>,
    /// What `wait()` uses; `None`: no timeout.
    timeout: Option<Duration>,
    state: Mutex<State>,
    /// Its name, for the records of threads waiting at it.
    meta: Arc<Object>,
}

impl Barrier {
    /// A barrier for `parties` threads, with no action and no default timeout.
    /// Python: `Barrier(parties)`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (Python raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// let b = Barrier::new(1);
    /// assert_eq!(b.wait().unwrap(), 0); // one party: never blocks
    /// ```
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            parties,
            action: None,
            timeout: None,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
                waiters: Vec::new(),
                woken: Vec::new(),
            }),
            meta: Object::new(WaitKind::Barrier),
        }
    }

    /// Names the barrier, for thread dumps and wait records.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// let b = Barrier::new(2).with_name("start line");
    /// assert_eq!(b.name().as_deref(), Some("start line"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Barrier {
        Object::named(&mut self.meta, name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any (unnamed ones
    /// are shown as `Barrier#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// assert_eq!(Barrier::new(2).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.meta.name()
    }

    /// Sets the action: run once per cycle by the last thread to arrive, before any
    /// thread leaves `wait`. Python: `Barrier(n, action=f)`.
    ///
    /// If the action panics, the barrier breaks (the other threads get
    /// [`Error::BrokenBarrier`]) and the panic continues in the thread that ran it.
    /// An [`abort`](Self::abort) or [`reset`](Self::reset) while it runs (even from
    /// inside it) breaks the cycle: every thread of it, including the one running
    /// the action, gets [`Error::BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Thread};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let r = rounds.clone();
    /// let b = Arc::new(Barrier::new(2).with_action(move || {
    ///     r.fetch_add(1, Ordering::SeqCst);
    /// }));
    /// let b2 = b.clone();
    /// let t = Thread::new(move || { b2.wait().unwrap(); });
    /// t.start()?;
    /// b.wait()?;
    /// t.join()?;
    /// assert_eq!(rounds.load(Ordering::SeqCst), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_action(mut self, action: impl Fn() + Send + Sync + 'static) -> Barrier {
        self.action = Some(Box::new(action));
        self
    }

    /// Sets the default timeout that [`wait`](Self::wait) uses. Python:
    /// `Barrier(n, timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Error};
    /// use std::time::Duration;
    ///
    /// let b = Barrier::new(2).with_timeout(Duration::from_millis(10));
    /// // Nobody else comes: the wait times out and breaks the barrier.
    /// assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
    /// assert!(b.broken());
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Barrier {
        self.timeout = Some(timeout);
        self
    }

    /// Waits until all parties have called `wait`, then returns this thread's
    /// arrival index, distinct in `0..parties()` (the last to arrive gets
    /// `parties() - 1`). Uses the default timeout of
    /// [`with_timeout`](Self::with_timeout), if any. Python: `wait()`.
    ///
    /// # Errors
    ///
    /// [`Error::BrokenBarrier`] if the barrier is broken or breaks while this thread
    /// waits: by the timeout (which breaks it), [`abort`](Self::abort),
    /// [`reset`](Self::reset), a panicking action, or a stop request for a waiting
    /// thread ([`Thread::stop`](super::Thread::stop); it breaks the barrier too).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let b = Arc::new(Barrier::new(2));
    /// let b2 = b.clone();
    /// let t = Thread::new(move || { b2.wait().unwrap(); });
    /// t.start()?;
    /// let index = b.wait()?;
    /// assert!(index < 2);
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self) -> Result<usize, Error> {
        self.wait_deadline(self.timeout.and_then(timeout::deadline))
    }

    /// As [`wait`](Self::wait), with `timeout` instead of the default timeout;
    /// measured from the call, never ending early, and beyond
    /// [`TIMEOUT_MAX`](super::TIMEOUT_MAX) no timeout at all. Python: `wait(timeout)`.
    ///
    /// # Errors
    ///
    /// [`Error::BrokenBarrier`] as for `wait`; a timeout breaks the barrier for
    /// every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Error};
    /// use std::time::Duration;
    ///
    /// let b = Barrier::new(2);
    /// assert!(matches!(b.wait_timeout(Duration::from_millis(10)), Err(Error::BrokenBarrier)));
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, Error> {
        self.wait_deadline(timeout::deadline(timeout))
    }

    fn wait_deadline(&self, deadline: Option<Instant>) -> Result<usize, Error> {
        let mut st = lock(&self.state);
        // CPython's `_enter`: wait while the previous cycle drains or resets.
        while matches!(st.phase, Phase::Action | Phase::Draining | Phase::Resetting) {
            st = self.park(st, None, false).0;
        }
        if st.phase == Phase::Broken {
            return Err(Error::BrokenBarrier);
        }
        let index = st.count;
        st.count += 1;
        let result = if index + 1 == self.parties {
            self.trip(st)
        } else {
            self.wait_for_trip(st, deadline)
        };
        // CPython's `finally: self._count -= 1; self._exit()`.
        let mut st = match result {
            Ok(st) | Err(st) => st,
        };
        st.count -= 1;
        let ok = st.phase == Phase::Draining;
        if st.count == 0 && matches!(st.phase, Phase::Draining | Phase::Resetting) {
            st.phase = Phase::Filling;
            st.notify_all();
        }
        unlock(st);
        if ok {
            Ok(index)
        } else {
            Err(Error::BrokenBarrier)
        }
    }

    /// The last thread's part (CPython's `_release`): runs the action outside the
    /// lock, then lets the cycle drain. `Err` carries the guard when the cycle was
    /// broken.
    fn trip<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
    ) -> Result<MutexGuard<'a, State>, MutexGuard<'a, State>> {
        if let Some(action) = &self.action {
            st.phase = Phase::Action;
            unlock(st);
            let outcome = panic::catch_unwind(AssertUnwindSafe(action));
            st = lock(&self.state);
            if let Err(payload) = outcome {
                // CPython: an exception in the action breaks the barrier and is
                // re-raised in the thread that ran it.
                st.break_barrier();
                st.count -= 1;
                unlock(st);
                panic::resume_unwind(payload);
            }
            if st.phase != Phase::Action {
                // `abort()` or `reset()` while the action ran.
                return Err(st);
            }
        }
        st.phase = Phase::Draining;
        st.notify_all();
        Ok(st)
    }

    /// A waiter's part (CPython's `_wait`): park until the phase leaves `Filling`;
    /// a timeout or a stop request breaks the barrier.
    fn wait_for_trip<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'a, State>, MutexGuard<'a, State>> {
        loop {
            match st.phase {
                Phase::Filling => {
                    let (again, wake) = self.park(st, deadline, true);
                    st = again;
                    if wake != Wake::Notified && st.phase == Phase::Filling {
                        // Timed out or stopped before the last thread came.
                        st.break_barrier();
                        return Err(st);
                    }
                }
                // The action runs: nobody leaves before it ends, timed out or not
                // (in CPython a timed-out waiter cannot retake the lock meanwhile).
                Phase::Action => st = self.park(st, None, false).0,
                Phase::Draining => return Ok(st),
                Phase::Resetting | Phase::Broken => return Err(st),
            }
        }
    }

    /// Parks the caller until the next phase change (or the deadline, or a stop
    /// request when `stoppable`), and retakes the lock. A waiter that woke without
    /// a notification takes itself off the queue; the caller re-checks the phase
    /// either way, so no phase change is missed.
    fn park<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        stoppable: bool,
    ) -> (MutexGuard<'a, State>, Wake) {
        let me = Waiter::new();
        st.waiters.push(Arc::clone(&me));
        unlock(st);
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let record = wait::begin(WaitKind::Barrier, &self.meta, Holder::Nobody, timeout);
        let wake = me.wait(deadline, stoppable);
        drop(record);
        let mut st = lock(&self.state);
        if wake != Wake::Notified {
            if let Some(i) = st.waiters.iter().position(|w| Arc::ptr_eq(w, &me)) {
                st.waiters.swap_remove(i);
            }
        }
        (st, wake)
    }

    /// Puts the barrier back to its initial state; threads waiting in it get
    /// [`Error::BrokenBarrier`]. Python: `reset()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// let b = Barrier::new(2);
    /// b.abort();
    /// assert!(b.broken());
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        let mut st = lock(&self.state);
        if st.count > 0 {
            // Waiters (and, during the action, the thread running it) leave with an
            // error; the last one out makes the barrier `Filling` again. A cycle
            // already draining completes normally.
            if matches!(st.phase, Phase::Filling | Phase::Action | Phase::Broken) {
                st.phase = Phase::Resetting;
            }
        } else {
            st.phase = Phase::Filling;
        }
        st.notify_all();
        unlock(st);
    }

    /// Breaks the barrier: every waiting thread, and every later
    /// [`wait`](Self::wait) until [`reset`](Self::reset), gets
    /// [`Error::BrokenBarrier`]. Python: `abort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Error};
    ///
    /// let b = Barrier::new(2);
    /// b.abort();
    /// assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
    /// ```
    pub fn abort(&self) {
        let mut st = lock(&self.state);
        st.break_barrier();
        unlock(st);
    }

    /// Whether the barrier is broken. Python: `broken`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// let b = Barrier::new(3);
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        lock(&self.state).phase == Phase::Broken
    }

    /// The number of threads needed to trip the barrier. Python: `parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Barrier;
    ///
    /// assert_eq!(Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting for the current cycle to fill. Python:
    /// `n_waiting`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Barrier, Thread};
    /// use std::sync::Arc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let b = Arc::new(Barrier::new(2));
    /// let b2 = b.clone();
    /// let t = Thread::new(move || { b2.wait().unwrap(); });
    /// t.start()?;
    /// while b.n_waiting() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// b.wait()?;
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn n_waiting(&self) -> usize {
        let st = lock(&self.state);
        match st.phase {
            Phase::Filling | Phase::Action => st.count,
            _ => 0,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &st.count)
            .field("phase", &st.phase)
            .field("timeout", &self.timeout)
            .field("has_action", &self.action.is_some())
            .finish()
    }
}

// The public types are `Send + Sync + Debug`, checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + fmt::Debug>() {}
    check::<Barrier>();
};
