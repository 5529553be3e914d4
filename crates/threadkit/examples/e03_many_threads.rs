//! E3: several threads started at once, each with a name and its own arguments.
//! Their output interleaves differently from run to run.
//!
//! Python: `Thread(target=f, name=..., args=(...))` for each.
//!
//! Run: `cargo run --example e03_many_threads`

use std::time::Duration;
use threadkit::threading::{current_thread, Error, Thread};

fn count(label: &'static str, times: u32, pause: Duration) {
    for i in 1..=times {
        println!("{} ({label}): {i}/{times}", current_thread().name());
        std::thread::sleep(pause);
    }
}

fn main() -> Result<(), Error> {
    let jobs = [("fast", 5, 10), ("medium", 4, 15), ("slow", 3, 25)];
    let mut threads = Vec::new();
    for (i, (label, times, ms)) in jobs.into_iter().enumerate() {
        let t = Thread::builder()
            .name(format!("worker-{i}"))
            .target(move || count(label, times, Duration::from_millis(ms)))
            .spawn()?;
        threads.push(t);
    }
    for t in &threads {
        t.join()?;
    }
    println!("main: all {} workers done", threads.len());
    Ok(())
}
