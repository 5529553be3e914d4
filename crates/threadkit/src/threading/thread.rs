//! [`Thread`] and [`Run`]: Python's `threading.Thread`, its record and what reads it.
//! The constructors and [`ThreadBuilder`](super::ThreadBuilder) are in `builder.rs`,
//! `start()` in `start.rs`, running the body as the thread in `run.rs`, `stop()` in
//! `stop.rs`.
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
use std::sync::{Arc, Mutex};

use once_cell::race::OnceBox;
use std::time::{Duration, Instant};

use super::clock;
use super::error::Error;
use super::timeout;
use crate::sync::{self, lock, Parker, Waiter, Wake};

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

/// What a thread runs, boxed as one thin trait object (16 bytes in the record,
/// where an enum of boxed closures took 24): a thread's target, a `Run` value, or a
/// timer's function.
pub(crate) trait Body: Send + Any {
    /// Runs it once; what the record keeps afterwards goes to `keep`: a `Run` value
    /// to hand back (kept even if `run` panics, as Python keeps `self`), a repeating
    /// timer's function for its next call (not after a panic, which ends it).
    fn call(self: Box<Self>, keep: &mut Option<Box<dyn Body>>);
}

/// A closure run once: a thread's target or a one-shot timer's function.
pub(crate) struct Target<F>(pub(crate) F);

impl<F: FnOnce() + Send + 'static> Body for Target<F> {
    fn call(self: Box<Self>, _keep: &mut Option<Box<dyn Body>>) {
        (self.0)();
    }
}

/// A repeating timer's function.
pub(crate) struct Repeat<F>(pub(crate) F);

impl<F: FnMut() + Send + 'static> Body for Repeat<F> {
    fn call(mut self: Box<Self>, keep: &mut Option<Box<dyn Body>>) {
        (self.0)();
        *keep = Some(self);
    }
}

/// A `Run` value, handed back by `take_run` after the thread ended.
pub(crate) struct RunValue<R>(pub(crate) R);

impl<R: Run> Body for RunValue<R> {
    fn call(self: Box<Self>, keep: &mut Option<Box<dyn Body>>) {
        // Puts the value into `keep` however `run` ends.
        struct GiveBack<'a, R: Run>(Option<Box<RunValue<R>>>, &'a mut Option<Box<dyn Body>>);
        impl<R: Run> Drop for GiveBack<'_, R> {
            fn drop(&mut self) {
                *self.1 = self.0.take().map(|v| v as Box<dyn Body>);
            }
        }
        let mut guard = GiveBack(Some(self), keep);
        if let Some(value) = guard.0.as_mut() {
            value.0.run();
        }
    }
}

/// Whether a thread is a `Timer`'s (see `timer.rs`), and which kind: a `Timer` is
/// a thread that no OS thread runs while it waits. Its own fields (`timer_*`) sit
/// in the record itself, so a pending timer is one allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerKind {
    /// Not a timer.
    None,
    /// `Timer::new`: one call.
    Once,
    /// `Timer::repeat`: calls again every interval until cancelled.
    Repeat,
}

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
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
/// field, keeps the record small: a pending timer is one of these). `Inner::life`
/// and `Inner::started_at` also change only under this lock.
pub(super) struct State {
    /// Taken by the thread when it runs; the `Run` value comes back here.
    pub(super) body: Option<Box<dyn Body>>,
}

/// What a thread needs only once it runs, waits, is joined, stopped or renamed, or
/// keeps `Local` values (and a stack size asked for at build): made on first use,
/// so a pending timer does not pay for it.
struct Ext {
    /// Every threadkit wait of this thread parks here; `stop()` unparks it.
    parker: Arc<Parker>,
    /// Threads in `join`, notified when `life` becomes `Finished`. Locked inside
    /// `state`'s lock, never the other way round.
    joiners: Mutex<Vec<Arc<Waiter>>>,
    /// Threads in `native_id()` while the OS thread is being created, notified when
    /// it runs (or the start failed). Locked inside `state`'s lock.
    starters: Mutex<Vec<Arc<Waiter>>>,
    /// This thread's `Local` values; dropped at its end (or each timer call's).
    locals: Mutex<LocalMap>,
    /// The OS thread, for the first `join()` to reap: std's join waits for
    /// the OS thread to exit, so its stack goes back to the allocator's cache
    /// before the next thread is made (with detached threads still exiting,
    /// each new one mapped a fresh stack, 2-4x slower on a busy machine).
    os: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The name it was given (by the builder or `set_name`); `None`: `Thread-N`.
    name: Mutex<Option<Box<str>>>,
    /// The kernel's tid of the OS thread running it, 0 while none does (a thread
    /// that runs has its `ext`: running as it takes its parker).
    native_id: AtomicU64,
    /// Stack size asked for by the builder, in bytes; 0 takes `stack_size()` at
    /// start.
    stack_size: usize,
}

