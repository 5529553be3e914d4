//! Instants as nanoseconds since one process-wide epoch: 8 bytes where an
//! `Instant` (or `Option<Instant>`) takes 16, and plain `u64` arithmetic that
//! saturates. Thread records keep their start this way, and the timer service its
//! due instants.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The epoch: the first time anything asked.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `t` as nanoseconds since the epoch (0 for earlier instants, `u64::MAX` past
/// about 584 years).
pub(crate) fn nanos_of(t: Instant) -> u64 {
    let d = t.saturating_duration_since(epoch());
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Now, as nanoseconds since the epoch, never 0 (0 stands for "not yet" in the
/// records that keep one; the nanosecond it moves is no one's business).
pub(crate) fn now_nanos() -> u64 {
    nanos_of(Instant::now()).max(1)
}

/// The instant `nanos` after the epoch.
pub(crate) fn instant_of(nanos: u64) -> Instant {
    epoch() + Duration::from_nanos(nanos)
}
