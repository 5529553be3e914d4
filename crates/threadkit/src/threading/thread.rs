//! [`Thread`], [`ThreadBuilder`] and [`Run`]: Python's `threading.Thread`.
//!
//! A `Thread` is a handle (an `Arc`) to one thread's record: it exists before the
//! thread runs (Python code names it and sets its daemon flag before `start()`), it
//! is what the registry lists, and it outlives the thread (`join`, `panicked`,
//! `take_run`).

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::error::Error;
use super::{hooks, registry, stack, timeout, timer};
use crate::sync::{lock, Parker, Waiter, Wake};

/// The body of a thread written as a type, for code ported from a Python `Thread`
/// subclass that overrides `run()`.
///
/// The value moves into the thread; after the thread ended,
/// [`Thread::take_run`] gives it back, so the Python pattern "store the result in
/// `self`, read it after `join()`" carries over.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Run, Thread};
///
/// struct Summer { upto: u64, total: u64 }
///
/// impl Run for Summer {
///     fn run(&mut self) {
///         self.total = (1..=self.upto).sum();
///     }
/// }
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let t = Thread::from_run(Summer { upto: 100, total: 0 });
/// t.start()?;
/// t.join()?;
/// assert_eq!(t.take_run::<Summer>().unwrap().total, 5050);
/// # Ok(())
/// # }
/// ```
pub trait Run: Send + 'static {
    /// The thread's work; runs once, on the new thread.
    fn run(&mut self);
}

