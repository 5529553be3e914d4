//! A thread pool as Python's `concurrent.futures.ThreadPoolExecutor`: submit tasks
//! and read their futures back as they complete, map over inputs in order, and
//! cancel a task that has not started yet. Ends by itself.
//!
//! Run with `cargo run --example thread_pool`.

use std::sync::mpsc;
use std::time::Duration;

use threadkit::futures::{as_completed, FutureError, ThreadPoolExecutor};
use threadkit::threading::current_thread;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("fetch")
        .build();

    // submit + as_completed: the slower a "download", the later it is reported.
    let sizes = [300u64, 100, 200];
    let downloads = sizes
        .iter()
        .map(|&ms| {
            pool.submit(move || {
                std::thread::sleep(Duration::from_millis(ms));
                (current_thread().name(), ms * 10)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for done in as_completed(&downloads, Some(Duration::from_secs(30))) {
        let i = done?;
        println!("download {i} ({} ms) finished", sizes[i]);
    }
    for (i, f) in downloads.into_iter().enumerate() {
        let (worker, bytes) = f.result()?;
        println!("download {i}: {bytes} bytes on {worker}");
    }

    // map: results in input order, whatever order the tasks finish in.
    let squares: Vec<u64> = pool
        .map(|n: u64| n * n, 1..=5)?
        .collect::<Result<_, FutureError>>()?;
    println!("squares: {squares:?}");

    // A cancelled future: every worker is busy, so the last task is still queued.
    let (release, gate) = mpsc::channel::<()>();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
    let busy = (0..3)
        .map(|_| {
            let gate = gate.clone();
            pool.submit(move || {
                let _ = gate.lock().map(|g| g.recv_timeout(Duration::from_secs(30)));
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let queued = pool.submit(|| println!("never printed"))?;
    println!("cancel the queued task: {}", queued.cancel());
    println!("queued task result: {:?}", queued.result());
    drop(release);
    for f in busy {
        f.result()?;
    }
    pool.shutdown(true, false);
    println!("pool shut down");
    Ok(())
}
