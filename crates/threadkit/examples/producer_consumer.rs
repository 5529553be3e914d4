//! Producer/consumer: a bounded `Queue` between two named producers and three named
//! consumers. The main thread waits with `join()` until every job is marked done
//! with `task_done()`, then shuts the queue down so the consumers' loops end.
//!
//! Run with `cargo run --example producer_consumer`.

use std::sync::Arc;
use std::time::Duration;

use threadkit::queue::Queue;
use threadkit::threading::{current_thread, Thread};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // At most 4 jobs wait at a time: a fast producer blocks in `put`.
    let jobs: Arc<Queue<(String, u32)>> = Arc::new(Queue::new(4));

    let producers = (1..=2)
        .map(|p| {
            let jobs = Arc::clone(&jobs);
            Thread::builder()
                .name(format!("producer-{p}"))
                .target(move || {
                    let me = current_thread().name();
                    for n in 1..=5 {
                        jobs.put((me.clone(), n)).expect("the queue is open");
                    }
                    println!("{me}: queued 5 jobs");
                })
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;

    let consumers = (1..=3)
        .map(|c| {
            let jobs = Arc::clone(&jobs);
            Thread::builder()
                .name(format!("consumer-{c}"))
                .target(move || {
                    let me = current_thread().name();
                    // Ends when the queue is shut down and empty.
                    for (from, n) in jobs.iter() {
                        std::thread::sleep(Duration::from_millis(10));
                        println!("{me}: job {n} from {from} done");
                        jobs.task_done().expect("one task_done per job");
                    }
                    println!("{me}: queue shut down, leaving");
                })
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;

    for p in &producers {
        p.join()?;
    }
    jobs.join();
    println!("main: all {} jobs done", 2 * 5);
    jobs.shutdown(false);
    for c in &consumers {
        c.join()?;
    }
    Ok(())
}
