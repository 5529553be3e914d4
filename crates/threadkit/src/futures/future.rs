//! [`Future`]: the handle to one submitted task's result.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use super::error::FutureError;
use crate::sync::{lock, Waiter, Wake};
use crate::threading::call_reporting;
use crate::threading::timeout;
use crate::threading::wait::{self, Holder, Object, WaitKind};

type Callback<T> = Box<dyn FnOnce(&Result<T, FutureError>) + Send>;

/// The outcome, readable by callbacks outside the state lock. Its own mutex is what
/// lets `&Result<T, _>` reach callbacks in several threads for `T: Send` alone:
/// callbacks run one at a time, whoever holds it runs every queued one.
type Outcome<T> = Arc<Mutex<Result<T, FutureError>>>;

/// Stamps each finished future, so [`as_completed`](super::as_completed) yields in
/// completion order even among futures that finished between two looks.
static FINISH_SEQ: AtomicU64 = AtomicU64::new(0);

// The life of a future: Pending -> Running -> Completing -> Finished, or Pending ->
// Completing -> Finished when it is cancelled or the pool breaks. Completing means
// "the outcome is known and the done-callbacks are running" (in the completing
// thread, never under the state lock); it becomes Finished once no callback is
// left, and only then are waiters woken. A callback added once Finished runs in
// the caller, unless another thread holds the outcome (running callbacks): then
// that thread runs it (it re-checks the queue after letting the outcome go).
enum Stage<T> {
    Pending,
    Running,
    /// A copy of the outcome's error, read without the outcome's lock.
    Completing(Option<FutureError>),
    /// Also its place in the order futures finished.
    Finished(Outcome<T>, Option<FutureError>, u64),
    Taken,
}

struct State<T> {
    stage: Stage<T>,
    /// Threads blocked until Finished (a `wait`/`as_completed` waiter sits in several
    /// futures' lists and takes itself off each).
    waiters: Vec<Arc<Waiter>>,
    /// Done-callbacks not yet run, in the order they were added.
    callbacks: Vec<Callback<T>>,
}

/// What a [`Future`] and the task that completes it share.
pub(crate) struct Shared<T> {
    state: Mutex<State<T>>,
    /// Set with the Finished stage: what a waiter polls while it spins, lock-free.
    finished: AtomicBool,
    /// Its identity in wait records (`Future#7`), made when a thread first blocks on
    /// it, so a future nobody waits for costs nothing more.
    meta: OnceLock<Arc<Object>>,
}

impl<T> Shared<T> {
    /// A pending future's state.
    pub(crate) fn new() -> Arc<Shared<T>> {
        Arc::new(Shared {
            state: Mutex::new(State {
                stage: Stage::Pending,
                waiters: Vec::new(),
                callbacks: Vec::new(),
            }),
            finished: AtomicBool::new(false),
            meta: OnceLock::new(),
        })
    }

    /// Its identity in wait records.
    fn meta(&self) -> &Arc<Object> {
        self.meta.get_or_init(|| Object::new(WaitKind::Future))
    }

    /// Pending -> Running; false when the future was cancelled (or completed) first.
    pub(crate) fn start_running(&self) -> bool {
        let mut s = lock(&self.state);
        if matches!(s.stage, Stage::Pending) {
            s.stage = Stage::Running;
            true
        } else {
            false
        }
    }

    /// Pending -> Completing -> Finished with `outcome` (cancelled, broken); false
    /// when it was no longer pending.
    pub(crate) fn complete_pending(&self, outcome: Result<T, FutureError>) -> bool {
        let mut s = lock(&self.state);
        if !matches!(s.stage, Stage::Pending) {
            return false;
        }
        let err = outcome.as_ref().err().cloned();
        let outcome = Arc::new(Mutex::new(outcome));
        s.stage = Stage::Completing(err);
        drop(s);
        self.finish(&outcome);
        true
    }

    /// Running -> Completing -> Finished with the task's outcome.
    pub(crate) fn complete(&self, outcome: Result<T, FutureError>) {
        let err = outcome.as_ref().err().cloned();
        let outcome = Arc::new(Mutex::new(outcome));
        lock(&self.state).stage = Stage::Completing(err);
        self.finish(&outcome);
    }

    /// Runs the done-callbacks (those added meanwhile too), then publishes the
    /// outcome and wakes the waiters.
    fn finish(&self, outcome: &Outcome<T>) {
        let guard = lock(&**outcome);
        let waiters = loop {
            self.drain_callbacks(&guard);
            let mut s = lock(&self.state);
            if s.callbacks.is_empty() {
                let seq = FINISH_SEQ.fetch_add(1, Ordering::Relaxed);
                let err = match &s.stage {
                    Stage::Completing(err) => err.clone(),
                    _ => None,
                };
                s.stage = Stage::Finished(Arc::clone(outcome), err, seq);
                // Release: the outcome is visible to a spinner that sees the flag.
                self.finished.store(true, Ordering::Release);
                break std::mem::take(&mut s.waiters);
            }
        };
        drop(guard);
        for w in waiters {
            w.notify();
        }
        self.run_late_callbacks(outcome);
    }

