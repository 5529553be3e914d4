//! [`Timer`]: Python's `threading.Timer`, plus a repeating timer, on one timer
//! service.
//!
//! A `Timer` is a [`Thread`]: it is what `enumerate()` lists while the timer is
//! pending or running and what `current_thread()` returns inside its function. Unlike
//! CPython, where every `Timer` is an OS thread sleeping on an `Event`, a pending
//! threadkit timer holds no OS thread: the timer service (one internal thread) keeps
//! every pending timer in a heap ordered by due instant, and when one is due its
//! function runs on a thread taken from a small cache of idle internal threads, *as*
//! the timer's `Thread`. A slow or blocking function therefore never delays another
//! timer.
//!
//! State machine of one timer (an atomic byte; every transition is a CAS, so
//! `cancel()` and the service never both win):
//!
//! ```text
//! IDLE --start--> SCHEDULED --due--> DUE --call--> RUNNING --returned--> DONE (one-shot)
//!   |                 |               |              |   \--repeat----> SCHEDULED (next slot)
//!   +---cancel--------+---cancel------+---cancel-----+--(repeat only)--> CANCELLED
//! ```
//!
//! SCHEDULED: in the service's heap, which lists it (not in the registry's map).
//! DUE: popped by the service and listed in the registry's map, handed to a pooled
//! thread; the CAS to DUE happens under the registry's lock, so a cancel that
//! finds DUE knows the timer is in the map (and one that finds SCHEDULED that it is
//! not).

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::clock;
use super::error::Error;
use super::thread::{Body, Repeat, Target, Thread, TimerKind};
use super::timer_service;

const IDLE: u8 = 0;
const SCHEDULED: u8 = 1;
const DUE: u8 = 2;
const RUNNING: u8 = 3;
const CANCELLED: u8 = 4;
const DONE: u8 = 5;

/// The shortest interval of a repeating timer: a zero interval would spin.
const MIN_REPEAT: Duration = Duration::from_millis(1);

/// A timer's state byte.
fn state(thread: &Thread) -> &AtomicU8 {
    &thread.inner.timer_state
}

/// Whether `thread`'s timer is a repeating one.
fn is_repeat(thread: &Thread) -> bool {
    thread.inner.timer == TimerKind::Repeat
}

/// The due instant of slot `k` of `thread`'s timer (slot 1 is `start + interval`),
/// in nanoseconds since the service's epoch. It saturates: an absurd interval's
/// slot lands at `u64::MAX` (about 584 years on), which is never.
fn slot_due(thread: &Thread, k: u64) -> u64 {
    due_of(thread.started_nanos(), thread.inner.timer_interval, k)
}

/// Slot `k`'s due instant for a timer started at `started` with `interval` (both
/// in nanoseconds), saturating at `u64::MAX` (never).
fn due_of(started: u64, interval: u64, k: u64) -> u64 {
    started.saturating_add(interval.saturating_mul(k))
}

/// Which slot `due` is (`due_of`'s inverse, exact below saturation), and the first
/// slot not yet an interval in the past at `now`.
fn slot_of(due: u64, started: u64, interval: u64, now: u64) -> (u64, u64) {
    let step = interval.max(1);
    let slot = due.saturating_sub(started) / step;
    let behind = now.saturating_sub(started) / step;
    (slot, behind)
}

/// What the timer service calls back (it does not import this module).
const CALLBACKS: timer_service::Callbacks = timer_service::Callbacks {
    is_scheduled,
    mark_due,
    fire,
};

