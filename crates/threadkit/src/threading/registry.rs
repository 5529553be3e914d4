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
use std::sync::{Arc, Mutex, OnceLock};

use super::thread::{Kind, Thread};
use crate::sync::{lock, Parker};
use crate::sys;

/// Live threads by ident. Only std types: this is read by the exit hook.
static THREADS: Mutex<BTreeMap<u64, Thread>> = Mutex::new(BTreeMap::new());
/// The main thread's record, made on first use of the registry.
static MAIN: OnceLock<Thread> = OnceLock::new();
/// The main thread is ident 1; everything else counts from 2.
const MAIN_IDENT: u64 = 1;
static NEXT_IDENT: AtomicU64 = AtomicU64::new(MAIN_IDENT + 1);
/// `Thread-N` and `Dummy-N` share one counter, as in CPython.
static NEXT_NAME: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The threadkit thread this OS thread runs as (None: not known yet).
    static CURRENT: RefCell<Option<Thread>> = const { RefCell::new(None) };
    /// `CURRENT`'s ident, or 0: the fast path of `current_ident()` (RLock).
    static IDENT: Cell<u64> = const { Cell::new(0) };
    /// Whether this OS thread was checked for being the main thread.
    static MAIN_CHECKED: Cell<bool> = const { Cell::new(false) };
    /// What a thread threadkit did not start needs before (or without) registering.
    static FOREIGN: Foreign = Foreign::new();
}

/// A foreign OS thread's private parker and reserved ident, and its dummy record
/// once registered (finished when the OS thread exits).
struct Foreign {
    parker: Arc<Parker>,
    ident: Cell<u64>,
    dummy: RefCell<Option<Thread>>,
}

impl Foreign {
    fn new() -> Foreign {
        Foreign {
            parker: Arc::new(Parker::new()),
            ident: Cell::new(0),
            dummy: RefCell::new(None),
        }
    }

    fn ident(&self) -> u64 {
        if self.ident.get() == 0 {
            self.ident.set(next_ident());
        }
        self.ident.get()
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        if let Some(t) = self.dummy.get_mut().take() {
            t.drop_locals();
            t.finish();
        }
    }
}

/// The main thread's record, registered (with the exit hook) on first use.
fn main() -> &'static Thread {
    MAIN.get_or_init(|| {
        let t = Thread::registered(
            "MainThread".to_string(),
            Kind::Main,
            MAIN_IDENT,
            sys::getpid(),
            Arc::new(Parker::new()),
        );
        lock(&THREADS).insert(MAIN_IDENT, t.clone());
        sys::at_exit(super::exit::exit_hook);
        t
    })
}

/// A new ident: unique in the process, never reused.
pub(crate) fn next_ident() -> u64 {
    NEXT_IDENT.fetch_add(1, Ordering::Relaxed)
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

/// Unlists `t` if it is listed.
pub(crate) fn remove(t: &Thread) {
    if let Some(ident) = t.ident() {
        let mut threads = lock(&THREADS);
        if threads.get(&ident) == Some(t) {
            threads.remove(&ident);
        }
    }
}

/// Every listed thread, main first, then in start order.
pub(crate) fn snapshot() -> Vec<Thread> {
    main();
    lock(&THREADS).values().cloned().collect()
}

/// Every listed thread, without touching this thread's thread-locals: what the exit
/// hook may call.
pub(crate) fn snapshot_no_tls() -> Vec<Thread> {
    lock(&THREADS).values().cloned().collect()
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
            if sys::gettid() == sys::getpid() {
                let m = main().clone();
                IDENT.set(MAIN_IDENT);
                *c.borrow_mut() = Some(m);
            }
        }
        (f.take().expect("called once"))(c.borrow().as_ref())
    });
    match done {
        Ok(r) => r,
        // Thread-locals are being torn down: act as a foreign thread.
        Err(_) => (f.take().expect("not called"))(None),
    }
}

/// The calling thread's parker (see `crate::sync::current_parker`).
pub(crate) fn current_parker() -> Arc<Parker> {
    with_current(|t| t.map(|t| Arc::clone(t.parker()))).unwrap_or_else(|| {
        FOREIGN
            .try_with(|f| Arc::clone(&f.parker))
            .unwrap_or_else(|_| Arc::new(Parker::new()))
    })
}

/// The calling thread's ident (see `crate::sync::current_ident`).
pub(crate) fn current_ident() -> u64 {
    if let Ok(id) = IDENT.try_with(Cell::get) {
        if id != 0 {
            return id;
        }
    }
    with_current(|t| t.and_then(Thread::ident)).unwrap_or_else(|| {
        FOREIGN
            .try_with(Foreign::ident)
            .unwrap_or_else(|_| next_ident())
    })
}

/// The daemon flag a new thread inherits: the creating thread's (a foreign thread
/// counts as daemon, as its dummy record would be).
pub(crate) fn current_is_daemon() -> bool {
    with_current(|t| t.is_none_or(Thread::is_daemon))
}

/// Whether a stop was requested for the calling threadkit thread.
pub(crate) fn current_stop_requested() -> bool {
    with_current(|t| t.is_some_and(Thread::is_stopped))
}

/// What `enter` replaced, for `leave` to put back.
pub(crate) struct Entered {
    thread: Option<Thread>,
    ident: u64,
}

/// Makes the calling OS thread run as `t` (until `leave`), and records its tid.
pub(crate) fn enter(t: &Thread) -> Entered {
    t.set_native_id(sys::gettid());
    let ident = IDENT.replace(t.ident().unwrap_or(0));
    let thread = CURRENT.with(|c| c.replace(Some(t.clone())));
    Entered { thread, ident }
}

/// Undoes `enter`.
pub(crate) fn leave(previous: Entered) {
    IDENT.set(previous.ident);
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
    let made = FOREIGN.try_with(|f| {
        let ident = f.ident();
        let name = format!("Dummy-{}", NEXT_NAME.fetch_add(1, Ordering::Relaxed));
        let t = Thread::registered(
            name,
            Kind::Dummy,
            ident,
            sys::gettid(),
            Arc::clone(&f.parker),
        );
        *f.dummy.borrow_mut() = Some(t.clone());
        t
    });
    match made {
        Ok(t) => {
            insert(&t);
            IDENT.set(t.ident().unwrap_or(0));
            CURRENT.with(|c| *c.borrow_mut() = Some(t.clone()));
            t
        }
        // Called while this OS thread's thread-locals are torn down: a record that
        // is not listed (there is nothing left to unlist it later).
        Err(_) => Thread::registered(
            "Dummy".to_string(),
            Kind::Dummy,
            next_ident(),
            sys::gettid(),
            Arc::new(Parker::new()),
        ),
    }
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
    main();
    lock(&THREADS)
        .values()
        .filter(|t| !t.inner.internal)
        .count()
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
    current_ident()
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
