//! Thread costs against std, measured in the same run (ratios hold on a noisy
//! machine, absolute times do not):
//! - spawn + join of a threadkit `Thread` vs `std::thread::spawn` + `join`
//!   (goal: at most 1.25x);
//! - `current_thread()` from a threadkit thread vs `std::thread::current()`
//!   (goal: at most 2x).
//!
//! With every core busy, and interleaved so that both sides meet the same
//! load: `benches/spawn_interleaved.rs`.
//!
//! Run: `cargo bench -p threadkit --bench thread`

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use threadkit::threading::{current_thread, Thread};

fn spawn_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_join");
    g.bench_function("std", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1)).join().unwrap())
    });
    g.bench_function("threadkit", |b| {
        b.iter(|| {
            let t = Thread::new(|| {
                black_box(1);
            });
            t.start().unwrap();
            t.join().unwrap();
        })
    });
    g.finish();
}

/// Times `iters` calls of `f` on a threadkit thread.
fn on_threadkit_thread(iters: u64, f: fn()) -> Duration {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        tx.send(start.elapsed()).unwrap();
    });
    t.start().unwrap();
    t.join().unwrap();
    rx.recv().unwrap()
}

fn current(c: &mut Criterion) {
    let mut g = c.benchmark_group("current_thread");
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            on_threadkit_thread(iters, || {
                black_box(std::thread::current());
            })
        })
    });
    g.bench_function("threadkit", |b| {
        b.iter_custom(|iters| {
            on_threadkit_thread(iters, || {
                black_box(current_thread());
            })
        })
    });
    g.finish();
}

criterion_group!(benches, spawn_join, current);
criterion_main!(benches);
