//! Cooperative stop: [`Thread::stop`](super::Thread::stop) asks, [`stop_requested`]
//! reads.
//!
//! Each threadkit thread has one parker; every threadkit wait parks on it, and a
//! stop request sets the thread's sticky stop flag and unparks it. A stopped thread's
//! waits: those returning `bool` return `false` (an `Event` already set still returns
//! `true`); `Option` waits return `None`; `join_timeout` returns `Ok(false)`;
//! `Condition` waits return `Ok(false)` with the lock held again, and `wait_for`
//! returns `Ok(pred())` evaluated once more; a `Barrier` wait breaks the barrier.
//! `join()`, the plain `acquire()` calls and the blocking guards are not interrupted.

use super::thread::{Thread, TimerKind};
use super::timer;
use crate::sync;

impl Thread {
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
    ///         let _ = never.wait_timeout(Duration::from_secs(3600)); // woken by stop()
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
        if self.inner.timer != TimerKind::None {
            timer::stop(self);
        }
    }
}

/// Whether [`Thread::stop`](super::Thread::stop) was called for the calling threadkit
/// thread (false on a thread threadkit did not start, unless registered and stopped).
///
/// # Examples
///
/// ```
/// use threadkit::threading::{current_thread, stop_requested, Thread};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let t = Thread::new(|| {
///     current_thread().stop();
///     assert!(stop_requested());
/// });
/// t.start()?;
/// t.join()?;
/// assert!(!t.panicked());
/// # Ok(())
/// # }
/// ```
pub fn stop_requested() -> bool {
    sync::current_stop_requested()
}
