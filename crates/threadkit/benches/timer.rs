//! Start + cancel of pending timers: threadkit's `Timer` against tokio's
//! (`tokio::time::sleep` tasks spawned then aborted on a current-thread runtime), in
//! the same run. Goal: per-timer cost at most half of tokio's.
//!
//! Run: `cargo bench --bench timer` (CPython, for the record: `python3 benches/timer.py`)

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use threadkit::threading::Timer;

const N: usize = 100_000;

fn start_cancel(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer_start_cancel_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.bench_function("threadkit", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let timers: Vec<Timer> = (0..N)
                    .map(|_| {
                        let t = Timer::new(Duration::from_secs(1), || {});
                        t.start().unwrap();
                        t
                    })
                    .collect();
                for t in &timers {
                    t.cancel();
                }
                drop(timers);
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("tokio", |b| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        b.iter_batched(
            || (),
            |()| {
                rt.block_on(async {
                    let handles: Vec<_> = (0..N)
                        .map(|_| {
                            tokio::spawn(async {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            })
                        })
                        .collect();
                    for h in &handles {
                        h.abort();
                    }
                    for h in handles {
                        let _ = h.await;
                    }
                })
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, start_cancel);
criterion_main!(benches);