/// SCHEDULED -> DUE: the service popped `thread`'s due entry (under the registry's
/// lock, which lists it if this returns `true`); `false`: it was cancelled.
fn mark_due(thread: &Thread) -> bool {
    state(thread)
        .compare_exchange(SCHEDULED, DUE, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Whether `thread`'s timer waits for a slot (its heap entry is live).
fn is_scheduled(thread: &Thread) -> bool {
    state(thread).load(Ordering::Acquire) == SCHEDULED
}

/// A function that runs once after a delay, or again and again at a fixed rate,
/// unless cancelled. Python: `threading.Timer(interval, f)`.
///
/// A `Timer` is a [`Thread`] (it derefs to one, and [`thread`](Self::thread) gives
/// the handle): it has a name and an ident, is listed by `enumerate()` from
/// `start()` until its function has returned or it was cancelled, and its daemon
/// flag decides, as for any thread, whether the process waits for it at exit. While
/// pending it holds no OS thread and its `native_id()` is `None`.
///
/// Differences from Python: the function runs on a pooled thread, as the timer's
/// `Thread` (so `current_thread()`, `Local` values and RLock ownership are the
/// timer's); `cancel()` returns whether it stopped the function from running;
/// [`Timer::repeat`] is built in.
///
/// # Examples
///
/// ```
/// use threadkit::threading::Timer;
/// use std::sync::mpsc;
/// use std::time::{Duration, Instant};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let (tx, rx) = mpsc::channel();
/// let started = Instant::now();
/// let t = Timer::new(Duration::from_millis(50), move || tx.send(Instant::now()).unwrap());
/// t.start()?;
/// let fired = rx.recv().unwrap();
/// assert!(fired - started >= Duration::from_millis(50));
/// t.join()?;
///
/// let never = Timer::new(Duration::from_secs(3600), || unreachable!());
/// never.start()?;
/// assert!(never.cancel()); // it had not run: it never will
/// # Ok(())
/// # }
/// ```
pub struct Timer {
    thread: Thread,
}

impl Timer {
    /// An unstarted timer that will call `f` once, no earlier than `interval`
    /// after [`start`](Self::start). Python: `Timer(interval, f)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_millis(10), || println!("fired"));
    /// t.start()?;
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use = "a timer does nothing until start()"]
    pub fn new<F>(interval: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        Timer::build(TimerKind::Once, interval, Box::new(Target(f)))
    }

    /// An unstarted timer that calls `f` at a fixed rate until cancelled: slot `k`
    /// is due at `start + k * interval` (anchored to the start, so no drift
    /// accumulates). A slot missed by more than one whole interval (the machine was
    /// busy, or a call ran long) is skipped rather than burst. A panic in a call ends
    /// the timer (the excepthook reports it), as does a stop request
    /// ([`Thread::stop`]). Intervals below 1 ms count as 1 ms.
    ///
    /// Python code gets this by re-arming a new `Timer` from its function (the
    /// seed's E10); that drifts by the function's run time on every tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let ticks = Arc::new(AtomicU32::new(0));
    /// let n = ticks.clone();
    /// let t = Timer::repeat(Duration::from_millis(5), move || {
    ///     n.fetch_add(1, Ordering::SeqCst);
    /// });
    /// t.start()?;
    /// while ticks.load(Ordering::SeqCst) < 3 {
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// assert!(t.cancel());
    /// t.join()?;
    /// let after = ticks.load(Ordering::SeqCst);
    /// std::thread::sleep(Duration::from_millis(20));
    /// assert_eq!(ticks.load(Ordering::SeqCst), after); // none after cancel + join
    /// # Ok(())
    /// # }
    /// ```
    #[must_use = "a timer does nothing until start()"]
    pub fn repeat<F>(interval: Duration, f: F) -> Timer
    where
        F: FnMut() + Send + 'static,
    {
        Timer::build(
            TimerKind::Repeat,
            interval.max(MIN_REPEAT),
            Box::new(Repeat(f)),
        )
    }

    /// threadkit's own one-shot timer (housekeeping): an internal thread (left
    /// out of `enumerate()`) and a daemon (it never holds the process at exit).
    pub(crate) fn internal<F>(interval: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
        Timer {
            thread: Thread::builder()
                .timer(TimerKind::Once, nanos, Box::new(Target(f)))
                .internal()
                .daemon(true)
                .build(),
        }
    }

    fn build(kind: TimerKind, interval: Duration, func: Box<dyn Body>) -> Timer {
        // The state starts at IDLE (0), as every record's `timer_state` does.
        let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
        Timer {
            thread: Thread::builder().timer(kind, nanos, func).build(),
        }
    }

    /// Starts the countdown. Python: `start()`.
    ///
    /// After [`cancel`](Self::cancel) it returns `Ok` and the function never runs.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] on a second call.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, Timer};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), Error> {
    /// let t = Timer::new(Duration::from_millis(1), || {});
    /// t.start()?;
    /// assert!(matches!(t.start(), Err(Error::AlreadyStarted)));
    /// # t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(&self) -> Result<(), Error> {
        self.thread.start()
    }

    /// Stops the timer if its function has not run yet; returns `true` when this call
    /// stopped it (for a repeating timer: when it was not already cancelled or
    /// ended). Python: `cancel()`.
    ///
    /// It never blocks and works from inside the function. Once it has returned, no
    /// new call of the function starts; a call already running finishes (use
    /// [`join`](Thread::join) to wait for it). Cancelling before `start()` is allowed:
    /// the function never runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_millis(10), || {});
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.cancel()); // it ran already
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(&self) -> bool {
        cancel(&self.thread)
    }

    /// The timer's thread handle (also reachable through `Deref`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{enumerate, Timer};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_secs(3600), || {});
    /// t.start()?;
    /// assert!(enumerate().contains(t.thread()));
    /// assert_eq!(t.thread().native_id(), None); // pending: no OS thread
    /// t.cancel();
    /// # Ok(())
    /// # }
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Blocks until the timer has ended: its function returned, or it was cancelled.
    /// Python: `join()`.
    ///
    /// # Errors
    ///
    /// As [`Thread::join`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_millis(5), || {});
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.is_alive());
    /// # Ok(())
    /// # }
    /// ```
    pub fn join(&self) -> Result<(), Error> {
        self.thread.join()
    }

    /// Blocks until the timer has ended or `timeout` passed; `true` if it ended.
    ///
    /// # Errors
    ///
    /// As [`Thread::join_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_secs(3600), || {});
    /// t.start()?;
    /// assert!(!t.join_timeout(Duration::from_millis(5))?);
    /// t.cancel();
    /// assert!(t.join_timeout(Duration::from_secs(5))?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        self.thread.join_timeout(timeout)
    }

    /// Whether the timer is pending or running its function.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// let t = Timer::new(Duration::from_millis(5), || {});
    /// assert!(!t.is_alive()); // not started
    /// ```
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// The interval it was made with: the delay before the call, and for
    /// [`repeat`](Self::repeat) the period (raised to `repeat`'s minimum, as
    /// `repeat` does). Python: `interval`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// let t = Timer::new(Duration::from_millis(250), || {});
    /// assert_eq!(t.interval(), Duration::from_millis(250));
    /// ```
    pub fn interval(&self) -> Duration {
        // Saturated at ~584 years when made: such an interval never ends anyway.
        Duration::from_nanos(self.thread.inner.timer_interval)
    }

    /// The timer thread's name (`Thread-N` unless renamed).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// let t = Timer::new(Duration::from_millis(5), || {});
    /// t.set_name("reminder");
    /// assert_eq!(t.name(), "reminder");
    /// ```
    pub fn name(&self) -> String {
        self.thread.name()
    }

    /// Sets the daemon flag before `start()`: a non-daemon timer keeps the process
    /// alive at exit until it has fired (or was cancelled).
    ///
    /// # Errors
    ///
    /// [`Error::DaemonAfterStart`] once started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Timer;
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), threadkit::threading::Error> {
    /// let t = Timer::new(Duration::from_millis(5), || {});
    /// t.set_daemon(true)?;
    /// assert!(t.is_daemon());
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), Error> {
        self.thread.set_daemon(daemon)
    }
}

