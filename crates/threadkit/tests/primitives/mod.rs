//! What the primitive and queue tests share: polling for a state, spawning and
//! joining a threadkit thread with a hang guard, and the stress count.
#![allow(dead_code)] // each test file uses a part

use std::time::{Duration, Instant};

use threadkit::threading::Thread;

/// Polls `cond` until it holds; panics after 10 s (so a bug fails, not hangs).
pub fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Starts `f` on a threadkit thread.
pub fn spawn(f: impl FnOnce() + Send + 'static) -> Thread {
    Thread::builder().target(f).spawn().unwrap()
}

/// Joins `t` (failing after 20 s instead of hanging) and checks it did not panic.
pub fn join(t: &Thread) {
    assert!(
        t.join_timeout(Duration::from_secs(20)).unwrap(),
        "thread hung"
    );
    assert!(!t.panicked());
}

/// `THREADKIT_STRESS` when set (long runs by hand), else `default`.
pub fn stress_count(default: usize) -> usize {
    std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
