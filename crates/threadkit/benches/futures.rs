//! Executor costs against rayon, measured in the same run (ratios hold on a noisy
//! machine, absolute times do not): one task's round trip, `submit` + `result()`
//! on a `ThreadPoolExecutor` vs `rayon::ThreadPool::spawn` with a channel back,
//! both pools of 4 warm workers (goal: at most 1.5x); and a batch of 1,000 tasks
//! submitted, then every result read.
//!
//! Run: `cargo bench --bench futures`

use std::hint::black_box;
use std::sync::mpsc;

use criterion::{criterion_group, criterion_main, Criterion};
use threadkit::futures::ThreadPoolExecutor;

const WORKERS: usize = 4;
const BATCH: usize = 1_000;

fn pools() -> (ThreadPoolExecutor, rayon::ThreadPool) {
    let tk = ThreadPoolExecutor::new(WORKERS);
    let ry = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .expect("rayon pool");
    // Warm both: every worker started.
    let fs: Vec<_> = (0..WORKERS * 4)
        .map(|i| tk.submit(move || i).unwrap())
        .collect();
    fs.into_iter().for_each(|f| drop(f.result()));
    (tk, ry)
}

fn round_trip(c: &mut Criterion) {
    let (tk, ry) = pools();
    let mut g = c.benchmark_group("futures_round_trip");
    g.bench_function("rayon_spawn_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            ry.spawn(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });
    g.bench_function("threadkit_submit_result", |b| {
        b.iter(|| tk.submit(|| black_box(1u64)).unwrap().result().unwrap())
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    let (tk, ry) = pools();
    let mut g = c.benchmark_group("futures_batch_1000");
    g.bench_function("rayon_spawn_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for i in 0..BATCH {
                let tx = tx.clone();
                ry.spawn(move || tx.send(black_box(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<usize>()
        })
    });
    g.bench_function("threadkit_submit_result", |b| {
        b.iter(|| {
            let fs: Vec<_> = (0..BATCH)
                .map(|i| tk.submit(move || black_box(i)).unwrap())
                .collect();
            fs.into_iter().map(|f| f.result().unwrap()).sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, round_trip, batch);
criterion_main!(benches);