impl Deref for Timer {
    type Target = Thread;

    fn deref(&self) -> &Thread {
        &self.thread
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match state(&self.thread).load(Ordering::Relaxed) {
            IDLE => "idle",
            SCHEDULED => "scheduled",
            DUE => "due",
            RUNNING => "running",
            CANCELLED => "cancelled",
            _ => "done",
        };
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("interval", &self.interval())
            .field("repeat", &is_repeat(&self.thread))
            .field("state", &state)
            .finish()
    }
}

/// Starts `thread`'s timer (`Thread::start` calls this once it is registered,
/// `Pending`): IDLE -> SCHEDULED, unless cancelled before start: then the thread
/// ends at once and the function never runs.
pub(crate) fn start(thread: &Thread) {
    match state(thread).compare_exchange(IDLE, SCHEDULED, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => timer_service::schedule(slot_due(thread, 1), thread.clone(), false, &CALLBACKS),
        Err(_) => thread.finish(),
    }
}

/// A stop was requested for `thread` (`Thread::stop`): it cancels the timer.
pub(crate) fn stop(thread: &Thread) {
    cancel(thread);
}

fn cancel(thread: &Thread) -> bool {
    let timer = self::state(thread);
    let repeat = is_repeat(thread);
    let mut state = timer.load(Ordering::Acquire);
    loop {
        let next = match state {
            IDLE | SCHEDULED | DUE => CANCELLED,
            // A running repeat stops after the running call; a one-shot that is
            // running has run.
            RUNNING if repeat => CANCELLED,
            _ => return false,
        };
        match timer.compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(actual) => state = actual,
        }
    }
    if state == SCHEDULED {
        // Its heap entry stays until due and is skipped then (counted, so the
        // service can purge when cancelled entries pile up). The heap listed it,
        // the registry's map did not: nothing to unlist there. The function is
        // dropped outside any lock: its captures may run user code.
        timer_service::note_cancelled();
        drop(thread.mark_finished_taking_body(true));
    } else if state == DUE {
        // Popped and in the registry's map; the pooled thread will find it
        // cancelled.
        drop(thread.take_body());
        thread.finish();
    }
    true
}

