//! The queue's three goals, interleaved (see `interleaved/report.rs`): SPSC and 4
//! producers × 4 consumers against crossbeam-channel bounded(1024) and std's
//! `sync_channel` (goals ≤ 2× and ≤ 1×), and the pinned wake-up round trip
//! against bare park/unpark (goal ≤ 1.2×). Criterion's `queue` bench runs each
//! peer's group after the other's, and on a shared machine the groups meet
//! different loads (one SPSC figure read 31 ns and 69 ns within ten minutes); a
//! ratio taken within one round holds.
//!
//! The wake-up runs in a child process pinned to CPU 0 (`taskset -c 0`, from
//! util-linux): the queue reads the CPU count once per process and does not spin
//! on one core, so the figure is its park and wake path against the bare one.
//!
//! Run: `cargo bench -p threadkit --bench queue_interleaved` (rounds:
//! `THREADKIT_BENCH_ROUNDS`, default 30).

use std::process::Command;
use std::time::Duration;

#[path = "queue_cases/cases.rs"]
mod cases;
#[path = "interleaved/report.rs"]
mod report;
use cases::{transfer, wake_park, wake_queue, Crossbeam, Std, Tk, SIDES};
use report::report;

/// Items per transfer batch.
const ITEMS: u64 = 200_000;
/// Round trips per wake-up batch.
const ROUND_TRIPS: u64 = 20_000;
/// The argument the pinned child runs with.
const WAKE_CHILD: &str = "--pinned-wake-child";

fn nanos(took: Duration, n: u64) -> f64 {
    took.as_nanos() as f64 / n as f64
}

/// Per item, threadkit then crossbeam then std, `rounds` times.
fn transfers(rounds: usize, sides: u64) -> [Vec<f64>; 3] {
    let per_side = ITEMS / sides;
    let mut t = [const { Vec::new() }; 3];
    for _ in 0..rounds {
        t[0].push(nanos(transfer::<Tk>(sides, sides, per_side), ITEMS));
        t[1].push(nanos(transfer::<Crossbeam>(sides, sides, per_side), ITEMS));
        t[2].push(nanos(transfer::<Std>(sides, sides, per_side), ITEMS));
    }
    t
}

fn wake_rounds(rounds: usize) {
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(nanos(wake_queue(ROUND_TRIPS), ROUND_TRIPS));
        peer.push(nanos(wake_park(ROUND_TRIPS), ROUND_TRIPS));
    }
    report("wake-up, pinned, vs park/unpark", "ns", &ours, &peer);
}

fn main() {
    let rounds: usize = std::env::var("THREADKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    if std::env::args().any(|a| a == WAKE_CHILD) {
        return wake_rounds(rounds);
    }
    for (name, sides) in [("SPSC", 1), ("4 x 4", SIDES)] {
        let [ours, crossbeam, std] = transfers(rounds, sides);
        report(
            &format!("{name} vs crossbeam bounded"),
            "ns",
            &ours,
            &crossbeam,
        );
        report(&format!("{name} vs std sync_channel"), "ns", &ours, &std);
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    match Command::new("taskset")
        .arg("-c")
        .arg("0")
        .arg(exe)
        .arg(WAKE_CHILD)
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("the pinned wake-up child failed: {s}"),
        Err(e) => eprintln!("wake-up skipped: cannot run `taskset` (util-linux): {e}"),
    }
}
