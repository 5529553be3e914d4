//! `threadkit::queue::Queue` against `crossbeam-channel` (bounded) and
//! `std::sync::mpsc::sync_channel`, all with capacity 1,024, in one run (ratios hold
//! on a noisy machine, absolute times do not): SPSC throughput, 4 producers × 4
//! consumers, and a get blocked on an empty queue woken by a put (a ping-pong)
//! against the floor, `std::thread::park`/`unpark`.
//!
//! Run: `cargo bench -p threadkit --bench queue -- --warm-up-time 1
//! --measurement-time 3`; the wake-up figure is meant pinned to one core:
//! `taskset -c 0 cargo bench -p threadkit --bench queue -- wake`. Pinned, the queue
//! does not spin before it parks (it reads one CPU from the affinity mask), so that
//! figure is its park and wake path against the bare one; unpinned, a get usually
//! catches the put while it spins, and the figure is the spinning hand-off.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "queue_cases/cases.rs"]
mod cases;
use cases::{transfer, wake_park, wake_queue, Channel, Crossbeam, Std, Tk, SIDES};

fn throughput(c: &mut Criterion, name: &str, sides: u64) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    fn run<C: Channel>(iters: u64, sides: u64) -> Duration {
        // iters items in all, at least one per producer.
        transfer::<C>(sides, sides, iters.div_ceil(sides))
    }
    g.bench_function("threadkit_queue", |b| {
        b.iter_custom(|n| run::<Tk>(n, sides))
    });
    g.bench_function("crossbeam_bounded", |b| {
        b.iter_custom(|n| run::<Crossbeam>(n, sides))
    });
    g.bench_function("std_sync_channel", |b| {
        b.iter_custom(|n| run::<Std>(n, sides))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    throughput(c, "queue_spsc", 1);
    throughput(c, "queue_4p4c", SIDES);
    let mut g = c.benchmark_group("queue_wake");
    g.bench_function("threadkit_queue", |b| b.iter_custom(wake_queue));
    g.bench_function("park_unpark", |b| b.iter_custom(wake_park));
    g.finish();
}

criterion_group!(queue, benches);
criterion_main!(queue);
