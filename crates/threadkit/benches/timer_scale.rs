//! Timer scale figures that criterion does not fit, each against its peer in the same
//! run where there is one:
//! - memory: RSS per pending timer with 1,000,000 pending (goal < 128 bytes, the
//!   Vec of handles included);
//! - lateness: 10,000 timers due at random over 0.5 s, each measured against its own
//!   due instant, threadkit vs tokio (multi-thread runtime, 2 workers): p50, p99, max,
//!   and the most OS threads seen (goals: p99 < 1 ms, max < 5 ms, fewer than 64
//!   threads);
//! - a repeating 10 ms timer over 10 s: how late slot 1,000 fires (goal < 2 ms).
//!
//! Run: `cargo bench --bench timer_scale` (each figure runs in a child process of
//! its own, so RSS and thread counts are not disturbed by the others).

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::threading::Timer;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(which) = args.iter().find(|a| a.starts_with("child-")) {
        match which.as_str() {
            "child-memory" => memory(),
            "child-lateness-threadkit" => lateness_threadkit(),
            "child-lateness-tokio" => lateness_tokio(),
            "child-repeat" => repeat(),
            _ => panic!("unknown {which}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks what there is: nothing criterion knows.
    }
    for child in [
        "child-memory",
        "child-lateness-threadkit",
        "child-lateness-tokio",
        "child-repeat",
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .arg(child)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn os_threads() -> u64 {
    std::fs::read_dir("/proc/self/task").unwrap().count() as u64
}

fn memory() {
    const N: usize = 1_000_000;
    // Warm the service (and its allocations) before the baseline.
    let warm = Timer::new(Duration::from_secs(3600), || {});
    warm.start().unwrap();
    let before = rss_bytes();
    let timers: Vec<Timer> = (0..N)
        .map(|i| {
            let t = Timer::new(Duration::from_secs(3600 + (i % 1000) as u64), || {});
            t.start().unwrap();
            t
        })
        .collect();
    let after = rss_bytes();
    let handles = (N * std::mem::size_of::<Timer>()) as u64;
    println!(
        "memory: {N} pending timers: {:.0} bytes RSS per timer ({:.0} without the Vec of handles); {} OS threads",
        (after - before) as f64 / N as f64,
        (after - before - handles) as f64 / N as f64,
        os_threads()
    );
    for t in &timers {
        t.cancel();
    }
    warm.cancel(); // a pending non-daemon timer would hold the process at exit
}

/// Due offsets in microseconds: 10,000 spread at random over 0.5 s (fixed seed).
fn offsets() -> Vec<u64> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..10_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            10_000 + seed % 500_000
        })
        .collect()
}

fn report(who: &str, mut late: Vec<Duration>, threads: u64) {
    late.sort();
    let q = |p: f64| late[((late.len() as f64 * p) as usize).min(late.len() - 1)];
    println!(
        "lateness {who:<9}: p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  (most OS threads seen: {threads})",
        q(0.50).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        late.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn lateness_threadkit() {
    let offsets = offsets();
    let late = Arc::new(Mutex::new(Vec::with_capacity(offsets.len())));
    let peak = Arc::new(AtomicU64::new(0));
    let mut timers = Vec::with_capacity(offsets.len());
    for &us in &offsets {
        let interval = Duration::from_micros(us);
        let due = Instant::now() + interval;
        let late = late.clone();
        let t = Timer::new(interval, move || {
            let l = Instant::now().saturating_duration_since(due);
            late.lock().unwrap().push(l);
        });
        t.start().unwrap();
        timers.push(t);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(600) {
        peak.fetch_max(os_threads(), Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(5));
    }
    for t in &timers {
        t.join().unwrap();
    }
    let late = late.lock().unwrap().clone();
    report("threadkit", late, peak.load(Ordering::Relaxed));
}

fn lateness_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let offsets = offsets();
    let late = rt.block_on(async {
        let mut handles = Vec::with_capacity(offsets.len());
        for &us in &offsets {
            let due = Instant::now() + Duration::from_micros(us);
            handles.push(tokio::spawn(async move {
                tokio::time::sleep_until(due.into()).await;
                Instant::now().saturating_duration_since(due)
            }));
        }
        let mut late = Vec::with_capacity(handles.len());
        for h in handles {
            late.push(h.await.unwrap());
        }
        late
    });
    report("tokio", late, os_threads());
}

fn repeat() {
    let interval = Duration::from_millis(10);
    let fired = Arc::new(Mutex::new(Vec::with_capacity(1100)));
    let f = fired.clone();
    let t = Timer::repeat(interval, move || f.lock().unwrap().push(Instant::now()));
    let start = Instant::now();
    t.start().unwrap();
    std::thread::sleep(Duration::from_millis(10_050));
    t.cancel();
    t.join().unwrap();
    let fired = fired.lock().unwrap();
    // Slot k is due at start + k * interval; slot 1,000's call is the first at or
    // after its due instant (calls never come early).
    let due = start + interval * 1000;
    let nearest = fired
        .iter()
        .filter(|at| **at >= due)
        .map(|at| at.saturating_duration_since(due))
        .find(|d| *d < interval);
    match nearest {
        Some(late) => println!(
            "repeat 10 ms over 10 s: slot 1000 fired {:.3} ms after its due instant ({} calls)",
            late.as_secs_f64() * 1e3,
            fired.len()
        ),
        None => println!(
            "repeat 10 ms over 10 s: slot 1000 was skipped ({} calls)",
            fired.len()
        ),
    }
}
