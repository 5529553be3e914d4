//! E5: with a sleep in the main thread, a daemon thread runs only as long as the
//! program does: its long loop is cut off when `main` returns.
//!
//! Run: `cargo run --example e05_daemon_sleep`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use threadkit::threading::{Error, Thread};

fn main() -> Result<(), Error> {
    let progress = Arc::new(AtomicU64::new(0));
    let p = progress.clone();
    Thread::builder()
        .name("long-loop")
        .daemon(true)
        .target(move || {
            for i in 0..20_000_000_000u64 {
                p.store(i, Ordering::Relaxed);
                if i % 50_000_000 == 0 {
                    println!("daemon: at {i}");
                }
            }
            println!("daemon: finished (never printed)");
        })
        .spawn()?;
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "main: sleeping done after 1 s; the daemon reached {} of 20000000000 and is cut off",
        progress.load(Ordering::Relaxed)
    );
    Ok(())
}
