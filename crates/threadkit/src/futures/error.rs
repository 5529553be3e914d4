//! [`FutureError`] and [`TimedOut`]: how a [`Future`](super::Future) can fail to give
//! a value, and the end of a timed [`as_completed`](super::as_completed).

use std::fmt;

/// Why a [`Future`](super::Future) holds no value.
///
/// Each variant stands for the exception CPython's `Future.result()` raises.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{FutureError, ThreadPoolExecutor};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(1);
/// let f = pool.submit(|| -> u32 { panic!("boom") })?;
/// assert_eq!(f.result(), Err(FutureError::Panicked("boom".into())));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before it ran (Python: `CancelledError`).
    Cancelled,
    /// The task panicked; the panic message (Python: the task's exception).
    Panicked(String),
    /// The result was not ready in time (Python: `TimeoutError`).
    TimedOut,
    /// The pool broke (its initializer panicked) before the task ran (Python:
    /// `BrokenThreadPool`).
    Broken,
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("the future was cancelled"),
            FutureError::Panicked(m) => write!(f, "the task panicked: {m}"),
            FutureError::TimedOut => f.write_str("the result was not ready in time"),
            FutureError::Broken => {
                f.write_str("a thread initializer failed, the thread pool is not usable anymore")
            }
        }
    }
}

impl std::error::Error for FutureError {}

/// The timeout of [`as_completed`](super::as_completed) passed before every future
/// was done (Python: `TimeoutError`).
///
/// # Examples
///
/// ```
/// use threadkit::futures::TimedOut;
///
/// assert_eq!(TimedOut.to_string(), "futures unfinished when the timeout passed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("futures unfinished when the timeout passed")
    }
}

impl std::error::Error for TimedOut {}
