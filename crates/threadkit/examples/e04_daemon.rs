//! E4: a daemon thread is cut off when the program ends; a non-daemon thread is
//! waited for (Python's exit rule, which threadkit applies when `main` returns).
//!
//! The daemon thread counts 0..99 slowly and prints only its first numbers; the
//! non-daemon one counts 0..99 and is waited for, so all of them print.
//!
//! Run: `cargo run --example e04_daemon`

use std::time::Duration;
use threadkit::threading::{Error, Thread};

fn count(who: &'static str, pause: Duration) {
    for i in 0..100 {
        println!("{who}: {i}");
        std::thread::sleep(pause);
    }
}

fn main() -> Result<(), Error> {
    let daemon = Thread::builder()
        .name("daemon")
        .daemon(true)
        .target(|| count("daemon", Duration::from_millis(50)))
        .build();
    let worker = Thread::builder()
        .name("worker")
        .target(|| count("worker", Duration::from_millis(5)))
        .build();
    daemon.start()?;
    worker.start()?;
    println!("main: returning; the process waits for `worker`, not for `daemon`");
    Ok(())
}