/// A `Run` value, boxed so the thread can give it back as `Any` afterwards.
trait RunBox: Send {
    fn run_box(&mut self);
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Run> RunBox for T {
    fn run_box(&mut self) {
        self.run();
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A timer's own fields (see `timer.rs`): a `Timer` is a thread that no OS thread
/// runs while it waits. They sit in the record itself, so a pending timer is one
/// allocation.
#[derive(Debug)]
pub(crate) struct TimerFields {
    /// The interval, in nanoseconds.
    pub(crate) interval: u64,
    /// The timer's state (`timer.rs`: IDLE, SCHEDULED, RUNNING, ...).
    pub(crate) state: AtomicU8,
    /// Calls again every interval until cancelled.
    pub(crate) repeat: bool,
}

/// A timer's function, out of the body slot for a call.
pub(crate) enum TimerFn {
    Once(Box<dyn FnOnce() + Send>),
    Repeat(Box<dyn FnMut() + Send>),
}

/// Stands in for a `Run` value already handed back.
struct Spent;

impl Run for Spent {
    fn run(&mut self) {}
}

/// What a thread runs: a closure, or a `Run` value to hand back afterwards; and,
/// once it ran, the `Run` value handed back.
enum Body {
    Nothing,
    /// A closure: a thread's target, or a one-shot timer's function.
    Target(Box<dyn FnOnce() + Send>),
    Runnable(Box<dyn RunBox>),
    Returned(Box<dyn Any + Send>),
    /// A repeating timer's function, put back after each call.
    Repeat(Box<dyn FnMut() + Send>),
}

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Life {
    /// Built, not started.
    Initial,
    /// Started and registered, but no OS thread runs it yet.
    Pending,
    /// An OS thread runs it.
    Running,
    /// Its body returned or panicked (or, for the main thread, the exit rule runs).
    Finished,
}

/// Who made the thread: threadkit (`Normal`), the runtime (`Main`), or foreign code
/// (`Dummy`, registered on its first `current_thread()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Normal,
    Main,
    Dummy,
}

/// Everything about a thread that changes, under one lock (one lock, not one per
/// field, keeps the record small: a pending timer is one of these).
struct State {
    life: Life,
    /// When it was started (or registered): `ThreadInfo::age`, a timer's slots.
    started_at: Option<Instant>,
    name: Name,
    /// Taken by the thread when it runs; the `Run` value comes back here.
    body: Body,
}

/// What a thread needs only once it waits, is joined or stopped, or keeps `Local`
/// values: made on first use, so a pending timer does not pay for it.
struct Ext {
    /// Every threadkit wait of this thread parks here; `stop()` unparks it.
    parker: Arc<Parker>,
    /// Threads in `join`, notified when `life` becomes `Finished`. Locked inside
    /// `state`'s lock, never the other way round.
    joiners: Mutex<Vec<Arc<Waiter>>>,
    /// This thread's `Local` values; dropped at its end (or each timer call's).
    locals: Mutex<LocalMap>,
}

impl Ext {
    fn new(parker: Arc<Parker>) -> Box<Ext> {
        Box::new(Ext {
            parker,
            joiners: Mutex::new(Vec::new()),
            locals: Mutex::new(LocalMap::default()),
        })
    }
}

/// This thread's `Local` values, keyed by the `Local`'s id; boxed and made on first
/// use, so a thread without any costs one pointer.
#[derive(Default)]
// Boxed on purpose: one pointer in every thread record instead of a 48-byte map.
#[allow(clippy::box_collection)]
pub(crate) struct LocalMap(Option<Box<HashMap<u64, Box<dyn Any + Send>>>>);

impl LocalMap {
    /// Sets the value for `id`, returning the previous one.
    pub(crate) fn insert(
        &mut self,
        id: u64,
        value: Box<dyn Any + Send>,
    ) -> Option<Box<dyn Any + Send>> {
        self.0
            .get_or_insert_with(Default::default)
            .insert(id, value)
    }

    /// Takes the value for `id` out.
    pub(crate) fn remove(&mut self, id: &u64) -> Option<Box<dyn Any + Send>> {
        self.0.as_mut()?.remove(id)
    }
}

/// A thread's name: default names are formatted when asked, so a thread (a pending
/// timer) that nobody names costs no allocation for it.
enum Name {
    Default(u64),
    Given(Box<str>),
}

/// One thread's record, shared by every `Thread` handle to it.
///
/// Its size is what a pending timer costs, so it stays small: what changes is under
/// one lock, and what few threads need is in `ext`, made on first use.
pub(crate) struct Inner {
    /// threadkit's own number, 0 until started (or registered).
    ident: AtomicU64,
    /// The kernel's tid of the OS thread running it, 0 while none does.
    native_id: AtomicU64,
    daemon: AtomicBool,
    panicked: AtomicBool,
    pub(crate) kind: Kind,
    /// threadkit's own threads (timer service and pool, server loops): left out of
    /// `enumerate()`, marked in `dump_all()`.
    pub(crate) internal: bool,
    /// Stack size asked for by the builder, in bytes (saturated at 4 GiB); 0 takes
    /// `stack_size()` at start.
    stack_size: u32,
    state: Mutex<State>,
    /// Set for a `Timer`'s thread: started and stopped by `timer.rs`, not an OS thread.
    timer: Option<TimerFields>,
    ext: OnceLock<Box<Ext>>,
}

impl Inner {
    fn ext(&self) -> &Ext {
        self.ext.get_or_init(|| Ext::new(Arc::new(Parker::new())))
    }

    /// This thread's `Local` values.
    pub(crate) fn locals(&self) -> &Mutex<LocalMap> {
        &self.ext().locals
    }
}

/// A thread of execution, as Python's `threading.Thread`.
///
/// A `Thread` is a cheap handle: clones refer to the same thread and compare equal.
/// It is created unstarted (by [`Thread::new`], [`Thread::from_run`] or
/// [`Thread::builder`]), can be named and made a daemon before [`start`](Self::start),
/// and can be joined, with or without a timeout, by any other thread.
///
/// Differences from `std::thread`: a `Thread` exists before it runs; `join` can time
/// out and can be called from several threads; the process waits at exit for
/// non-daemon threads, as Python does; a panic is reported through the excepthook
/// ([`set_excepthook`](super::set_excepthook)) and recorded by
/// [`panicked`](Self::panicked). The body's return value is `()`: capture a channel
/// or use [`Run`] to carry results out.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Thread;
/// use std::time::Duration;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let t = Thread::builder()
///     .name("worker")
///     .target(|| std::thread::sleep(Duration::from_millis(10)))
///     .build();
/// assert_eq!(t.name(), "worker");
/// assert_eq!(t.ident(), None);
/// t.start()?;
/// assert!(t.ident().is_some());
/// while !t.join_timeout(Duration::from_millis(1))? {
///     // do other work meanwhile
/// }
/// assert!(!t.is_alive());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Thread {
    pub(crate) inner: Arc<Inner>,
}

impl Thread {
    /// An unstarted thread that will run `f`, with a default name (`Thread-N`) and
    /// the daemon flag of the creating thread. Python: `Thread(target=f)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| println!("hello from a thread"));
    /// t.start()?;
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new<F>(f: F) -> Thread
    where
        F: FnOnce() + Send + 'static,
    {
        Thread::builder().target(f).build()
    }