impl Ext {
    fn new(parker: Arc<Parker>) -> Box<Ext> {
        Box::new(Ext {
            native_id: AtomicU64::new(0),
            stack_size: 0,
            parker,
            joiners: Mutex::new(Vec::new()),
            starters: Mutex::new(Vec::new()),
            locals: Mutex::new(LocalMap::default()),
            os: Mutex::new(None),
            name: Mutex::new(None),
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

/// One thread's record, shared by every `Thread` handle to it.
///
/// Its size is what a pending timer costs, so it stays small (72 bytes, 96 with
/// the `Arc`'s counts and the allocator's header): what changes is under one lock,
/// the small fields pack into one word, and what few threads need (a given name, a
/// stack size, a parker, joiners, `Local`s, the OS thread's tid) is in `ext`, made
/// on first use.
pub(crate) struct Inner {
    /// threadkit's own number, 0 until started (or registered).
    pub(super) ident: AtomicU64,
    /// The number of its default name `Thread-N`, drawn when it was made (0 for a
    /// thread made with a name); a given name is in `ext`.
    pub(super) name_number: u64,
    /// Where it is in its life (a `Life`): written only under `state`'s lock, so
    /// readers under that lock see it consistent with the rest; read without it.
    pub(super) life: AtomicU8,
    /// When it was started (or registered), in nanoseconds since `clock::epoch`
    /// (0: not started; 8 bytes where an `Option<Instant>` takes 16):
    /// `ThreadInfo::age`, a timer's slots (read on every start and call, hence not
    /// behind the lock). Written only under `state`'s lock, with `life`.
    pub(super) started_at: AtomicU64,
    pub(super) daemon: AtomicBool,
    pub(super) panicked: AtomicBool,
    pub(crate) kind: Kind,
    /// threadkit's own threads (timer service and pool, server loops): left out of
    /// `enumerate()`, marked in `dump_all()`.
    pub(crate) internal: bool,
    pub(super) state: Mutex<State>,
    /// Set for a `Timer`'s thread: started and stopped by `timer.rs`, not an OS thread.
    pub(crate) timer: TimerKind,
    /// A timer's state (`timer.rs`: IDLE, SCHEDULED, RUNNING, ...).
    pub(crate) timer_state: AtomicU8,
    /// A timer's interval, in nanoseconds.
    pub(crate) timer_interval: u64,
    /// Made on first use (a race to make it drops the loser's, which nobody saw).
    ext: OnceBox<Ext>,
}

impl Inner {
    fn ext(&self) -> &Ext {
        self.ext.get_or_init(|| Ext::new(Arc::new(Parker::new())))
    }

    /// Keeps the OS thread's handle for `join()` to reap.
    pub(super) fn keep_os_thread(&self, os: std::thread::JoinHandle<()>) {
        *lock(&self.ext().os) = Some(os);
    }

    /// Sets `started_at`; the caller holds `state`'s lock.
    pub(super) fn set_started_at(&self, nanos: u64) {
        self.started_at.store(nanos, Ordering::Release);
    }

    /// Sets `life`; the caller holds `state`'s lock.
    pub(super) fn set_life(&self, life: Life) {
        self.life.store(life as u8, Ordering::Release);
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
    /// A new record: named `name`, or `Thread-N` (a number drawn now) for `None`;
    /// `stack_size` as the builder's (0: the default).
    pub(super) fn from_parts(
        name: Option<Box<str>>,
        daemon: bool,
        kind: Kind,
        parker: Option<Arc<Parker>>,
        stack_size: usize,
    ) -> Thread {
        let name_number = match name {
            Some(_) => 0,
            None => super::registry::next_name_number(),
        };
        // A given name or stack size lives in `ext`, so it is made now.
        let ext = if parker.is_some() || name.is_some() || stack_size != 0 {
            let mut ext = Ext::new(parker.unwrap_or_else(|| Arc::new(Parker::new())));
            ext.stack_size = stack_size;
            ext.name = Mutex::new(name);
            OnceBox::with_value(ext)
        } else {
            OnceBox::new()
        };
        Thread {
            inner: Arc::new(Inner {
                ident: AtomicU64::new(0),
                name_number,
                life: AtomicU8::new(Life::Initial as u8),
                daemon: AtomicBool::new(daemon),
                panicked: AtomicBool::new(false),
                kind,
                internal: false,
                started_at: AtomicU64::new(0),
                state: Mutex::new(State { body: None }),
                timer: TimerKind::None,
                timer_state: AtomicU8::new(0),
                timer_interval: 0,
                ext,
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
        let t = Thread::from_parts(Some(name.into()), kind != Kind::Main, kind, Some(parker), 0);
        t.inner.ident.store(ident, Ordering::Relaxed);
        t.inner.ext().native_id.store(native_id, Ordering::Relaxed);
        {
            let _st = lock(&t.inner.state);
            t.inner.set_life(Life::Running);
            t.inner.set_started_at(clock::now_nanos());
        }
        t
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

    /// Marks the main thread finished without unlisting it (the exit rule runs):
    /// `main_thread().is_alive()` turns false, as in CPython.
    pub(crate) fn mark_exiting(&self) {
        self.mark_finished();
    }

    /// `life = Finished`, and every joiner woken (outside the locks).
    pub(crate) fn mark_finished(&self) {
        drop(self.mark_finished_taking_body(false));
    }

    /// `mark_finished`, and (when `take`) the body taken out under the same lock,
    /// for the caller to drop outside it: a cancelled timer ends so with one lock.
    pub(crate) fn mark_finished_taking_body(&self, take: bool) -> Option<Box<dyn Body>> {
        let (body, joiners) = {
            let mut st = lock(&self.inner.state);
            self.inner.set_life(Life::Finished);
            let body = if take { st.body.take() } else { None };
            let joiners = self
                .inner
                .ext
                .get()
                .map(|ext| std::mem::take(&mut *lock(&ext.joiners)));
            (body, joiners)
        };
        for w in joiners.into_iter().flatten() {
            w.notify();
        }
        body
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
            let _st = lock(&self.inner.state);
            if self.life() == Life::Finished {
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
        let _st = lock(&self.inner.state);
        lock(joiners).retain(|w| !Arc::ptr_eq(w, &waiter));
        self.life() == Life::Finished
    }

    fn check_joinable(&self) -> Result<(), Error> {
        if self.life() == Life::Initial {
            return Err(Error::NotStarted);
        }
        if self.inner.ident.load(Ordering::Relaxed) == sync::current_ident() {
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
        // The first joiner waits for the OS thread's exit itself, as std's
        // `join` does (one sleep, and the stack is free for the next thread);
        // the others, and threads without one, wait for the body's end.
        let os = lock(&self.inner.ext().os).take();
        match os {
            Some(os) => {
                let _record = self
                    .ident()
                    .map(|id| super::wait::begin_join(id, self.name(), None));
                let _ = os.join();
            }
            None => {
                self.wait_finished(sync::current_parker(), None, false);
            }
        }
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
        Ok(self.wait_finished(sync::current_parker(), timeout::deadline(timeout), true))
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
        if let Some(ext) = self.inner.ext.get() {
            if let Some(given) = lock(&ext.name).as_deref() {
                return given.to_string();
            }
        }
        format!("Thread-{}", self.inner.name_number)
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
        *lock(&self.inner.ext().name) = Some(name.into().into());
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

    /// The kernel's id of the OS thread running it. Python: `native_id`.
    ///
    /// As in CPython, it is `Some` as soon as [`start`](Self::start) has returned:
    /// called while the new OS thread is still being created, it waits until that
    /// thread runs. It is `None` before `start()`, and for a [`Timer`](super::Timer)'s
    /// thread while no OS thread runs its function. It stays set once the thread has
    /// ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{current_thread, get_native_id, Thread};
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// assert_eq!(current_thread().native_id(), Some(get_native_id()));
    /// let t = Thread::new(|| {});
    /// assert_eq!(t.native_id(), None);
    /// t.start()?;
    /// assert!(t.native_id().is_some());
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        if let Some(id) = self.native_id_now() {
            return Some(id);
        }
        if self.inner.timer != TimerKind::None {
            return None;
        }
        let waiter = Waiter::with_parker(sync::current_parker());
        {
            // `starters` inside `state`: a failed start resets `life` and takes them
            // in that order; `set_native_id` stores the id before taking them.
            let _st = lock(&self.inner.state);
            let starters = &self.inner.ext().starters;
            let mut starters = lock(starters);
            if self.life() != Life::Running || self.native_id_now().is_some() {
                return self.native_id_now();
            }
            starters.push(Arc::clone(&waiter));
        }
        waiter.wait(None, false);
        self.native_id_now()
    }

    /// The kernel's id as it is now, without waiting for a starting thread (the exit
    /// hook, `Debug`).
    pub(crate) fn native_id_now(&self) -> Option<u64> {
        let ext = self.inner.ext.get()?;
        match ext.native_id.load(Ordering::Acquire) {
            0 => None,
            n => Some(n),
        }
    }

    /// Wakes the threads waiting in `native_id()` (the id is set, or the start
    /// failed).
    pub(crate) fn wake_starters(&self) {
        let starters = std::mem::take(&mut *lock(&self.inner.ext().starters));
        for w in starters {
            w.notify();
        }
    }

    /// The parker every threadkit wait of this thread parks on.
    pub(crate) fn parker(&self) -> &Arc<Parker> {
        &self.inner.ext().parker
    }

    /// Takes the body out of the record (to run it, or to drop a cancelled
    /// timer's function).
    pub(crate) fn take_body(&self) -> Option<Box<dyn Body>> {
        lock(&self.inner.state).body.take()
    }

    /// Puts back what a call of the body kept (`Body::call`).
    pub(crate) fn put_back_body(&self, body: Box<dyn Body>) {
        lock(&self.inner.state).body = Some(body);
    }

    /// Stops an OS thread's tid being this thread's (a timer's call ended).
    pub(crate) fn clear_native_id(&self) {
        if let Some(ext) = self.inner.ext.get() {
            ext.native_id.store(0, Ordering::Relaxed);
        }
    }

    /// The stack size the builder asked for (0: the default).
    pub(crate) fn stack_size_asked(&self) -> usize {
        self.inner.ext.get().map_or(0, |ext| ext.stack_size)
    }

    /// Records the tid of the OS thread now running this thread, and wakes the
    /// threads waiting for it in `native_id()`.
    pub(crate) fn set_native_id(&self, tid: u64) {
        // Release: pairs with the Acquire loads in `native_id`.
        self.inner.ext().native_id.store(tid, Ordering::Release);
        self.wake_starters();
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
        match self.inner.life.load(Ordering::Acquire) {
            0 => Life::Initial,
            1 => Life::Pending,
            2 => Life::Running,
            _ => Life::Finished,
        }
    }

    pub(crate) fn started_at(&self) -> Option<Instant> {
        match self.started_nanos() {
            0 => None,
            n => Some(clock::instant_of(n)),
        }
    }

    /// When it was started, in nanoseconds since `clock::epoch` (0: not started).
    pub(crate) fn started_nanos(&self) -> u64 {
        self.inner.started_at.load(Ordering::Acquire)
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
        let _st = lock(&self.inner.state);
        if self.life() != Life::Initial {
            return Err(Error::DaemonAfterStart);
        }
        self.inner.daemon.store(daemon, Ordering::Relaxed);
        Ok(())
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
        if self.life() != Life::Finished {
            return None;
        }
        let is_t = st
            .body
            .as_deref()
            .is_some_and(|b| (b as &dyn Any).is::<RunValue<T>>());
        if !is_t {
            return None;
        }
        let any: Box<dyn Any> = st.body.take()?;
        any.downcast::<RunValue<T>>().ok().map(|v| v.0)
    }
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
            .field("native_id", &self.native_id_now())
            .field("daemon", &self.is_daemon())
            .field("alive", &self.is_alive())
            .finish()
    }
}

// `Thread` crosses threads (a handle is joined from anywhere).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Thread>();
};

#[cfg(test)]
mod size {
    /// A pending timer is one of these records (plus a 16-byte heap entry):
    /// 72 bytes is a 96-byte allocation with the `Arc`'s counts and glibc's header;
    /// one field more and it is 112.
    #[test]
    fn a_thread_record_stays_within_72_bytes() {
        assert!(std::mem::size_of::<super::Inner>() <= 72);
    }
}
