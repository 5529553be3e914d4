//! `Lock` and `RLock` against parking_lot: uncontended acquire + release, and two
//! threads incrementing a counter under the lock.

use std::hint::black_box;

use criterion::Criterion;
use threadkit::threading::{Lock, RLock};

use crate::increments::{parking_lot_increments, threadkit_increments};

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

/// Two threads × `iters` increments of one counter under the lock (see
/// `increments.rs`).
fn lock_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_two_threads_increment");
    g.bench_function("threadkit_Lock", |b| b.iter_custom(threadkit_increments));
    g.bench_function("parking_lot_Mutex", |b| {
        b.iter_custom(parking_lot_increments)
    });
    g.finish();
}

/// This module's groups (see `main.rs`).
pub fn benches(c: &mut Criterion) {
    lock_uncontended(c);
    rlock_uncontended(c);
    lock_contended(c);
}
