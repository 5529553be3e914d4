//! Helpers shared by the wait-record and deadlock tests.

#![allow(dead_code)] // each test file uses a part

use std::time::{Duration, Instant};

use threadkit::threading::{dump, Thread, WaitInfo, WaitKind};

/// How long a test waits for something to appear.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Starts a daemon thread named `name`.
pub fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Thread {
    Thread::builder()
        .name(name)
        .daemon(true)
        .target(f)
        .spawn()
        .expect("spawn")
}

/// The wait record of the thread named `name`, if it waits.
pub fn waiting_of(name: &str) -> Option<WaitInfo> {
    dump()
        .into_iter()
        .find(|r| r.name == name)
        .and_then(|r| r.waiting)
}

/// Polls until `name` waits in a wait of `kind`, and returns the record.
pub fn blocked(name: &str, kind: WaitKind) -> WaitInfo {
    let start = Instant::now();
    loop {
        if let Some(w) = waiting_of(name).filter(|w| w.kind == kind) {
            return w;
        }
        assert!(start.elapsed() < PATIENCE, "{name} never blocked on {kind}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
