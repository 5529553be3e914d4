//! Two named threads take two named locks in opposite orders and deadlock;
//! `deadlocks()` names them, their locks and holders, and the example ends by
//! itself: the acquires are timed and stoppable, and both threads are stopped
//! after the report.
//!
//! Run: `cargo run -p threadkit --example deadlock`

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::threading::{deadlocks, Barrier, Lock, Thread};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accounts = Arc::new(Lock::new().with_name("accounts"));
    let audit = Arc::new(Lock::new().with_name("audit"));
    let both = Arc::new(Barrier::new(2));

    let worker = |name: &str, first: &Arc<Lock>, second: &Arc<Lock>| {
        let (first, second, both) = (Arc::clone(first), Arc::clone(second), Arc::clone(&both));
        Thread::builder()
            .name(name)
            .target(move || {
                first.acquire();
                both.wait().expect("barrier");
                // Gives up when stopped (or after a minute).
                if second.acquire_timeout(Duration::from_secs(60)) {
                    second.release().expect("held");
                }
                first.release().expect("held");
            })
            .spawn()
    };
    let transfer = worker("transfer", &accounts, &audit)?;
    let report = worker("report", &audit, &accounts)?;

    let start = Instant::now();
    let found = loop {
        if let Some(d) = deadlocks().into_iter().next() {
            break Some(d);
        }
        if start.elapsed() > Duration::from_secs(10) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    match found {
        Some(d) => print!("{d}"),
        None => println!("no deadlock appeared within 10 s"),
    }
    transfer.stop();
    report.stop();
    transfer.join()?;
    report.join()?;
    Ok(())
}