    /// An unstarted thread that will call `value.run()`. Python: a `Thread` subclass.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Run, Thread};
    ///
    /// struct Hello;
    /// impl Run for Hello {
    ///     fn run(&mut self) { println!("hello"); }
    /// }
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::from_run(Hello);
    /// t.start()?;
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_run<R: Run>(value: R) -> Thread {
        Thread::builder().runnable(value).build()
    }

    /// A builder for a thread with a name, daemon flag or stack size of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::builder().name("logger").daemon(true).target(|| {}).spawn()?;
    /// assert!(t.is_daemon());
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> ThreadBuilder {
        ThreadBuilder::default()
    }

    fn from_parts(name: Name, daemon: bool, kind: Kind, parker: Option<Arc<Parker>>) -> Thread {
        Thread {
            inner: Arc::new(Inner {
                ident: AtomicU64::new(0),
                native_id: AtomicU64::new(0),
                daemon: AtomicBool::new(daemon),
                panicked: AtomicBool::new(false),
                kind,
                internal: false,
                stack_size: 0,
                state: Mutex::new(State {
                    life: Life::Initial,
                    started_at: None,
                    name,
                    body: Body::Nothing,
                }),
                timer: None,
                ext: parker.map_or_else(OnceLock::new, |p| OnceLock::from(Ext::new(p))),
            }),
        }
    }

    /// The record of a thread threadkit did not start (the main thread, a dummy),
    /// already running on the calling OS thread.
    pub(crate) fn registered(
        name: String,
        kind: Kind,
        ident: u64,
        native_id: u64,
        parker: Arc<Parker>,
    ) -> Thread {
        let t = Thread::from_parts(
            Name::Given(name.into()),
            kind != Kind::Main,
            kind,
            Some(parker),
        );
        t.inner.ident.store(ident, Ordering::Relaxed);
        t.inner.native_id.store(native_id, Ordering::Relaxed);
        {
            let mut st = lock(&t.inner.state);
            st.life = Life::Running;
            st.started_at = Some(Instant::now());
        }
        t
    }

    /// Starts the thread: registers it (so `enumerate()` lists it and `ident()` is
    /// set when this returns) and runs its body on a new OS thread. Python: `start()`.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] on a second call; [`Error::InvalidStackSize`] when the
    /// builder asked for a stack below 32 KiB; [`Error::Spawn`] when the OS refuses a
    /// thread (the `Thread` stays unstarted and can be started again).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, Thread};
    ///
    /// # fn main() -> Result<(), Error> {
    /// let t = Thread::new(|| {});
    /// t.start()?;
    /// assert!(matches!(t.start(), Err(Error::AlreadyStarted)));
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(&self) -> Result<(), Error> {
        if self.inner.timer.is_some() {
            self.begin(Life::Pending)?;
            timer::start(self);
            return Ok(());
        }
        let stack_size = match self.inner.stack_size {
            0 => stack::stack_size(),
            n => n as usize,
        };
        if stack_size != 0 && stack_size < stack::MIN_STACK_SIZE {
            return Err(Error::InvalidStackSize);
        }
        // A thread whose OS thread is being created counts as running: `Pending` is
        // for threads that wait for one (timers).
        self.begin(Life::Running)?;
        hooks::install_panic_hook();
        let mut builder = std::thread::Builder::new().name(os_name(&self.name()));
        if stack_size != 0 {
            builder = builder.stack_size(stack_size);
        }
        let me = self.clone();
        match builder.spawn(move || me.run_here()) {
            Ok(_) => Ok(()),
            Err(e) => {
                registry::remove(self);
                self.inner.ident.store(0, Ordering::Relaxed);
                let mut st = lock(&self.inner.state);
                st.life = Life::Initial;
                st.started_at = None;
                Err(Error::Spawn(e))
            }
        }
    }

