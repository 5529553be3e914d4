//! The process-wide thread registry and the calling thread's identity:
//! [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`],
//! [`get_ident`], [`get_native_id`].
//!
//! The registry lists every live thread threadkit knows: the main thread (from the
//! first use on), every started threadkit thread until it ends, and foreign threads
//! that called `current_thread()` (daemon `Dummy-N` threads, dropped when their OS
//! thread exits). Entries are keyed by ident, and idents grow with start order, so a
//! listing is "main first, then in start order".
//!
//! Each OS thread knows which threadkit thread it runs as through a thread-local;
//! this is what makes RLock ownership, `Local` values and `current_thread()` follow
//! the threadkit thread rather than the OS thread.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::thread::{Kind, Thread};
use crate::sync::{self, lock, MAIN_IDENT};
use crate::sys;

/// Live threads by ident, but for pending timers (see `PENDING`). Only std types:
/// this is read by the exit hook.
static THREADS: Mutex<BTreeMap<u64, Thread>> = Mutex::new(BTreeMap::new());
/// Lists the live threads held elsewhere: pending timers, which the timer service
/// keeps (a map entry each would be a third of a pending timer's memory). It calls
/// its argument under the service's own lock, so that a timer moving between the
/// service and `THREADS` is seen in one of them; `THREADS` is locked inside it.
type PendingSource = fn(&mut dyn FnMut(Vec<Thread>));
static PENDING: OnceLock<PendingSource> = OnceLock::new();
/// The main thread's record, made on first use of the registry.
static MAIN: OnceLock<Thread> = OnceLock::new();
/// `Thread-N` and `Dummy-N` share one counter, as in CPython.
static NEXT_NAME: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The threadkit thread this OS thread runs as (None: not known yet).
    static CURRENT: RefCell<Option<Thread>> = const { RefCell::new(None) };
    /// Whether this OS thread was checked for being the main thread.
    static MAIN_CHECKED: Cell<bool> = const { Cell::new(false) };
    /// A foreign OS thread's dummy record once registered, finished when the OS
    /// thread exits.
    static DUMMY: Dummy = const { Dummy(RefCell::new(None)) };
}

/// The slot of a registered dummy thread, unlisted when its OS thread exits.
struct Dummy(RefCell<Option<Thread>>);

impl Drop for Dummy {
    fn drop(&mut self) {
        if let Some(t) = self.0.get_mut().take() {
            t.drop_locals();
            t.finish();
        }
    }
}

/// The main thread's record, listed on first use.
fn main() -> &'static Thread {
    MAIN.get_or_init(|| {
        let t = Thread::registered(
            "MainThread".to_string(),
            Kind::Main,
            MAIN_IDENT,
            sys::getpid(),
            std::sync::Arc::clone(sync::main_parker()),
        );
        lock(&THREADS).insert(MAIN_IDENT, t.clone());
        t
    })
}

/// The number of a default name, `Thread-N`.
pub(crate) fn next_name_number() -> u64 {
    NEXT_NAME.fetch_add(1, Ordering::Relaxed)
}

/// Lists `t` (it has its ident).
pub(crate) fn insert(t: &Thread) {
    main();
    let ident = t.ident().expect("a registered thread has an ident");
    lock(&THREADS).insert(ident, t.clone());
}

/// Lists `t` (it has its ident) if `cond()` holds, checked under the registry's
/// lock; returns whether it did. The timer service lists a due timer so, unless it
/// was cancelled: `cancel` unlists after changing the timer's state, so a timer it
/// ended is never listed after it.
pub(crate) fn insert_if(t: &Thread, cond: impl FnOnce() -> bool) -> bool {
    main();
    let ident = t.ident().expect("a registered thread has an ident");
    let mut threads = lock(&THREADS);
    let listed = cond();
    if listed {
        threads.insert(ident, t.clone());
    }
    listed
}

/// Names the timer service as the source of the pending timers (once).
pub(crate) fn set_pending_source(source: PendingSource) {
    if PENDING.get().is_none() {
        let _ = PENDING.set(source);
    }
}

/// Every live thread: `THREADS` and the pending timers, in ident order.
fn listed() -> Vec<Thread> {
    let mut all = Vec::new();
    let mut collect = |pending: Vec<Thread>| {
        all = pending;
        all.extend(lock(&THREADS).values().cloned());
    };
    match PENDING.get() {
        Some(source) => source(&mut collect),
        None => collect(Vec::new()),
    }
    all.sort_unstable_by_key(|t| t.inner.ident.load(Ordering::Relaxed));
    all.dedup();
    all
}

/// Unlists `t` if it is listed.
pub(crate) fn remove(t: &Thread) {
    if let Some(ident) = t.ident() {
        let mut threads = lock(&THREADS);
        if threads.get(&ident) == Some(t) {
            threads.remove(&ident);
        }
    }
}

impl Thread {
    /// Marks the thread finished: unlisted first, then `is_alive()` false and every
    /// joiner woken.
    pub(crate) fn finish(&self) {
        remove(self);
        self.mark_finished();
    }
}

/// Every listed thread, main first, then in start order.
pub(crate) fn snapshot() -> Vec<Thread> {
    main();
    listed()
}

/// Every listed thread, without touching this thread's thread-locals: what the exit
/// hook may call.
pub(crate) fn snapshot_no_tls() -> Vec<Thread> {
    listed()
}

