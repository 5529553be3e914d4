//! Trace, profile and except hooks: Python's `settrace`, `setprofile` and
//! `threading.excepthook`.
//!
//! At a thread's end the order is: trace [`TraceEvent::Panic`] (if it panicked),
//! the excepthook, trace [`TraceEvent::End`], the profile event; then
//! `is_alive()` turns false and `join` returns.
//!
//! threadkit chains a panic hook that stays silent while a threadkit thread runs its
//! body, so an uncaught panic there prints only what the excepthook prints
//! (`Exception in thread NAME:`, `panicked at FILE:LINE:COL:`, the message and the
//! backtrace when `RUST_BACKTRACE` asks for one), not std's panic message too. A panic
//! hook installed before threadkit's still runs for every other thread.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once, RwLock};
use std::time::{Duration, Instant};

use super::thread::Thread;
use crate::sys;

/// A point in a thread's life, passed to the trace hook.
///
/// # Examples
///
/// ```
/// use threadkit::threading::TraceEvent;
///
/// assert_ne!(TraceEvent::Start, TraceEvent::End);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceEvent {
    /// The thread is about to run its body (on its own OS thread).
    Start,
    /// The body panicked (before the excepthook runs).
    Panic,
    /// The body is over (after the excepthook, if it panicked).
    End,
}

/// What the profile hook learns when a thread's body is over.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Profile;
/// use std::time::Duration;
///
/// let p = Profile { wall: Duration::from_millis(3), cpu: Duration::from_millis(1) };
/// assert!(p.cpu <= p.wall);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Wall-clock time the body ran.
    pub wall: Duration,
    /// CPU time the body's OS thread used meanwhile.
    pub cpu: Duration,
}

/// What the excepthook receives: the thread whose body panicked and the panic's
/// message, where it panicked and, when one was captured, the backtrace. Python:
/// `threading.ExceptHookArgs`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{current_thread, ExceptHookArgs};
///
/// let args = ExceptHookArgs {
///     thread: current_thread(),
///     message: "boom".into(),
///     location: Some("src/main.rs:3:5".into()),
///     backtrace: None,
/// };
/// assert!(format!("{args:?}").contains("boom"));
/// ```
#[derive(Debug, Clone)]
pub struct ExceptHookArgs {
    /// The thread that panicked.
    pub thread: Thread,
    /// The panic payload as text (`&str` and `String` payloads; otherwise
    /// `Box<dyn Any>`).
    pub message: String,
    /// Where the panic happened, as `file:line:col` (`None` if the panic hook did not
    /// see it: another hook replaced threadkit's).
    pub location: Option<String>,
    /// The backtrace, captured as std captures one (`RUST_LIB_BACKTRACE`, else
    /// `RUST_BACKTRACE`, asks for it); `None` when none was asked for.
    pub backtrace: Option<String>,
}

type TraceHook = Arc<dyn Fn(&Thread, TraceEvent) + Send + Sync>;
type ProfileHook = Arc<dyn Fn(&Thread, &Profile) + Send + Sync>;
type ExceptHook = Arc<dyn Fn(&ExceptHookArgs) + Send + Sync>;

static TRACE: RwLock<Option<TraceHook>> = RwLock::new(None);
static PROFILE: RwLock<Option<ProfileHook>> = RwLock::new(None);
static EXCEPTHOOK: RwLock<Option<ExceptHook>> = RwLock::new(None);

