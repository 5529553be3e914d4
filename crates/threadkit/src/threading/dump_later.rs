//! [`dump_later`]: a thread dump with waits written to stderr after a delay,
//! unless cancelled (CPython's `faulthandler.dump_traceback_later`).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::dump::{dump_all, ThreadInfo};
use super::{Event, Thread};

/// Writes [`dump_all`] (with every thread's wait) to stderr after `after`,
/// and again every `after` if `repeat`, until cancelled. Python:
/// `faulthandler.dump_traceback_later(timeout, repeat)`.
///
/// The dump is written by an internal thread, whatever the other threads are
/// doing (deadlocked ones included), so it tells what a hung program waits on.
///
/// # Panics
///
/// If the timing thread cannot be started (the system is out of threads).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::threading::dump_later;
///
/// // If the work below hangs, a dump shows where after a minute.
/// let guard = dump_later(Duration::from_secs(60), false);
/// // ... the work ...
/// guard.cancel();
/// ```
pub fn dump_later(after: Duration, repeat: bool) -> DumpLater {
    let cancel = Arc::new(Event::new());
    let cancelled = Arc::clone(&cancel);
    Thread::builder()
        .name("dump-later")
        .internal()
        .target(move || {
            while !cancelled.wait_timeout(after) {
                let text = format!("{}", ThreadInfo::table(&dump_all()));
                // The dump is this function's purpose; a failed write to stderr
                // has nowhere else to go.
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
                if !repeat {
                    break;
                }
            }
        })
        .spawn()
        .expect("start the dump-later thread");
    DumpLater { cancel }
}

/// A pending [`dump_later`]: cancel it with [`cancel`](Self::cancel) or by
/// dropping it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::threading::dump_later;
///
/// let pending = dump_later(Duration::from_secs(30), true);
/// drop(pending); // cancelled: nothing is written
/// ```
#[derive(Debug)]
pub struct DumpLater {
    cancel: Arc<Event>,
}

impl DumpLater {
    /// Cancels the dump (and its repeats). Python:
    /// `faulthandler.cancel_dump_traceback_later()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::threading::dump_later;
    ///
    /// dump_later(Duration::from_secs(5), false).cancel();
    /// ```
    pub fn cancel(self) {
        drop(self);
    }
}

impl Drop for DumpLater {
    fn drop(&mut self) {
        self.cancel.set();
    }
}
