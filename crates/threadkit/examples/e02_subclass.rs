//! E2: Python's `Thread` subclass that overrides `run()`, as a type implementing
//! `Run`; the thread hands the value back after it ended, so the result stored in
//! `self` can be read after `join()`.
//!
//! Run: `cargo run --example e02_subclass`

use threadkit::threading::{current_thread, Error, Run, Thread};

/// Counts the primes below `limit`, like a Python subclass storing its result in self.
struct PrimeCounter {
    limit: u32,
    found: usize,
}

impl Run for PrimeCounter {
    fn run(&mut self) {
        println!(
            "{}: counting primes below {}",
            current_thread().name(),
            self.limit
        );
        self.found = (2..self.limit)
            .filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0))
            .count();
    }
}

fn main() -> Result<(), Error> {
    let t = Thread::from_run(PrimeCounter {
        limit: 10_000,
        found: 0,
    });
    t.start()?;
    t.join()?;
    let counter = t.take_run::<PrimeCounter>().expect("the thread has ended");
    println!("main: {} primes below {}", counter.found, counter.limit);
    Ok(())
}