fn read<T: Clone>(slot: &RwLock<Option<T>>) -> Option<T> {
    slot.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn write<T>(slot: &RwLock<Option<T>>, value: Option<T>) {
    *slot.write().unwrap_or_else(|e| e.into_inner()) = value;
}

/// Sets the trace hook for every threadkit thread started afterwards (a thread reads
/// it when it begins to run). Python: `threading.settrace(func)`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{clear_trace, settrace, Thread, TraceEvent};
/// use std::sync::{Arc, Mutex};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// settrace(move |t, ev| {
///     if t.name() == "traced" { s.lock().unwrap().push(ev) }
/// });
/// Thread::builder().name("traced").target(|| {}).spawn()?.join()?;
/// clear_trace();
/// assert_eq!(*seen.lock().unwrap(), [TraceEvent::Start, TraceEvent::End]);
/// # Ok(())
/// # }
/// ```
pub fn settrace(f: impl Fn(&Thread, TraceEvent) + Send + Sync + 'static) {
    write(&TRACE, Some(Arc::new(f)));
}

/// Removes the trace hook for threads started afterwards. Python: `settrace(None)`.
///
/// # Examples
///
/// ```
/// threadkit::threading::clear_trace();
/// ```
pub fn clear_trace() {
    write(&TRACE, None);
}

/// Sets the profile hook for every threadkit thread started afterwards: it is called
/// once, when the body is over, with the body's wall and CPU time. Python:
/// `threading.setprofile(func)`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{clear_profile, setprofile, Thread};
/// use std::sync::mpsc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let (tx, rx) = mpsc::channel();
/// let tx = std::sync::Mutex::new(tx);
/// setprofile(move |t, p| {
///     if t.name() == "profiled" { tx.lock().unwrap().send(*p).unwrap() }
/// });
/// Thread::builder().name("profiled").target(|| {}).spawn()?.join()?;
/// clear_profile();
/// let p = rx.recv().unwrap();
/// assert!(p.cpu <= p.wall + std::time::Duration::from_millis(10));
/// # Ok(())
/// # }
/// ```
pub fn setprofile(f: impl Fn(&Thread, &Profile) + Send + Sync + 'static) {
    write(&PROFILE, Some(Arc::new(f)));
}

/// Removes the profile hook for threads started afterwards. Python:
/// `setprofile(None)`.
///
/// # Examples
///
/// ```
/// threadkit::threading::clear_profile();
/// ```
pub fn clear_profile() {
    write(&PROFILE, None);
}

/// Replaces the excepthook: what runs, on the panicking thread, when a threadkit
/// thread's body panics. Python: `threading.excepthook = f`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{restore_excepthook, set_excepthook, Thread};
/// use std::sync::mpsc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let (tx, rx) = mpsc::channel();
/// let tx = std::sync::Mutex::new(tx);
/// set_excepthook(move |args| {
///     tx.lock().unwrap().send(args.message.clone()).unwrap();
/// });
/// let t = Thread::new(|| panic!("boom"));
/// t.start()?;
/// t.join()?; // the hook ran before join returned
/// restore_excepthook();
/// assert_eq!(rx.try_recv().unwrap(), "boom");
/// # Ok(())
/// # }
/// ```
pub fn set_excepthook(f: impl Fn(&ExceptHookArgs) + Send + Sync + 'static) {
    write(&EXCEPTHOOK, Some(Arc::new(f)));
}

/// Puts back the default excepthook, which writes `Exception in thread NAME:` and the
/// message to stderr. Python: `threading.excepthook = threading.__excepthook__`.
///
/// # Examples
///
/// ```
/// threadkit::threading::restore_excepthook();
/// ```
pub fn restore_excepthook() {
    write(&EXCEPTHOOK, None);
}

/// Prints what std's hook and CPython's excepthook show: the thread, where it
/// panicked, the message, and the backtrace when one was captured.
fn default_excepthook(args: &ExceptHookArgs) {
    let mut text = format!("Exception in thread {}:\n", args.thread.name());
    if let Some(location) = &args.location {
        text.push_str(&format!("panicked at {location}:\n"));
    }
    text.push_str(&args.message);
    text.push('\n');
    if let Some(backtrace) = &args.backtrace {
        text.push_str("stack backtrace:\n");
        text.push_str(backtrace);
        if !backtrace.ends_with('\n') {
            text.push('\n');
        }
    }
    // One write, so the report is not interleaved with other threads' output.
    eprint!("{text}");
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

thread_local! {
    /// True while this OS thread runs a threadkit thread's body: the panic hook is
    /// silent then (the excepthook reports instead).
    static IN_BODY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Where the body's panic happened and its backtrace, left by the panic hook for
    /// `run_body`.
    static PANIC_SITE: std::cell::RefCell<Option<PanicSite>> = const { std::cell::RefCell::new(None) };
}

/// What the panic hook saw of a body's panic.
struct PanicSite {
    location: Option<String>,
    backtrace: Option<String>,
}

/// Installs, once, the panic hook that defers to the excepthook inside bodies and to
/// the previous hook everywhere else.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_BODY.try_with(|b| b.get()).unwrap_or(false) {
                previous(info);
                return;
            }
            let backtrace = Backtrace::capture();
            let site = PanicSite {
                location: info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
                backtrace: (backtrace.status() == BacktraceStatus::Captured)
                    .then(|| backtrace.to_string()),
            };
            let _ = PANIC_SITE.try_with(|s| *s.borrow_mut() = Some(site));
        }));
    });
}

