//! E7: `join` with a timeout in a loop: main does its own counting between
//! `join_timeout` calls and learns from the result whether the thread ended.
//!
//! Python: `while t.is_alive(): t.join(0.1); ...`
//!
//! Run: `cargo run --example e07_join_timeout`

use std::time::Duration;
use threadkit::threading::{Error, Thread};

fn main() -> Result<(), Error> {
    let t = Thread::builder()
        .name("sleeper")
        .target(|| {
            std::thread::sleep(Duration::from_millis(350));
            println!("sleeper: done");
        })
        .spawn()?;
    let mut count = 0u32;
    while count < 10_000 {
        count += 1;
        if count % 1_000 == 0 {
            let ended = t.join_timeout(Duration::from_millis(50))?;
            println!("main: counted to {count}; {} ended: {ended}", t.name());
        }
    }
    t.join()?;
    println!("main: done counting; is_alive = {}", t.is_alive());
    Ok(())
}
