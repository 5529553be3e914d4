//! E6: `join` makes main wait for a daemon thread; without it only the first lines
//! would print before the program ends.
//!
//! Run: `cargo run --example e06_join`

use std::time::Duration;
use threadkit::threading::{Error, Thread};

fn main() -> Result<(), Error> {
    let t = Thread::builder()
        .daemon(true)
        .target(|| {
            for i in 0..10 {
                println!("daemon: {i}");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .spawn()?;
    t.join()?; // comment this out and the daemon is cut off after its first line
    println!("main: the daemon ended (is_alive = {})", t.is_alive());
    Ok(())
}
