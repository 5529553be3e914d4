//! [`TIMEOUT_MAX`] and the one place a timeout becomes a deadline.

use std::time::{Duration, Instant};

/// The largest timeout a blocking call honours as a timeout: 9,223,372,036 s, CPython's
/// `threading.TIMEOUT_MAX` on Linux.
///
/// Python raises `OverflowError` for a longer timeout; threadkit waits forever instead,
/// and never panics.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Event, TIMEOUT_MAX};
/// use std::time::Duration;
///
/// let ev = Event::new();
/// ev.set();
/// // Any timeout is accepted; past TIMEOUT_MAX it means "no timeout".
/// assert!(ev.wait_timeout(TIMEOUT_MAX + Duration::from_secs(1)));
/// ```
pub const TIMEOUT_MAX: Duration = Duration::from_secs(9_223_372_036);

/// The deadline `timeout` from now, or `None` ("wait forever") when `timeout` is
/// beyond [`TIMEOUT_MAX`] or beyond what `Instant` can represent.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    deadline_after(Instant::now(), timeout)
}

/// The deadline `timeout` after `start`, saturating as [`deadline`] does: `None`
/// ("never") past [`TIMEOUT_MAX`] or past what `Instant` can represent, so no
/// caller can overflow an `Instant`.
pub(crate) fn deadline_after(start: Instant, timeout: Duration) -> Option<Instant> {
    if timeout > TIMEOUT_MAX {
        return None;
    }
    start.checked_add(timeout)
}
