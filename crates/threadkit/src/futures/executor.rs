//! [`ThreadPoolExecutor`]: Python's `concurrent.futures.ThreadPoolExecutor`.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use super::error::FutureError;
use super::future::{spin_until, Future, Shared};
use crate::sync::{lock, Waiter};
use crate::threading::{self, panic_message, timeout, Error, Thread};

type Initializer = Arc<dyn Fn() + Send + Sync>;

/// One queued task, whatever its result type.
trait Job: Send {
    /// Runs the task unless its future was cancelled; `idle` is called after the
    /// task and before its future completes (the worker counts as idle again).
    fn run(self: Box<Self>, idle: &mut dyn FnMut());
    /// Completes the pending future with `why` instead (cancelled, broken).
    fn abandon(self: Box<Self>, why: FutureError);
}

struct Task<T, F> {
    shared: Arc<Shared<T>>,
    f: F,
}

impl<T: Send, F: FnOnce() -> T + Send> Job for Task<T, F> {
    fn run(self: Box<Self>, idle: &mut dyn FnMut()) {
        if !self.shared.start_running() {
            return;
        }
        // A panic is the task's outcome, as an exception is in CPython: caught here,
        // the excepthook is not called (the worker's panic hook is silent).
        let outcome = panic::catch_unwind(AssertUnwindSafe(self.f))
            .map_err(|payload| FutureError::Panicked(panic_message(payload.as_ref())));
        idle();
        self.shared.complete(outcome);
    }

    fn abandon(self: Box<Self>, why: FutureError) {
        self.shared.complete_pending(Err(why));
    }
}

/// The pool's state, behind one lock.
struct State {
    queue: VecDeque<Box<dyn Job>>,
    /// Workers started (CPython's `len(self._threads)`, which also numbers them).
    started: usize,
    /// Workers waiting for work or about to look for it; a submit starts a new
    /// worker only when the queue outgrows them.
    idle: usize,
    /// Idle workers parked for work, woken one per submit.
    parked: Vec<Arc<Waiter>>,
    /// Every worker, for `shutdown(wait = true)`.
    threads: Vec<Thread>,
    shutdown: bool,
    broken: bool,
}

struct Pool {
    state: Mutex<State>,
    /// The queue's length, mirrored under the lock: what an idle worker polls
    /// while it spins before parking.
    queued: AtomicUsize,
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
}

impl Pool {
    /// Shuts the pool (submits fail from now on), cancels the queued tasks when
    /// `cancel`, and wakes every parked worker so it drains the queue and ends.
    fn begin_shutdown(&self, cancel: bool) {
        self.close(
            |s| s.shutdown = true,
            cancel.then_some(FutureError::Cancelled),
        );
    }

    /// The initializer panicked: the pool is broken, queued tasks fail with
    /// `Broken` and the workers end.
    fn break_pool(&self) {
        self.close(|s| s.broken = true, Some(FutureError::Broken));
    }

    /// Marks the pool closed with `mark`, completes the queued tasks with `why`
    /// (when given) instead of running them, and wakes every parked worker.
    fn close(&self, mark: fn(&mut State), why: Option<FutureError>) {
        let mut s = lock(&self.state);
        mark(&mut s);
        let dropped: Vec<_> = match why {
            Some(_) => s.queue.drain(..).collect(),
            None => Vec::new(),
        };
        self.queued.store(s.queue.len(), Ordering::Relaxed);
        let parked = std::mem::take(&mut s.parked);
        drop(s);
        for w in parked {
            w.notify();
        }
        if let Some(why) = why {
            for job in dropped {
                job.abandon(why.clone());
            }
        }
    }

    /// A worker's life: the initializer, then tasks until shut down and drained.
    fn work(self: Arc<Self>) {
        if let Some(init) = &self.initializer {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| init())) {
                log::error!(
                    "Exception in initializer: {}",
                    panic_message(payload.as_ref())
                );
                self.break_pool();
                return;
            }
        }
        // Started for a task: busy until it finds the queue empty.
        let mut idle = false;
        // Whether it spun since its last task (it spins once, then parks).
        let mut spun = false;
        let mut s = lock(&self.state);
        loop {
            if let Some(job) = s.queue.pop_front() {
                self.queued.store(s.queue.len(), Ordering::Relaxed);
                if idle {
                    s.idle -= 1;
                }
                drop(s);
                idle = false;
                spun = false;
                job.run(&mut || {
                    lock(&self.state).idle += 1;
                    idle = true;
                });
                s = lock(&self.state);
                continue;
            }
            if !idle {
                s.idle += 1;
                idle = true;
            }
            if s.shutdown || s.broken {
                s.idle -= 1;
                return;
            }
            if !spun {
                // The next task often follows within microseconds: catch it
                // without parking and being woken (submit only wakes parked ones).
                spun = true;
                drop(s);
                spin_until(|| self.queued.load(Ordering::Relaxed) > 0);
                s = lock(&self.state);
                continue;
            }
            let waiter = Waiter::new();
            s.parked.push(Arc::clone(&waiter));
            drop(s);
            waiter.wait(None, false);
            s = lock(&self.state);
            s.parked.retain(|w| !Arc::ptr_eq(w, &waiter));
        }
    }
}

