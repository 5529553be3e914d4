//! E11, event: several threads block on an `Event` until another thread sets it,
//! then all of them proceed.
//!
//! Run with `cargo run --example e11_event`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::threading::{current_thread, Event, Thread};

fn main() -> Result<(), threadkit::threading::Error> {
    let start = Instant::now();
    let go = Arc::new(Event::new());

    // Three waiters: each blocks in `wait()` until the event is set.
    let waiters: Vec<Thread> = (1..=3)
        .map(|i| {
            let go = Arc::clone(&go);
            Thread::builder()
                .name(format!("waiter-{i}"))
                .target(move || {
                    let me = current_thread().name();
                    println!("{me}: waiting for the event");
                    let set = go.wait();
                    println!(
                        "{me}: event set = {set}, proceeding after {:.1} s",
                        start.elapsed().as_secs_f64()
                    );
                })
                .build()
        })
        .collect();
    for w in &waiters {
        w.start()?;
    }

    // The setter: waits (at most 5 s) until the three waiters are blocked, pauses
    // a moment so the output is easy to follow, then sets the event once.
    let setter = {
        let go = Arc::clone(&go);
        Thread::builder()
            .name("setter")
            .target(move || {
                let deadline = Instant::now() + Duration::from_secs(5);
                while go.n_waiting() < 3 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(500));
                println!(
                    "setter: {} threads are waiting; setting the event",
                    go.n_waiting()
                );
                go.set();
            })
            .build()
    };
    setter.start()?;

    setter.join()?;
    for w in &waiters {
        w.join()?;
    }
    println!("main: event is set: {}; all threads done", go.is_set());
    Ok(())
}