    /// `Initial -> life`: assigns the ident and registers the thread.
    fn begin(&self, life: Life) -> Result<(), Error> {
        {
            let mut st = lock(&self.inner.state);
            if st.life != Life::Initial {
                return Err(Error::AlreadyStarted);
            }
            st.life = life;
            st.started_at = Some(Instant::now());
        }
        self.inner
            .ident
            .store(registry::next_ident(), Ordering::Relaxed);
        registry::insert(self);
        Ok(())
    }

    /// Runs the body on the calling OS thread, as this thread: `current_thread()`,
    /// `Local`s and RLock ownership follow it for the call; then ends the thread.
    fn run_here(&self) {
        let previous = registry::enter(self);
        lock(&self.inner.state).life = Life::Running;
        let body = std::mem::replace(&mut lock(&self.inner.state).body, Body::Nothing);
        let run = || match body {
            Body::Target(f) => f(),
            Body::Runnable(r) => {
                // Hand the value back even if `run` panics, as Python keeps `self`.
                struct GiveBack<'a>(Box<dyn RunBox>, &'a Thread);
                impl Drop for GiveBack<'_> {
                    fn drop(&mut self) {
                        let value = std::mem::replace(&mut self.0, Box::new(Spent));
                        lock(&self.1.inner.state).body = Body::Returned(value.into_any());
                    }
                }
                let mut guard = GiveBack(r, self);
                guard.0.run_box();
            }
            Body::Nothing | Body::Returned(_) | Body::Repeat(_) => {}
        };
        // threadkit's own threads are no business of the user's hooks.
        let panicked = if self.inner.internal {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err()
        } else {
            hooks::run_body(self, run)
        };
        self.inner.panicked.store(panicked, Ordering::Release);
        self.drop_locals();
        registry::leave(previous);
        self.finish();
    }

    /// Runs one call of a timer's function on the calling (pooled) OS thread, as this
    /// thread, with the hooks around it; the call's `Local` values are dropped when it
    /// returns. Returns whether it panicked. The thread goes back to `Pending` (no OS
    /// thread) afterwards; `timer.rs` ends it with `finish`.
    pub(crate) fn run_call(&self, f: impl FnOnce()) -> bool {
        let previous = registry::enter(self);
        lock(&self.inner.state).life = Life::Running;
        let panicked = hooks::run_body(self, f);
        if panicked {
            self.inner.panicked.store(true, Ordering::Release);
        }
        self.drop_locals();
        registry::leave(previous);
        self.inner.native_id.store(0, Ordering::Relaxed);
        let mut st = lock(&self.inner.state);
        if st.life == Life::Running {
            st.life = Life::Pending;
        }
        panicked
    }

    /// Drops this thread's `Local` values, outside the map's lock (a value's `Drop`
    /// may use other `Local`s).
    pub(crate) fn drop_locals(&self) {
        let Some(ext) = self.inner.ext.get() else {
            return;
        };
        loop {
            let values = lock(&ext.locals).0.take();
            match values {
                Some(values) => drop(values),
                None => return,
            }
        }
    }

    /// Marks the thread finished: unlisted first, then `is_alive()` false and every
    /// joiner woken.
    pub(crate) fn finish(&self) {
        registry::remove(self);
        self.mark_finished();
    }

    /// Marks the main thread finished without unlisting it (the exit rule runs):
    /// `main_thread().is_alive()` turns false, as in CPython.
    pub(crate) fn mark_exiting(&self) {
        self.mark_finished();
    }

    /// `life = Finished`, and every joiner woken (outside the locks).
    fn mark_finished(&self) {
        let joiners = {
            let mut st = lock(&self.inner.state);
            st.life = Life::Finished;
            self.inner
                .ext
                .get()
                .map(|ext| std::mem::take(&mut *lock(&ext.joiners)))
        };
        for w in joiners.into_iter().flatten() {
            w.notify();
        }
    }

    /// Waits until the thread has finished, `deadline` passes, or (when
    /// `stoppable`) a stop is requested for the waiter's thread. Returns whether it
    /// has finished.
    pub(crate) fn wait_finished(
        &self,
        parker: Arc<Parker>,
        deadline: Option<Instant>,
        stoppable: bool,
    ) -> bool {
        let waiter = Waiter::with_parker(parker);
        let joiners = &self.inner.ext().joiners;
        {
            // `joiners` inside `state`: `mark_finished` takes them in that order, so
            // a joiner cannot miss the end.
            let st = lock(&self.inner.state);
            if st.life == Life::Finished {
                return true;
            }
            lock(joiners).push(Arc::clone(&waiter));
        }
        let _record = self
            .ident()
            .map(|id| super::wait::begin_join(id, self.name(), deadline));
        if waiter.wait(deadline, stoppable) == Wake::Notified {
            return true;
        }
        let st = lock(&self.inner.state);
        lock(joiners).retain(|w| !Arc::ptr_eq(w, &waiter));
        st.life == Life::Finished
    }

    fn check_joinable(&self) -> Result<(), Error> {
        if self.life() == Life::Initial {
            return Err(Error::NotStarted);
        }
        if self.inner.ident.load(Ordering::Relaxed) == registry::current_ident() {
            return Err(Error::JoinCurrentThread);
        }
        Ok(())
    }

    /// Blocks until the thread has ended, normally or by a panic. Python: `join()`.
    ///
    /// A stop request for the calling thread does not interrupt it.
    ///
    /// # Errors
    ///
    /// [`Error::NotStarted`] for a thread never started; [`Error::JoinCurrentThread`]
    /// when a thread joins itself. A panic in the joined thread is not an error: see
    /// [`panicked`](Self::panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| {});
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.is_alive());
    /// # Ok(())
    /// # }
    /// ```
    pub fn join(&self) -> Result<(), Error> {
        self.check_joinable()?;
        self.wait_finished(registry::current_parker(), None, false);
        Ok(())
    }

    /// Blocks until the thread has ended or `timeout` has passed; returns `true` if
    /// it has ended. Python: `join(timeout)` followed by `not is_alive()`.
    ///
    /// It never returns `false` before `timeout` has passed, except when a stop is
    /// requested for the calling thread, which ends the wait with `Ok(false)`. A
    /// timeout above [`TIMEOUT_MAX`](super::TIMEOUT_MAX) waits without limit.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Event, Thread};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let go = Arc::new(Event::new());
    /// let g = go.clone();
    /// let t = Thread::new(move || { g.wait(); });
    /// t.start()?;
    /// assert!(!t.join_timeout(Duration::from_millis(10))?); // still running
    /// go.set();
    /// assert!(t.join_timeout(Duration::from_secs(10))?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        self.check_joinable()?;
        Ok(self.wait_finished(registry::current_parker(), timeout::deadline(timeout), true))
    }

    /// Whether the thread ended by a panic (false while it runs).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{restore_excepthook, set_excepthook, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// # set_excepthook(|_| {});
    /// let t = Thread::new(|| panic!("boom"));
    /// t.start()?;
    /// t.join()?;
    /// assert!(t.panicked());
    /// # restore_excepthook();
    /// # Ok(())
    /// # }
    /// ```
    pub fn panicked(&self) -> bool {
        self.inner.panicked.load(Ordering::Acquire)
    }

    /// The thread's name. Python: `name` / `getName()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::new(|| {});
    /// assert!(t.name().starts_with("Thread-"));
    /// ```
    pub fn name(&self) -> String {
        match &lock(&self.inner.state).name {
            Name::Default(n) => format!("Thread-{n}"),
            Name::Given(s) => s.to_string(),
        }
    }

    /// Renames the thread, started or not. Python: `name = ...` / `setName()`.
    ///
    /// The registry (and so `enumerate()` and `dump()`) shows the new name at once;
    /// the OS-level name, set once at start, keeps the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::new(|| {});
    /// t.set_name("renamed");
    /// assert_eq!(t.name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        lock(&self.inner.state).name = Name::Given(name.into().into());
    }

    /// threadkit's number for the thread: `None` before it is started, then unique in
    /// the process and never reused. Python: `ident`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{get_ident, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| {});
    /// assert_eq!(t.ident(), None);
    /// t.start()?;
    /// assert!(t.ident().is_some());
    /// assert_ne!(t.ident(), Some(get_ident()));
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn ident(&self) -> Option<u64> {
        match self.inner.ident.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// The kernel's id of the OS thread running it: `None` until one does. Python:
    /// `native_id`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{current_thread, get_native_id};
    ///
    /// assert_eq!(current_thread().native_id(), Some(get_native_id()));
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        match self.inner.native_id.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// The parker every threadkit wait of this thread parks on.
    pub(crate) fn parker(&self) -> &Arc<Parker> {
        &self.inner.ext().parker
    }

    /// Whether a stop was requested for this thread.
    pub(crate) fn is_stopped(&self) -> bool {
        self.inner
            .ext
            .get()
            .is_some_and(|ext| ext.parker.is_stopped())
    }

    /// The timer's fields, for a `Timer`'s thread.
    pub(crate) fn timer(&self) -> Option<&TimerFields> {
        self.inner.timer.as_ref()
    }

    /// Takes a timer's function out of the body slot for a call.
    pub(crate) fn take_timer_fn(&self) -> Option<TimerFn> {
        let mut st = lock(&self.inner.state);
        match std::mem::replace(&mut st.body, Body::Nothing) {
            Body::Target(f) => Some(TimerFn::Once(f)),
            Body::Repeat(f) => Some(TimerFn::Repeat(f)),
            other => {
                st.body = other;
                None
            }
        }
    }

    /// Puts a repeating timer's function back after a call.
    pub(crate) fn put_back_repeat(&self, f: Box<dyn FnMut() + Send>) {
        lock(&self.inner.state).body = Body::Repeat(f);
    }

    pub(crate) fn set_native_id(&self, tid: u64) {
        self.inner.native_id.store(tid, Ordering::Relaxed);
    }

    /// Whether the thread has started and not yet ended. Python: `is_alive()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| {});
    /// assert!(!t.is_alive());
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.is_alive());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_alive(&self) -> bool {
        matches!(self.life(), Life::Pending | Life::Running)
    }

    pub(crate) fn life(&self) -> Life {
        lock(&self.inner.state).life
    }

    pub(crate) fn started_at(&self) -> Option<Instant> {
        lock(&self.inner.state).started_at
    }

    /// Whether the process may exit without waiting for this thread. Python:
    /// `daemon` / `isDaemon()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::builder().daemon(true).target(|| {}).build();
    /// assert!(t.is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon.load(Ordering::Relaxed)
    }

    /// Sets the daemon flag before the thread starts. Python: `daemon = ...` /
    /// `setDaemon()`.
    ///
    /// # Errors
    ///
    /// [`Error::DaemonAfterStart`] once the thread was started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| {});
    /// t.set_daemon(true)?;
    /// t.start()?;
    /// assert!(t.set_daemon(false).is_err());
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), Error> {
        let st = lock(&self.inner.state);
        if st.life != Life::Initial {
            return Err(Error::DaemonAfterStart);
        }
        self.inner.daemon.store(daemon, Ordering::Relaxed);
        Ok(())
    }

    /// Asks the thread to stop, cooperatively: the request is sticky,
    /// [`stop_requested`](super::stop_requested) reads it inside the thread, and it
    /// wakes the thread's threadkit waits (timed waits return `false`/`None`, see the
    /// module docs). Nothing is killed.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{stop_requested, Event, Thread};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::new(|| {
    ///     let never = Event::new();
    ///     while !stop_requested() {
    ///         never.wait_timeout(Duration::from_secs(3600)); // woken by stop()
    ///     }
    /// });
    /// t.start()?;
    /// t.stop();
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop(&self) {
        self.parker().request_stop();
        if self.inner.timer.is_some() {
            timer::stop(self);
        }
    }

    /// The [`Run`] value the thread ran, once it has ended: `None` while it runs, for
    /// a closure thread, for another type, or when taken already.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Run, Thread};
    ///
    /// struct Answer(u32);
    /// impl Run for Answer {
    ///     fn run(&mut self) { self.0 = 42; }
    /// }
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Thread::from_run(Answer(0));
    /// t.start()?;
    /// t.join()?;
    /// assert_eq!(t.take_run::<Answer>().map(|a| a.0), Some(42));
    /// assert!(t.take_run::<Answer>().is_none()); // taken already
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_run<T: Run>(&self) -> Option<T> {
        let mut st = lock(&self.inner.state);
        if st.life != Life::Finished {
            return None;
        }
        let Body::Returned(any) = std::mem::replace(&mut st.body, Body::Nothing) else {
            return None;
        };
        match any.downcast::<T>() {
            Ok(v) => Some(*v),
            Err(other) => {
                st.body = Body::Returned(other);
                None
            }
        }
    }
}

