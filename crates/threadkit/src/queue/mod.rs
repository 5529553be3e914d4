//! Python's `queue` module: [`Queue`], [`LifoQueue`], [`PriorityQueue`] and
//! [`SimpleQueue`], the hand-off between producer and consumer threads.
//!
//! The first three are one type, [`OrderedQueue`], told apart only by the order
//! its items leave in ([`Fifo`], [`Lifo`], [`Priority`]): all three block while
//! full or empty, count tasks for [`join`](OrderedQueue::join) and shut down as
//! Python 3.13's queues do. [`SimpleQueue`] is an unbounded FIFO without task
//! counting or shutdown. Blocked callers are served in arrival order, and a timed
//! wait ends early when its thread is asked to
//! [`stop`](crate::threading::Thread::stop).
//!
//! ```
//! use threadkit::queue::Queue;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let q = Queue::new(8);
//! let total = std::thread::scope(|s| {
//!     let consumer = s.spawn(|| q.iter().sum::<u64>());
//!     for i in 1..=100 {
//!         q.put(i).expect("not shut down yet");
//!     }
//!     q.shutdown(false);
//!     consumer.join().expect("consumer panicked")
//! });
//! assert_eq!(total, 5050);
//! # Ok(())
//! # }
//! ```

mod error;
mod order;
mod ordered;
mod ring;
mod simple;
mod waiting;

pub use error::{GetError, PutError};
pub use order::{Fifo, Lifo, Order, Priority};
pub use ordered::{Iter, LifoQueue, OrderedQueue, PriorityQueue, Queue};
pub use simple::SimpleQueue;