    /// Runs every queued callback with the outcome its caller holds.
    fn drain_callbacks(&self, outcome: &Result<T, FutureError>) {
        loop {
            let callbacks = std::mem::take(&mut lock(&self.state).callbacks);
            if callbacks.is_empty() {
                return;
            }
            for cb in callbacks {
                call_reporting(|| cb(outcome));
            }
        }
    }

    /// Runs callbacks queued on a finished future, unless another thread holds the
    /// outcome (it runs them: it re-checks the queue after letting go).
    fn run_late_callbacks(&self, outcome: &Outcome<T>) {
        while !lock(&self.state).callbacks.is_empty() {
            let guard = match outcome.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            self.drain_callbacks(&guard);
        }
    }
}

/// Blocks the calling thread on futures until `waiter` is notified, `deadline`
/// passes or (when `stoppable`) a stop is requested. Every wait on a [`Future`]
/// goes through here, so this writes the wait record (`Future` on `on`, the first
/// of the futures waited for) and clears it on every way out.
pub(crate) fn block_on_futures<T>(
    waiter: &Waiter,
    on: &Future<T>,
    deadline: Option<Instant>,
    stoppable: bool,
) -> Wake {
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let _record = wait::begin(WaitKind::Future, on.shared.meta(), Holder::Nobody, timeout);
    waiter.wait(deadline, stoppable)
}

/// Busy steps (1, 2, .. 16 pauses), then 32 yields, before a thread parks: a few
/// microseconds at most.
const SPIN_STEPS: u32 = 37;
const BUSY_STEPS: u32 = 5;

/// Polls `ready` a bounded number of times (busy steps, then yields), so a
/// hand-off that completes within microseconds needs no park and wake; true as
/// soon as `ready` is.
pub(crate) fn spin_until(ready: impl Fn() -> bool) -> bool {
    crate::sync::spin_until(SPIN_STEPS, BUSY_STEPS, || ready().then_some(())).is_some()
}

/// The handle to a submitted task's result (Python's `concurrent.futures.Future`).
///
/// Made by [`ThreadPoolExecutor::submit`](super::ThreadPoolExecutor::submit). It is
/// not [`std::future::Future`] (nothing here is async): use it by path where both
/// are in scope.
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(2);
/// let f = pool.submit(|| 6 * 7)?;
/// f.wait();
/// assert!(f.done());
/// assert_eq!(f.result(), Ok(42));
/// # Ok(())
/// # }
/// ```
pub struct Future<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Future<T> {
    pub(crate) fn from_shared(shared: Arc<Shared<T>>) -> Future<T> {
        Future { shared }
    }

