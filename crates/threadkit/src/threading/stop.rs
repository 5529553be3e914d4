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

use super::registry;

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
    registry::current_stop_requested()
}