/// The name the OS sees: NULs removed, cut to Linux's 15 bytes at a char boundary.
fn os_name(name: &str) -> String {
    let clean: String = name.chars().filter(|&c| c != '\0').collect();
    let mut end = clean.len().min(15);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].to_string()
}

impl PartialEq for Thread {
    fn eq(&self, other: &Thread) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Thread {}

impl Hash for Thread {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.inner) as usize).hash(state);
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("name", &self.name())
            .field("ident", &self.ident())
            .field("native_id", &self.native_id())
            .field("daemon", &self.is_daemon())
            .field("alive", &self.is_alive())
            .finish()
    }
}

/// Builds a [`Thread`] with a name, daemon flag, stack size and body of its own.
/// Python: `Thread(target=..., name=..., daemon=...)`.
///
/// Arguments (Python's `args` and `kwargs`) are whatever the closure captures.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Thread;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let who = String::from("world");
/// let t = Thread::builder()
///     .name("greeter")
///     .daemon(false)
///     .stack_size(256 * 1024)
///     .target(move || println!("hello, {who}"))
///     .spawn()?;
/// t.join()?;
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until build() or spawn()"]
pub struct ThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: usize,
    body: Option<Body>,
    internal: bool,
    timer: Option<TimerFields>,
}

impl ThreadBuilder {
    /// The thread's name (default: `Thread-N`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::builder().name("poller").build();
    /// assert_eq!(t.name(), "poller");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The daemon flag (default: that of the creating thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// assert!(!Thread::builder().daemon(false).build().is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The stack size in bytes for this thread: 0 (the default) takes
    /// [`stack_size()`](super::stack_size) at start; otherwise at least 32 KiB, or
    /// `start()` fails with [`Error::InvalidStackSize`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, Thread};
    ///
    /// # fn main() -> Result<(), Error> {
    /// let t = Thread::builder().stack_size(64 * 1024).target(|| {}).spawn()?;
    /// t.join()?;
    /// let tiny = Thread::builder().stack_size(1024).target(|| {}).build();
    /// assert!(matches!(tiny.start(), Err(Error::InvalidStackSize)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = size;
        self
    }

    /// The closure the thread runs (replaces a `runnable`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Thread::builder().target(move || tx.send(6 * 7).unwrap()).spawn()?.join()?;
    /// assert_eq!(rx.recv().unwrap(), 42);
    /// # Ok(())
    /// # }
    /// ```
    pub fn target<F>(mut self, f: F) -> Self
    where
        F: FnOnce() + Send + 'static,
    {
        self.body = Some(Body::Target(Box::new(f)));
        self
    }

    /// The [`Run`] value the thread runs (replaces a `target`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Run, Thread};
    ///
    /// struct Job;
    /// impl Run for Job {
    ///     fn run(&mut self) {}
    /// }
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// Thread::builder().name("job").runnable(Job).spawn()?.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn runnable<R: Run>(mut self, value: R) -> Self {
        self.body = Some(Body::Runnable(Box::new(value)));
        self
    }

    /// The unstarted thread. Without a target it runs nothing, as Python's
    /// `Thread()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::builder().name("later").target(|| {}).build();
    /// assert!(!t.is_alive());
    /// assert_eq!(t.ident(), None);
    /// ```
    pub fn build(self) -> Thread {
        let name = match self.name {
            Some(name) => Name::Given(name.into()),
            None => Name::Default(registry::next_name_number()),
        };
        let daemon = self.internal || self.daemon.unwrap_or_else(registry::current_is_daemon);
        let mut t = Thread::from_parts(name, daemon, Kind::Normal, None);
        let inner = Arc::get_mut(&mut t.inner).expect("not shared yet");
        inner.internal = self.internal;
        inner.timer = self.timer;
        inner.stack_size = u32::try_from(self.stack_size).unwrap_or(u32::MAX);
        inner
            .state
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .body = self.body.unwrap_or(Body::Nothing);
        t
    }

    /// Marks the thread as one of threadkit's own: daemon, not listed by
    /// `enumerate()`, marked in `dump_all()`.
    pub(crate) fn internal(mut self) -> Self {
        self.internal = true;
        self
    }

    /// Makes the thread a `Timer`'s: `start()` schedules `f` on the timer service
    /// instead of spawning an OS thread.
    pub(crate) fn timer(mut self, interval: Duration, f: TimerFn) -> Self {
        let repeat = matches!(f, TimerFn::Repeat(_));
        self.body = Some(match f {
            TimerFn::Once(f) => Body::Target(f),
            TimerFn::Repeat(f) => Body::Repeat(f),
        });
        self.timer = Some(TimerFields {
            interval: u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX),
            state: AtomicU8::new(timer::IDLE),
            repeat,
        });
        self
    }

    /// Builds and starts the thread.
    ///
    /// # Errors
    ///
    /// As [`Thread::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{enumerate, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let t = Thread::builder().target(move || { let _ = rx.recv(); }).spawn()?;
    /// assert!(enumerate().contains(&t)); // started: listed already
    /// drop(tx);
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn(self) -> Result<Thread, Error> {
        let t = self.build();
        t.start()?;
        Ok(t)
    }
}

impl fmt::Debug for ThreadBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadBuilder")
            .field("name", &self.name)
            .field("daemon", &self.daemon)
            .field("stack_size", &self.stack_size)
            .field("has_body", &self.body.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::os_name;

    #[test]
    fn os_name_cuts_at_char_boundary() {
        assert_eq!(os_name("short"), "short");
        assert_eq!(os_name("0123456789abcdefgh"), "0123456789abcde");
        // 'é' is 2 bytes: 14 ASCII + 'é' would end at byte 16, so it is dropped.
        assert_eq!(os_name("01234567890123é"), "01234567890123");
        assert_eq!(os_name("a\0b"), "ab");
    }
}
#[cfg(test)]
mod size {
    /// A pending timer is one of these records (plus a 24-byte heap entry and its
    /// registry slot): `benches/timer_scale.rs` holds a million under 256 bytes each.
    #[test]
    fn a_thread_record_stays_within_128_bytes() {
        assert!(std::mem::size_of::<super::Inner>() <= 128);
    }
}

// `Thread` and `ThreadBuilder` cross threads (a handle is joined from anywhere).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Thread>();
    const fn send<T: Send>() {}
    send::<ThreadBuilder>();
};