/// Runs a thread's body with the hooks around it, in the documented order; returns
/// whether it panicked.
pub(crate) fn run_body(thread: &Thread, body: impl FnOnce()) -> bool {
    let trace = read(&TRACE);
    let profile = read(&PROFILE);
    if let Some(trace) = &trace {
        call_quietly(|| trace(thread, TraceEvent::Start));
    }
    // Clocks only when a profile hook wants them: the CPU clock is a system call.
    let started = profile
        .as_ref()
        .map(|_| (Instant::now(), sys::thread_cpu_time()));

    PANIC_SITE.with(|s| s.borrow_mut().take());
    let was_in_body = IN_BODY.replace(true);
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    IN_BODY.set(was_in_body);

    let profiled = started.map(|(wall, cpu)| Profile {
        wall: wall.elapsed(),
        cpu: sys::thread_cpu_time().saturating_sub(cpu),
    });
    let panicked = outcome.is_err();
    if let Err(payload) = outcome {
        if let Some(trace) = &trace {
            call_quietly(|| trace(thread, TraceEvent::Panic));
        }
        report(thread, payload);
    }
    if let Some(trace) = &trace {
        call_quietly(|| trace(thread, TraceEvent::End));
    }
    if let (Some(profile), Some(profiled)) = (&profile, &profiled) {
        call_quietly(|| profile(thread, profiled));
    }
    panicked
}

/// Hands a panic `payload` from `thread` to the excepthook (or the default one).
fn report(thread: &Thread, payload: Box<dyn Any + Send>) {
    let site = PANIC_SITE.with(|s| s.borrow_mut().take());
    let (location, backtrace) = site.map_or((None, None), |s| (s.location, s.backtrace));
    let args = ExceptHookArgs {
        thread: thread.clone(),
        message: panic_message(payload.as_ref()),
        location,
        backtrace,
    };
    let hook = read(&EXCEPTHOOK);
    call_quietly(|| match &hook {
        Some(hook) => hook(&args),
        None => default_excepthook(&args),
    });
    // The payload's own Drop could panic: drop it where that cannot escape.
    call_quietly(move || drop(payload));
}

/// Runs `f`, user code that is not a thread body (a Future's done-callback), and
/// reports its panic to the excepthook with `current_thread()`, printed once: the
/// panic hook stays silent meanwhile, as for a thread body.
pub(crate) fn call_reporting(f: impl FnOnce()) {
    install_panic_hook();
    PANIC_SITE.with(|s| s.borrow_mut().take());
    let was_in_body = IN_BODY.replace(true);
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    IN_BODY.set(was_in_body);
    if let Err(payload) = outcome {
        report(&super::registry::current_thread(), payload);
    }
}

/// Runs a hook; a panic inside it is reported to stderr and goes no further (as
/// CPython reports an exception raised by `excepthook` itself).
fn call_quietly(f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        eprintln!(
            "threadkit: a thread hook panicked: {}",
            panic_message(payload.as_ref())
        );
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceEvent::Start => "start",
            TraceEvent::Panic => "panic",
            TraceEvent::End => "end",
        })
    }
}