    /// Blocks until the task has finished (or was cancelled) and returns its value.
    ///
    /// It returns after the done-callbacks have run.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`] when it was cancelled, [`FutureError::Panicked`]
    /// with the message when the task panicked, [`FutureError::Broken`] when the
    /// pool broke before the task ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// assert_eq!(pool.submit(|| "hello".len())?.result()?, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn result(self) -> Result<T, FutureError> {
        self.wait();
        let mut s = lock(&self.shared.state);
        let Stage::Finished(outcome, ..) = std::mem::replace(&mut s.stage, Stage::Taken) else {
            unreachable!("wait() returned before the future finished");
        };
        drop(s);
        let mut guard = lock(&*outcome);
        // Callbacks a thread queued while another held the outcome run first.
        self.shared.drain_callbacks(&guard);
        std::mem::replace(&mut *guard, Err(FutureError::Cancelled))
    }

    /// Blocks until the future is done (finished, or cancelled); not interrupted by
    /// a stop request, as `Lock::acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| ())?;
    /// f.wait();
    /// assert!(f.done());
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self) {
        self.wait_deadline(None, false);
    }

    /// Blocks until the future is done or `timeout` has passed; true when it is
    /// done. A stop request for the calling thread ends the wait early (false).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let f = pool.submit(move || rx.recv().is_ok())?;
    /// assert!(!f.wait_timeout(Duration::from_millis(10)));
    /// tx.send(()).unwrap();
    /// assert!(f.wait_timeout(Duration::from_secs(60)));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = timeout::deadline(timeout);
        self.wait_deadline(deadline, true)
    }

    /// Waits until done or `deadline` (None: no deadline); true when done.
    pub(crate) fn wait_deadline(&self, deadline: Option<Instant>, stoppable: bool) -> bool {
        // A short task is often done within a few microseconds: catch that without
        // the cost of parking and being woken.
        if spin_until(|| self.shared.finished.load(Ordering::Acquire)) {
            return true;
        }
        let waiter = Waiter::new();
        if self.register(&waiter) {
            return true;
        }
        let woke = block_on_futures(&waiter, self, deadline, stoppable);
        if woke != Wake::Notified {
            self.unregister(&waiter);
        }
        self.done()
    }

    /// Queues `waiter` for the end of this future; true (and not queued) when it
    /// is done already.
    pub(crate) fn register(&self, waiter: &Arc<Waiter>) -> bool {
        let mut s = lock(&self.shared.state);
        if matches!(s.stage, Stage::Finished(..)) {
            return true;
        }
        s.waiters.push(Arc::clone(waiter));
        false
    }

    /// Takes `waiter` off this future's queue (if it is still there).
    pub(crate) fn unregister(&self, waiter: &Arc<Waiter>) {
        lock(&self.shared.state)
            .waiters
            .retain(|w| !Arc::ptr_eq(w, waiter));
    }

    /// When it is done: its place in the order futures finished, and whether it
    /// ended with a panic or a broken pool.
    pub(crate) fn finished(&self) -> Option<(u64, bool)> {
        match &lock(&self.shared.state).stage {
            Stage::Finished(_, err, seq) => Some((
                *seq,
                matches!(err, Some(FutureError::Panicked(_) | FutureError::Broken)),
            )),
            _ => None,
        }
    }

    /// The panic message, once the future has finished with a panic; `None`
    /// otherwise (it does not wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| -> () { panic!("bad input") })?;
    /// f.wait();
    /// assert_eq!(f.exception().as_deref(), Some("bad input"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn exception(&self) -> Option<String> {
        match &lock(&self.shared.state).stage {
            Stage::Finished(_, Some(FutureError::Panicked(m)), _) => Some(m.clone()),
            _ => None,
        }
    }

    /// Cancels the future if it has not started: true when it is cancelled as the
    /// call returns (it was pending, or already cancelled), false when it runs or
    /// has finished. Its done-callbacks have run before this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{FutureError, ThreadPoolExecutor};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.submit(move || rx.recv().is_ok())?;
    /// let queued = pool.submit(|| 1)?;
    /// assert!(queued.cancel());
    /// assert!(queued.cancelled());
    /// tx.send(()).unwrap();
    /// assert_eq!(busy.result(), Ok(true));
    /// assert_eq!(queued.result(), Err(FutureError::Cancelled));
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(&self) -> bool {
        self.shared.complete_pending(Err(FutureError::Cancelled)) || self.cancelled()
    }

    /// Whether the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1)?;
    /// f.wait();
    /// assert!(!f.cancelled());
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancelled(&self) -> bool {
        match &lock(&self.shared.state).stage {
            Stage::Completing(err) | Stage::Finished(_, err, _) => {
                *err == Some(FutureError::Cancelled)
            }
            _ => false,
        }
    }

    /// Whether the task is running now (its done-callbacks included).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1)?;
    /// f.wait();
    /// assert!(!f.running());
    /// # Ok(())
    /// # }
    /// ```
    pub fn running(&self) -> bool {
        match &lock(&self.shared.state).stage {
            Stage::Running => true,
            Stage::Completing(err) => *err != Some(FutureError::Cancelled),
            _ => false,
        }
    }

    /// Whether the future is done: finished (its done-callbacks run) or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let f = pool.submit(|| 1)?;
    /// f.wait();
    /// assert!(f.done());
    /// # Ok(())
    /// # }
    /// ```
    pub fn done(&self) -> bool {
        matches!(lock(&self.shared.state).stage, Stage::Finished(..))
    }

    /// Adds `f`, called with the outcome when the future is done: in the thread
    /// that completes it, or at once in the caller when it is done already.
    /// Callbacks run in the order they were added. A panicking callback is reported
    /// to the excepthook (printed once) and disturbs neither the others nor the
    /// future.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    /// use std::sync::mpsc;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (tx, rx) = mpsc::channel();
    /// let f = pool.submit(|| 2 + 2)?;
    /// f.add_done_callback(move |r| tx.send(r.clone()).unwrap());
    /// assert_eq!(rx.recv().unwrap(), Ok(4));
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(&Result<T, FutureError>) + Send + 'static) {
        let mut s = lock(&self.shared.state);
        s.callbacks.push(Box::new(f));
        if let Stage::Finished(outcome, ..) = &s.stage {
            let outcome = Arc::clone(outcome);
            drop(s);
            self.shared.run_late_callbacks(&outcome);
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &lock(&self.shared.state).stage {
            Stage::Pending => "pending",
            Stage::Running | Stage::Completing(..) => "running",
            Stage::Finished(_, Some(FutureError::Cancelled), _) => "cancelled",
            Stage::Finished(..) => "finished",
            Stage::Taken => "taken",
        };
        f.debug_struct("Future").field("state", &state).finish()
    }
}

// A Future crosses threads (waited on from anywhere) for T: Send.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Future<Vec<u8>>>();
};
