//! E1: a function passed as the thread's target, then started.
//!
//! Python: `t = threading.Thread(target=work); t.start(); t.join()`.
//!
//! Run: `cargo run --example e01_target`

use threadkit::threading::{current_thread, Error, Thread};

fn work() {
    for i in 0..3 {
        println!("{}: step {i}", current_thread().name());
    }
}

fn main() -> Result<(), Error> {
    let t = Thread::new(work);
    t.start()?;
    t.join()?;
    println!("main: {} finished", t.name());
    Ok(())
}
