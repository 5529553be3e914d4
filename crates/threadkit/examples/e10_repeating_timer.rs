//! E10: a repeating timer. The seed's Python re-arms a new `Timer` from inside its
//! function and runs until the program is killed; `Timer::repeat` ticks at a fixed
//! rate (anchored to the start, so it does not drift) and here cancels itself from
//! inside its function after five ticks.
//!
//! Run: `cargo run --example e10_repeating_timer`

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use threadkit::threading::{current_thread, Error, Timer};

fn main() -> Result<(), Error> {
    let start = Instant::now();
    let me: Arc<OnceLock<Timer>> = Arc::new(OnceLock::new());
    let handle = me.clone();
    let mut tick = 0;
    let timer = Timer::repeat(Duration::from_millis(200), move || {
        tick += 1;
        println!(
            "[{:>4} ms] tick {tick} on {}",
            start.elapsed().as_millis(),
            current_thread().name()
        );
        if tick == 5 {
            let stopped = handle.get().expect("set before start").cancel();
            println!("           cancelled from inside: {stopped}");
        }
    });
    let timer = me.get_or_init(|| timer);
    timer.start()?;
    timer.join()?;
    println!(
        "[{:>4} ms] repeating timer ended",
        start.elapsed().as_millis()
    );
    Ok(())
}
