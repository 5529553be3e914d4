//! Two threads incrementing one counter under a lock: the contended workload
//! both `benches/sync` (criterion) and `benches/lock_interleaved` time.
//!
//! The counter is a load + store (not an atomic add), so only the lock keeps it
//! exact; each run checks the count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::threading::Lock;

/// Runs `work(iters)` on two threads released together; the time from the
/// release to the last join.
fn two_threads(iters: u64, work: impl Fn(u64) + Send + Sync + 'static) -> Duration {
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (w, b) = (Arc::clone(&work), Arc::clone(&start));
            thread::spawn(move || {
                b.wait();
                w(iters);
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    t0.elapsed()
}

/// Two threads × `iters` increments under a threadkit `Lock`.
pub fn threadkit_increments(iters: u64) -> Duration {
    let shared = Arc::new((Lock::new(), AtomicU64::new(0)));
    let s = Arc::clone(&shared);
    let elapsed = two_threads(iters, move |n| {
        let (lock, count) = &*s;
        for _ in 0..n {
            lock.acquire();
            count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            lock.release().unwrap();
        }
    });
    assert_eq!(shared.1.load(Ordering::Relaxed), 2 * iters);
    elapsed
}

/// Two threads × `iters` increments under a `parking_lot::Mutex`.
pub fn parking_lot_increments(iters: u64) -> Duration {
    let shared = Arc::new((parking_lot::Mutex::new(()), AtomicU64::new(0)));
    let s = Arc::clone(&shared);
    let elapsed = two_threads(iters, move |n| {
        let (mutex, count) = &*s;
        for _ in 0..n {
            let _g = mutex.lock();
            count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
    });
    assert_eq!(shared.1.load(Ordering::Relaxed), 2 * iters);
    elapsed
}
