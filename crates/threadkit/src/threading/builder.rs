//! [`ThreadBuilder`], and the constructors of [`Thread`] that go through it.

use std::fmt;
use std::sync::Arc;

use super::error::Error;
use super::registry;
use super::thread::{Body, Kind, Run, RunValue, Target, Thread, TimerKind};

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
    #[must_use = "a thread does nothing until start()"]
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
    #[must_use = "a thread does nothing until start()"]
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
    body: Option<Box<dyn Body>>,
    internal: bool,
    /// A timer's kind and interval in nanoseconds (`timer.rs`).
    timer: Option<(TimerKind, u64)>,
}

impl ThreadBuilder {
    /// The thread's name (default, and for an empty name: `Thread-N`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Thread;
    ///
    /// let t = Thread::builder().name("poller").build();
    /// assert_eq!(t.name(), "poller");
    /// assert!(Thread::builder().name("").build().name().starts_with("Thread-"));
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
        self.body = Some(Box::new(Target(f)));
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
        self.body = Some(Box::new(RunValue(value)));
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
    #[must_use = "a thread does nothing until start()"]
    pub fn build(self) -> Thread {
        // An empty name is no name, as CPython's `name or _newname()`.
        let name = self
            .name
            .filter(|name| !name.is_empty())
            .map(String::into_boxed_str);
        let daemon = self.internal || self.daemon.unwrap_or_else(registry::current_is_daemon);
        let mut t = Thread::from_parts(name, daemon, Kind::Normal, None, self.stack_size);
        let inner = Arc::get_mut(&mut t.inner).expect("not shared yet");
        inner.internal = self.internal;
        if let Some((kind, interval)) = self.timer {
            inner.timer = kind;
            inner.timer_interval = interval;
        }
        inner
            .state
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .body = self.body;
        t
    }

    /// Marks the thread as one of threadkit's own: daemon, not listed by
    /// `enumerate()`, marked in `dump_all()`.
    pub(crate) fn internal(mut self) -> Self {
        self.internal = true;
        self
    }

    /// Makes the thread a `Timer`'s, of `kind` and `interval` nanoseconds:
    /// `start()` schedules `f` on the timer service instead of spawning an OS thread.
    pub(crate) fn timer(mut self, kind: TimerKind, interval: u64, f: Box<dyn Body>) -> Self {
        self.body = Some(f);
        self.timer = Some((kind, interval));
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

// A builder crosses threads.
const _: () = {
    const fn send<T: Send>() {}
    send::<ThreadBuilder>();
};
