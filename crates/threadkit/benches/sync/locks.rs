//! `Lock` and `RLock` against parking_lot: uncontended acquire + release, and two
//! threads incrementing a counter under the lock.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use threadkit::threading::{Lock, RLock};

/// Uncontended `Lock` acquire + release vs `parking_lot::Mutex` lock + unlock.
fn lock_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_uncontended");
    let lock = Lock::new();
    g.bench_function("threadkit_Lock", |b| {
        b.iter(|| {
            let l = black_box(&lock);
            l.acquire();
            l.release().unwrap();
        })
    });
    let mutex = parking_lot::Mutex::new(());
    g.bench_function("parking_lot_Mutex", |b| {
        b.iter(|| drop(black_box(&mutex).lock()))
    });
    g.finish();
}

/// Uncontended `RLock` lock + unlock vs `parking_lot::ReentrantMutex`.
fn rlock_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("rlock_uncontended");
    let rlock = RLock::new();
    g.bench_function("threadkit_RLock", |b| {
        b.iter(|| drop(black_box(&rlock).lock()))
    });
    let remutex = parking_lot::ReentrantMutex::new(());
    g.bench_function("parking_lot_ReentrantMutex", |b| {
        b.iter(|| drop(black_box(&remutex).lock()))
    });
    g.finish();
}

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

/// Two threads × `iters` increments of one counter under the lock. The counter
/// is a load + store (not an atomic add), so only the lock keeps it exact; the
/// same counter is used for both locks.
fn lock_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_two_threads_increment");
    g.bench_function("threadkit_Lock", |b| {
        b.iter_custom(|iters| {
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
        })
    });
    g.bench_function("parking_lot_Mutex", |b| {
        b.iter_custom(|iters| {
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
        })
    });
    g.finish();
}

/// This module's groups (see `main.rs`).
pub fn benches(c: &mut Criterion) {
    lock_uncontended(c);
    rlock_uncontended(c);
    lock_contended(c);
}
