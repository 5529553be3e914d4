//! `Lock` and `RLock` against parking_lot, interleaved: each round times a batch
//! of threadkit and then a batch of its peer, and the result is the median of the
//! per-round ratios. On a machine shared with other work, criterion's groups run
//! one after the other and each meets a different load (the same build gave
//! 0.65x and 1.3x within minutes); a ratio taken within one round holds.
//!
//! Run: `cargo bench -p threadkit --bench lock_interleaved` (rounds:
//! `THREADKIT_BENCH_ROUNDS`, default 60).

use std::hint::black_box;
use std::time::{Duration, Instant};

use threadkit::threading::{Lock, RLock};

#[path = "sync/increments.rs"]
mod increments;
#[path = "interleaved/report.rs"]
mod report;
use increments::{parking_lot_increments, threadkit_increments};
use report::report;

/// Acquire + release pairs per uncontended batch.
const BATCH: u32 = 200_000;
/// Increments per thread in one two-thread round.
const INCREMENTS: u64 = 100_000;

/// Nanoseconds per call of `f`, over one batch.
fn per_call(f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

/// Nanoseconds per increment of one two-thread round of `run`.
fn per_increment(run: fn(u64) -> Duration) -> f64 {
    run(INCREMENTS).as_nanos() as f64 / (2 * INCREMENTS) as f64
}

fn main() {
    let rounds: usize = std::env::var("THREADKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let lock = Lock::new();
    let mutex = parking_lot::Mutex::new(());
    let rlock = RLock::new();
    let remutex = parking_lot::ReentrantMutex::new(());
    let mut lock_case = || {
        let l = black_box(&lock);
        l.acquire();
        l.release().unwrap();
    };
    let mut mutex_case = || drop(black_box(&mutex).lock());
    let mut rlock_case = || drop(black_box(&rlock).lock());
    let mut remutex_case = || drop(black_box(&remutex).lock());
    let mut t = [const { Vec::new() }; 6];
    let deadline = Instant::now() + Duration::from_secs(120);
    for _ in 0..rounds {
        t[0].push(per_call(&mut lock_case));
        t[1].push(per_call(&mut mutex_case));
        t[2].push(per_call(&mut rlock_case));
        t[3].push(per_call(&mut remutex_case));
        t[4].push(per_increment(threadkit_increments));
        t[5].push(per_increment(parking_lot_increments));
        if Instant::now() > deadline {
            break;
        }
    }
    report("Lock vs parking_lot::Mutex", "ns", &t[0], &t[1]);
    report("RLock vs parking_lot::ReentrantMutex", "ns", &t[2], &t[3]);
    report("two threads incrementing, Lock", "ns", &t[4], &t[5]);
}