/// The main thread's record, if the registry was ever used (the exit hook's view).
pub(crate) fn main_if_used() -> Option<&'static Thread> {
    MAIN.get()
}

/// Calls `f` with the threadkit thread the caller runs as, without registering a
/// dummy: `None` for a foreign thread that never called `current_thread()`.
fn with_current<R>(f: impl FnOnce(Option<&Thread>) -> R) -> R {
    let mut f = Some(f);
    let done = CURRENT.try_with(|c| {
        if c.borrow().is_none() && !MAIN_CHECKED.get() {
            MAIN_CHECKED.set(true);
            if sync::is_main_os_thread() {
                *c.borrow_mut() = Some(main().clone());
            }
        }
        (f.take().expect("called once"))(c.borrow().as_ref())
    });
    match done {
        Ok(r) => r,
        // Thread-locals are being torn down (a thread-local's destructor, an exit
        // hook): the main thread is still known by its tid; others act as foreign.
        Err(_) if sync::is_main_os_thread() => (f.take().expect("not called"))(Some(main())),
        Err(_) => (f.take().expect("not called"))(None),
    }
}

/// The daemon flag a new thread inherits: the creating thread's (a foreign thread
/// counts as daemon, as its dummy record would be).
pub(crate) fn current_is_daemon() -> bool {
    with_current(|t| t.is_none_or(Thread::is_daemon))
}

/// What `enter` replaced, for `leave` to put back.
pub(crate) struct Entered {
    thread: Option<Thread>,
    base: sync::Entered,
}

/// Makes the calling OS thread run as `t` (until `leave`), and records its tid.
pub(crate) fn enter(t: &Thread) -> Entered {
    let base = sync::enter(t.ident().unwrap_or(0), std::sync::Arc::clone(t.parker()));
    t.set_native_id(sys::gettid());
    let thread = CURRENT.with(|c| c.replace(Some(t.clone())));
    Entered { thread, base }
}

/// Undoes `enter`.
pub(crate) fn leave(previous: Entered) {
    sync::leave(previous.base);
    CURRENT.with(|c| *c.borrow_mut() = previous.thread);
}

/// The `Thread` of the caller. For a thread threadkit did not start, the first call
/// registers it as a daemon `Dummy-N` thread (listed until its OS thread exits).
/// Python: `threading.current_thread()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{current_thread, Thread};
/// use std::sync::mpsc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let (tx, rx) = mpsc::channel();
/// let t = Thread::builder().name("me").target(move || {
///     tx.send(current_thread().name()).unwrap();
/// }).spawn()?;
/// t.join()?;
/// assert_eq!(rx.recv().unwrap(), "me");
/// # Ok(())
/// # }
/// ```
pub fn current_thread() -> Thread {
    if let Some(t) = with_current(|t| t.cloned()) {
        return t;
    }
    register_dummy()
}

fn register_dummy() -> Thread {
    let name = format!("Dummy-{}", next_name_number());
    let t = Thread::registered(
        name,
        Kind::Dummy,
        sync::current_ident(),
        sys::gettid(),
        sync::current_parker(),
    );
    let kept = DUMMY
        .try_with(|d| *d.0.borrow_mut() = Some(t.clone()))
        .is_ok();
    // Only a record something will unlist at the thread's exit is listed: while
    // thread-locals are torn down, the record is returned but not listed.
    if kept
        && CURRENT
            .try_with(|c| *c.borrow_mut() = Some(t.clone()))
            .is_ok()
    {
        insert(&t);
    } else if kept {
        let _ = DUMMY.try_with(|d| d.0.borrow_mut().take());
    }
    t
}

/// The main thread: the one the process started in, named `MainThread`. Python:
/// `threading.main_thread()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::main_thread;
///
/// assert_eq!(main_thread().name(), "MainThread");
/// assert!(!main_thread().is_daemon());
/// ```
pub fn main_thread() -> Thread {
    main().clone()
}

/// Every live thread (started threadkit threads, the main thread and registered
/// dummies), main first, then in start order. Python: `threading.enumerate()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{enumerate, Event, Thread};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let done = Arc::new(Event::new());
/// let d = done.clone();
/// let t = Thread::new(move || { d.wait(); });
/// t.start()?;
/// assert!(enumerate().contains(&t));
/// done.set();
/// t.join()?;
/// assert!(!enumerate().contains(&t));
/// # Ok(())
/// # }
/// ```
pub fn enumerate() -> Vec<Thread> {
    snapshot()
        .into_iter()
        .filter(|t| !t.inner.internal)
        .collect()
}

/// The number of live threads: `enumerate().len()`. Python: `threading.active_count()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{active_count, main_thread};
///
/// let _ = main_thread();
/// assert!(active_count() >= 1);
/// ```
pub fn active_count() -> usize {
    snapshot().iter().filter(|t| !t.inner.internal).count()
}

/// The caller's ident: that of `current_thread()`, without registering a foreign
/// thread. Python: `threading.get_ident()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{current_thread, get_ident};
///
/// assert_eq!(current_thread().ident(), Some(get_ident()));
/// ```
pub fn get_ident() -> u64 {
    sync::current_ident()
}

/// The kernel's id of the calling OS thread. Python: `threading.get_native_id()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{get_native_id, main_thread};
///
/// // On Linux the main thread's native id is the process id.
/// assert_eq!(main_thread().native_id(), Some(std::process::id() as u64));
/// assert!(get_native_id() > 0);
/// ```
pub fn get_native_id() -> u64 {
    sys::gettid()
}
