//! Python's `concurrent.futures`, threads only: a [`ThreadPoolExecutor`] runs
//! submitted tasks on worker threads and hands back a [`Future`] for each;
//! [`wait`] and [`as_completed`] wait on several.
//!
//! | Python | threadkit |
//! |---|---|
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::new`], [`ThreadPoolExecutor::builder`] |
//! | `submit(fn)`, `map(fn, items, timeout)` | [`ThreadPoolExecutor::submit`], [`ThreadPoolExecutor::map`], [`ThreadPoolExecutor::map_timeout`] |
//! | `shutdown(wait, cancel_futures)`, `with` | [`ThreadPoolExecutor::shutdown`]; dropping the executor |
//! | `Future.result()`, `exception()`, `cancel()`, `add_done_callback()` | [`Future::result`], [`Future::exception`], [`Future::cancel`], [`Future::add_done_callback`] |
//! | `CancelledError`, `TimeoutError`, `BrokenThreadPool` | [`FutureError`], [`TimedOut`] |
//! | `wait(fs, timeout, return_when)`, `as_completed(fs, timeout)` | [`wait`] with [`ReturnWhen`], [`as_completed`] |
//!
//! [`Future`] is not [`std::future::Future`]: nothing here is async.
//!
//! # Examples
//!
//! ```
//! use threadkit::futures::{as_completed, ThreadPoolExecutor};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = ThreadPoolExecutor::new(4);
//! let fs: Vec<_> = (1..=3u32).map(|n| pool.submit(move || n * n)).collect::<Result<_, _>>()?;
//! let mut order = Vec::new();
//! for i in as_completed(&fs, None) {
//!     order.push(i?); // the index of the next future to finish
//! }
//! assert_eq!(order.len(), 3);
//! # Ok(())
//! # }
//! ```

mod error;
mod executor;
mod future;
mod wait;

pub use error::{FutureError, TimedOut};
pub use executor::{MapResults, ThreadPoolExecutor, ThreadPoolExecutorBuilder};
pub use future::Future;
pub use wait::{as_completed, wait, ReturnWhen};