/// Live pools, for the exit rule (a pool leaves the list when its last handle
/// goes).
static POOLS: Mutex<Vec<Weak<Pool>>> = Mutex::new(Vec::new());
/// Set once the exit rule has started: every submit fails from then on.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Numbers the executors, for the default prefix `ThreadPoolExecutor-K`.
static EXECUTORS: AtomicUsize = AtomicUsize::new(0);

/// At process exit (the exit rule's start): every live executor is shut down, so
/// its workers finish what was submitted and end; the exit rule then waits for
/// them as for any non-daemon thread (CPython's `_python_exit`).
fn shut_all_at_exit() {
    EXITING.store(true, Ordering::SeqCst);
    let pools: Vec<_> = lock(&POOLS).iter().filter_map(Weak::upgrade).collect();
    for pool in pools {
        pool.begin_shutdown(false);
    }
}

/// A pool of worker threads that run submitted tasks and hand back [`Future`]s
/// (Python's `concurrent.futures.ThreadPoolExecutor`).
///
/// Workers are non-daemon threadkit threads named `PREFIX_N` (default prefix
/// `ThreadPoolExecutor-K`), listed by `enumerate()`; they start on demand, one when
/// no worker is idle, up to [`max_workers`](Self::max_workers). Dropping the
/// executor is `shutdown(true, false)`. At process exit, every executor still alive
/// finishes the work already submitted, then its workers end.
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(4);
/// let squares: Vec<_> = pool.map(|x: u64| x * x, 1..=4)?.collect();
/// assert_eq!(squares, vec![Ok(1), Ok(4), Ok(9), Ok(16)]);
/// # Ok(())
/// # }
/// ```
pub struct ThreadPoolExecutor {
    pool: Arc<Pool>,
}

/// Builds a [`ThreadPoolExecutor`] with a worker limit, a thread name prefix and an
/// initializer.
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
/// use threadkit::threading::current_thread;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("fetch")
///     .initializer(|| log::debug!("worker up"))
///     .build();
/// assert_eq!(pool.submit(|| current_thread().name())?.result()?, "fetch_0");
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct ThreadPoolExecutorBuilder {
    max_workers: usize,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl ThreadPoolExecutorBuilder {
    /// The most workers the pool starts (0, the default: `min(32, cores + 4)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// assert_eq!(ThreadPoolExecutor::builder().max_workers(3).build().max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = n;
        self
    }

    /// The workers' name prefix: they are named `PREFIX_0`, `PREFIX_1`, ... (an
    /// empty prefix means the default, `ThreadPoolExecutor-K`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().thread_name_prefix("io").build();
    /// # drop(pool);
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into()).filter(|p: &String| !p.is_empty());
        self
    }

    /// Runs `f` at the start of every worker. If it panics, the pool breaks:
    /// pending futures fail with [`FutureError::Broken`] and later submits with
    /// [`Error::BrokenExecutor`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{FutureError, ThreadPoolExecutor};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::builder().initializer(|| panic!("no db")).build();
    /// let f = pool.submit(|| 1)?;
    /// assert_eq!(f.result(), Err(FutureError::Broken));
    /// # Ok(())
    /// # }
    /// ```
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(Arc::new(f));
        self
    }

    /// The executor (no worker runs until the first submit).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().build();
    /// assert!(pool.max_workers() >= 5);
    /// ```
    #[must_use]
    pub fn build(self) -> ThreadPoolExecutor {
        static AT_EXIT: Once = Once::new();
        AT_EXIT.call_once(|| threading::before_exit_wait(shut_all_at_exit));
        let k = EXECUTORS.fetch_add(1, Ordering::Relaxed);
        let max_workers = match self.max_workers {
            0 => std::thread::available_parallelism()
                .map_or(1, usize::from)
                .saturating_add(4)
                .min(32),
            n => n,
        };
        let pool = Arc::new(Pool {
            queued: AtomicUsize::new(0),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                started: 0,
                idle: 0,
                parked: Vec::new(),
                threads: Vec::new(),
                shutdown: EXITING.load(Ordering::SeqCst),
                broken: false,
            }),
            max_workers,
            prefix: self
                .prefix
                .unwrap_or_else(|| format!("ThreadPoolExecutor-{k}")),
            initializer: self.initializer,
        });
        let mut pools = lock(&POOLS);
        pools.retain(|p| p.strong_count() > 0);
        pools.push(Arc::downgrade(&pool));
        ThreadPoolExecutor { pool }
    }
}

