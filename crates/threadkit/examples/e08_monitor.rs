//! E8: monitoring many threads: main walks `enumerate()`, skips the main thread,
//! prints a thread dump, and waits for and reports each thread until all have ended.
//!
//! Run: `cargo run --release --example e08_monitor`

use std::time::Duration;
use threadkit::threading::{self, enumerate, main_thread, Error, Thread, ThreadInfo};

fn main() -> Result<(), Error> {
    for i in 0..5u64 {
        Thread::builder()
            .name(format!("job-{i}"))
            .daemon(i % 2 == 1)
            .target(move || std::thread::sleep(Duration::from_millis(100 * (i + 1))))
            .spawn()?;
    }
    println!("{} threads alive:", threading::active_count());
    print!("{}", ThreadInfo::table(&threading::dump()));

    let main = main_thread();
    for t in enumerate() {
        if t == main {
            continue;
        }
        let mut waited = 0;
        while !t.join_timeout(Duration::from_millis(100))? {
            waited += 100;
            println!("  still waiting for {} ({waited} ms)", t.name());
        }
        println!("{} ended (daemon: {})", t.name(), t.is_daemon());
    }
    println!("only {} left", enumerate()[0].name());
    Ok(())
}