/// Called on a pooled thread when `thread`'s timer is due (`due`: nanoseconds since
/// the service's epoch, the slot's `slot_due`).
fn fire(thread: &Thread, due: u64) {
    let timer = state(thread);
    let repeat = is_repeat(thread);
    if timer
        .compare_exchange(DUE, RUNNING, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // Cancelled after the service popped it: `cancel` ended it.
        return;
    }
    let interval = thread.inner.timer_interval;
    // A repeat slot more than one whole interval late is skipped, not burst.
    let late = clock::nanos_of(Instant::now()).saturating_sub(due);
    let skip = repeat && late > interval;
    let mut panicked = false;
    if !skip {
        if let Some(body) = thread.take_body() {
            // A repeat's function comes back for its next call, unless it panicked.
            let mut keep = None;
            panicked = thread.run_call(|| body.call(&mut keep));
            if let Some(f) = keep {
                thread.put_back_body(f);
            }
        }
    }
    // A stop request cancels (`stop` above), so it needs no check here.
    if repeat && !panicked {
        // This slot's number (exact: `due` is `slot_due` of it), then the next
        // slot whose due instant is not already an interval in the past.
        let now = clock::nanos_of(Instant::now());
        let (slot, behind) = slot_of(due, thread.started_nanos(), interval, now);
        let next = slot.saturating_add(1).max(behind);
        if timer
            .compare_exchange(RUNNING, SCHEDULED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // Into the heap and out of the registry's map in one step.
            timer_service::schedule(slot_due(thread, next), thread.clone(), true, &CALLBACKS);
            return;
        }
    } else {
        let _ = timer.compare_exchange(RUNNING, DONE, Ordering::AcqRel, Ordering::Acquire);
    }
    drop(thread.take_body());
    thread.finish();
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Timer>();
};

#[cfg(test)]
mod tests {
    use super::{due_of, slot_of};

    #[test]
    fn a_slots_due_instant_gives_back_its_slot() {
        let (started, interval) = (123_456_789, 10_000_000);
        for k in [1, 2, 3, 1_000, 1 << 30] {
            let due = due_of(started, interval, k);
            assert_eq!(due, started + interval * k);
            assert_eq!(slot_of(due, started, interval, due).0, k);
        }
        // Behind: at slot 7's due instant plus half an interval, slot 7 is the
        // first one not a whole interval in the past.
        let now = due_of(started, interval, 7) + interval / 2;
        assert_eq!(
            slot_of(due_of(started, interval, 2), started, interval, now),
            (2, 7)
        );
    }

    #[test]
    fn an_absurd_interval_saturates_to_never() {
        let started = 5_000_000_000;
        assert_eq!(due_of(started, u64::MAX, 1), u64::MAX);
        assert_eq!(due_of(started, u64::MAX / 2, 3), u64::MAX);
        assert_eq!(due_of(u64::MAX - 1, 1, 2), u64::MAX);
    }
}