impl ThreadPoolExecutor {
    /// An executor with at most `max_workers` workers (0: CPython's default,
    /// `min(32, cores + 4)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// assert_eq!(ThreadPoolExecutor::new(8).max_workers(), 8);
    /// ```
    #[must_use]
    pub fn new(max_workers: usize) -> ThreadPoolExecutor {
        Self::builder().max_workers(max_workers).build()
    }

    /// A builder: worker limit, thread name prefix, initializer.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    /// assert_eq!(pool.max_workers(), 2);
    /// ```
    pub fn builder() -> ThreadPoolExecutorBuilder {
        ThreadPoolExecutorBuilder {
            max_workers: 0,
            prefix: None,
            initializer: None,
        }
    }

    /// The most workers this executor starts (0 was resolved to
    /// `min(32, available_parallelism() + 4)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// assert!(ThreadPoolExecutor::new(0).max_workers() <= 32);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.pool.max_workers
    }

    /// Queues `f` to run on a worker and returns its [`Future`]. A worker is started
    /// when none is idle, up to `max_workers`.
    ///
    /// # Errors
    ///
    /// [`Error::ExecutorShutdown`] after [`shutdown`](Self::shutdown) or once the
    /// exit rule started, [`Error::BrokenExecutor`] when the initializer panicked,
    /// [`Error::Spawn`] when no worker exists and none could be started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = ThreadPoolExecutor::new(2);
    /// let f = pool.submit(|| (1..=10).sum::<u32>())?;
    /// assert_eq!(f.result()?, 55);
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit<T, F>(&self, f: F) -> Result<Future<T>, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let shared = Shared::new();
        let job = Box::new(Task {
            shared: Arc::clone(&shared),
            f,
        });
        let pool = &self.pool;
        let mut s = lock(&pool.state);
        if s.broken {
            return Err(Error::BrokenExecutor);
        }
        if s.shutdown || EXITING.load(Ordering::SeqCst) {
            return Err(Error::ExecutorShutdown);
        }
        s.queue.push_back(job);
        pool.queued.store(s.queue.len(), Ordering::Relaxed);
        if let Some(w) = s.parked.pop() {
            w.notify();
        }
        let start = s.queue.len() > s.idle && s.started < pool.max_workers;
        if !start {
            return Ok(Future::from_shared(shared));
        }
        let n = s.started;
        s.started += 1;
        drop(s);
        // Started outside the lock: spawning waits for the thread to run.
        let worker = Arc::clone(pool);
        let spawned = Thread::builder()
            .name(format!("{}_{n}", pool.prefix))
            .daemon(false)
            .target(move || worker.work())
            .spawn();
        let mut s = lock(&pool.state);
        match spawned {
            Ok(t) => s.threads.push(t),
            Err(e) => {
                s.started -= 1;
                if s.threads.is_empty() {
                    // No worker would ever run what is queued (this task included).
                    let dropped: Vec<_> = s.queue.drain(..).collect();
                    pool.queued.store(0, Ordering::Relaxed);
                    drop(s);
                    for job in dropped {
                        job.abandon(FutureError::Broken);
                    }
                    return Err(e);
                }
                log::warn!("thread pool: could not start a worker: {e}");
            }
        }
        Ok(Future::from_shared(shared))
    }

    /// Submits `f(item)` for every item before it returns, and yields the results
    /// in input order, each as soon as it is ready. The iterator owns the futures
    /// (it outlives the executor); dropping it cancels those not started.
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit); the tasks submitted before the failure are
    /// cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(3);
    /// let lens: Vec<_> = pool.map(|s: &str| s.len(), ["a", "bb", "ccc"])?.collect();
    /// assert_eq!(lens, vec![Ok(1), Ok(2), Ok(3)]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn map<I, F, T>(&self, f: F, items: I) -> Result<MapResults<T>, Error>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.map_deadline(f, items, None)
    }

    /// As [`map`](Self::map), but the first result not ready `timeout` after the
    /// call yields `Err(FutureError::TimedOut)` once, and the iterator ends there
    /// (cancelling the rest that did not start).
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{FutureError, ThreadPoolExecutor};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let rx = std::sync::Mutex::new(rx);
    /// let out: Vec<_> = pool
    ///     .map_timeout(move |_: u8| rx.lock().unwrap().recv().is_ok(), [0], Duration::from_millis(20))?
    ///     .collect();
    /// assert_eq!(out, vec![Err(FutureError::TimedOut)]);
    /// drop(tx);
    /// # Ok(())
    /// # }
    /// ```
    pub fn map_timeout<I, F, T>(
        &self,
        f: F,
        items: I,
        timeout: Duration,
    ) -> Result<MapResults<T>, Error>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.map_deadline(f, items, Some(timeout::deadline(timeout)))
    }

    fn map_deadline<I, F, T>(
        &self,
        f: F,
        items: I,
        deadline: Option<Option<Instant>>,
    ) -> Result<MapResults<T>, Error>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let mut results = MapResults {
            futures: VecDeque::new(),
            deadline,
        };
        for item in items {
            let f = Arc::clone(&f);
            // On an error `results` drops here and cancels what it holds.
            results.futures.push_back(self.submit(move || f(item))?);
        }
        Ok(results)
    }

    /// Shuts the executor down: later submits fail with
    /// [`Error::ExecutorShutdown`]; with `cancel_futures` the queued tasks that did
    /// not start are cancelled; with `wait` it returns once every worker has ended
    /// (every task that was not cancelled has run). Calling it again is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::ThreadPoolExecutor;
    /// use threadkit::threading::Error;
    ///
    /// # fn main() -> Result<(), Error> {
    /// let pool = ThreadPoolExecutor::new(2);
    /// let f = pool.submit(|| 1)?;
    /// pool.shutdown(true, false);
    /// assert!(f.done());
    /// assert!(matches!(pool.submit(|| 2), Err(Error::ExecutorShutdown)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.pool.begin_shutdown(cancel_futures);
        if wait {
            let threads = lock(&self.pool.state).threads.clone();
            for t in threads {
                // A task that shuts its own pool cannot join itself: it goes on.
                if t != threading::current_thread() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.pool.state);
        f.debug_struct("ThreadPoolExecutor")
            .field("prefix", &self.pool.prefix)
            .field("max_workers", &self.pool.max_workers)
            .field("workers", &s.started)
            .field("queued", &s.queue.len())
            .field("shutdown", &s.shutdown)
            .field("broken", &s.broken)
            .finish()
    }
}

