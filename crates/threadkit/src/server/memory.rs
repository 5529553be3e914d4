//! Giving the memory of a burst back: a connection's output queue that grew
//! large is freed once written, but glibc keeps freed memory in the middle of
//! its heaps resident; a trim shortly after (at most one per
//! [`TRIM_DELAY`], on an internal timer, so a burst draining over many
//! connections costs a few trims, not one per connection) returns it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::sys;
use crate::threading::Timer;

/// A freed buffer at least this large asks for a trim.
const BIG: usize = 256 * 1024;

/// How long after the first such free the trim runs.
const TRIM_DELAY: Duration = Duration::from_millis(100);

/// A trim is scheduled and has not started yet.
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// A buffer of `capacity` bytes was freed.
pub(crate) fn freed(capacity: usize) {
    if capacity < BIG || SCHEDULED.swap(true, Ordering::AcqRel) {
        return;
    }
    let trim = Timer::internal(TRIM_DELAY, || {
        // Frees during the trim schedule the next one.
        SCHEDULED.store(false, Ordering::Release);
        sys::trim_heap();
    });
    if trim.start().is_err() {
        SCHEDULED.store(false, Ordering::Release);
    }
}
