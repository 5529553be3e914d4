//! E9: a timer runs its function after a delay; `cancel()` before it fires means it
//! never runs. The seed's 5 s timer cancelled after 2 s, shortened to 500 ms and
//! 200 ms (the same ratio), next to a timer that is left to run.
//!
//! Run: `cargo run --example e09_timer_cancel`

use std::time::{Duration, Instant};
use threadkit::threading::{Error, Timer};

fn main() -> Result<(), Error> {
    let start = Instant::now();
    let runs = Timer::new(Duration::from_millis(500), move || {
        println!("[{:>4} ms] timer A: fired", start.elapsed().as_millis());
    });
    let cancelled = Timer::new(Duration::from_millis(500), move || {
        println!("timer B: fired (never printed)");
    });
    runs.start()?;
    cancelled.start()?;
    println!(
        "[{:>4} ms] started A and B, both due in 500 ms",
        start.elapsed().as_millis()
    );

    std::thread::sleep(Duration::from_millis(200));
    let stopped = cancelled.cancel();
    println!(
        "[{:>4} ms] cancel(B) = {stopped}: B will not run",
        start.elapsed().as_millis()
    );

    runs.join()?;
    cancelled.join()?;
    println!(
        "[{:>4} ms] both timers have ended",
        start.elapsed().as_millis()
    );
    Ok(())
}
