//! Spawn + join of a threadkit `Thread` against `std::thread::spawn` + `join`,
//! interleaved (see `interleaved/report.rs`), as the machine is and with every
//! core busy (one `yes > /dev/null` per core, started and stopped here): the
//! goal is at most 1.25x std in both.
//!
//! Run: `cargo bench -p threadkit --bench spawn_interleaved` (rounds:
//! `THREADKIT_BENCH_ROUNDS`, default 40).

use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use threadkit::threading::Thread;

#[path = "interleaved/report.rs"]
mod report;
use report::report;

/// Spawn + join pairs per batch.
const BATCH: u32 = 100;

/// Microseconds per spawn + join of one batch of `f`.
fn per_spawn(f: fn()) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
}

fn threadkit_spawn() {
    let t = Thread::new(|| {
        black_box(1);
    });
    t.start().unwrap();
    t.join().unwrap();
}

fn std_spawn() {
    std::thread::spawn(|| black_box(1)).join().unwrap();
}

/// One `yes > /dev/null` per core, killed on drop.
struct Hogs(Vec<Child>);

impl Hogs {
    fn start() -> Hogs {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hogs = (0..n)
            .filter_map(|_| {
                Command::new("yes")
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| eprintln!("cannot start `yes`: {e}"))
                    .ok()
            })
            .collect();
        Hogs(hogs)
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn rounds(n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut ours, mut peer) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        ours.push(per_spawn(threadkit_spawn));
        peer.push(per_spawn(std_spawn));
    }
    (ours, peer)
}

fn main() {
    let n: usize = std::env::var("THREADKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let (ours, peer) = rounds(n);
    report("spawn + join vs std", "us", &ours, &peer);
    let hogs = Hogs::start();
    let (ours, peer) = rounds(n);
    drop(hogs);
    report("spawn + join vs std, cores busy", "us", &ours, &peer);
}
