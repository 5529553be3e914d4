//! What seeing inside costs: `deadlocks()` over 1,000 threads of which 100 are
//! blocked on locks (goal < 1 ms), and a `/threads.json` refresh of the live page
//! with those 1,000 threads, over HTTP on 127.0.0.1 (goal < 5 ms). `dump_all()`
//! is measured beside them as the floor both build on.
//!
//! Run: `cargo bench -p threadkit --bench seeing -- --warm-up-time 1 --measurement-time 2`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use threadkit::monitor::Monitor;
use threadkit::threading::{deadlocks, dump_all, Lock, Thread};

const THREADS: usize = 1000;
const BLOCKED: usize = 100;

/// 1,000 threadkit threads: 100 hold a lock each, 100 wait for those locks, the
/// rest wait on a std channel (no threadkit wait). Dropping the sender ends them.
fn crowd() -> (mpsc::Sender<()>, Vec<Thread>, Vec<Arc<Lock>>) {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let locks: Vec<Arc<Lock>> = (0..BLOCKED).map(|_| Arc::new(Lock::new())).collect();
    let mut threads = Vec::new();
    for i in 0..THREADS - BLOCKED {
        let rx = Arc::clone(&rx);
        let held = locks.get(i).cloned();
        threads.push(
            Thread::builder()
                .name(format!("idle-{i}"))
                .daemon(true)
                .target(move || {
                    if let Some(l) = &held {
                        l.acquire();
                    }
                    // Blocks until the sender is dropped (recv fails).
                    let _ = rx.lock().map(|r| r.recv());
                    if let Some(l) = held {
                        let _ = l.release();
                    }
                })
                .spawn()
                .expect("spawn"),
        );
    }
    while locks.iter().any(|l| !l.locked()) {
        std::thread::yield_now();
    }
    for (i, l) in locks.iter().enumerate() {
        let l = Arc::clone(l);
        threads.push(
            Thread::builder()
                .name(format!("blocked-{i}"))
                .daemon(true)
                .target(move || {
                    l.acquire();
                    let _ = l.release();
                })
                .spawn()
                .expect("spawn"),
        );
    }
    while locks.iter().map(|l| l.n_waiting()).sum::<usize>() < BLOCKED {
        std::thread::yield_now();
    }
    (tx, threads, locks)
}

fn get(addr: SocketAddr, path: &str) -> usize {
    let mut c = TcpStream::connect(addr).expect("connect");
    write!(c, "GET {path} HTTP/1.1\r\nHost: b\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).expect("read");
    answer.len()
}

fn seeing(c: &mut Criterion) {
    let (tx, threads, locks) = crowd();
    let monitor = Monitor::bind("127.0.0.1:0").expect("bind");
    let addr = monitor.local_addr();
    assert!(deadlocks().is_empty());
    let mut g = c.benchmark_group("seeing inside (1000 threads, 100 blocked)");
    g.bench_function("deadlocks()", |b| b.iter(deadlocks));
    g.bench_function("dump_all()", |b| b.iter(dump_all));
    g.bench_function("GET /threads.json", |b| {
        b.iter(|| get(addr, "/threads.json"))
    });
    g.finish();
    eprintln!("/threads.json: {} bytes", get(addr, "/threads.json"));
    monitor.shutdown();
    drop(tx);
    // The holders release after the channel closes; then the waiters finish.
    for t in threads {
        t.join().expect("join");
    }
    drop(locks);
}

criterion_group!(benches, seeing);
criterion_main!(benches);