impl fmt::Debug for ThreadPoolExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field("prefix", &self.prefix)
            .field("has_initializer", &self.initializer.is_some())
            .finish()
    }
}

/// The results of [`ThreadPoolExecutor::map`], in input order; it owns the futures.
/// Dropping it cancels the tasks that did not start (as CPython's iterator does).
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(2);
/// let mut results = pool.map(|x: i32| -x, [1, 2])?;
/// assert_eq!(results.next(), Some(Ok(-1)));
/// # Ok(())
/// # }
/// ```
pub struct MapResults<T> {
    futures: VecDeque<Future<T>>,
    /// None: no timeout; Some(None): a timeout too far to reach.
    deadline: Option<Option<Instant>>,
}

impl<T> Iterator for MapResults<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let f = self.futures.pop_front()?;
        if let Some(deadline) = self.deadline {
            if !f.wait_deadline(deadline, true) {
                self.futures.push_front(f);
                for f in self.futures.drain(..) {
                    f.cancel();
                }
                return Some(Err(FutureError::TimedOut));
            }
        }
        Some(f.result())
    }
}

impl<T> Drop for MapResults<T> {
    fn drop(&mut self) {
        for f in &self.futures {
            f.cancel();
        }
    }
}

impl<T> fmt::Debug for MapResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResults")
            .field("remaining", &self.futures.len())
            .finish()
    }
}

// The executor is shared between threads (tasks submit more tasks).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<ThreadPoolExecutor>();
    send_sync::<MapResults<Vec<u8>>>();
};
