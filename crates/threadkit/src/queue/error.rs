//! [`PutError`] and [`GetError`]: why a put or a get did not happen (Python's
//! `queue.Full`, `queue.Empty` and `queue.ShutDown`).

use std::fmt;

/// Why a put did not happen; it gives the item back (Python: `queue.Full`,
/// `queue.ShutDown`).
///
/// # Examples
///
/// ```
/// use threadkit::queue::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.try_put("a").unwrap();
/// let err = q.try_put("b").unwrap_err();
/// assert!(matches!(err, PutError::Full("b")));
/// assert_eq!(err.into_inner(), "b");
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum PutError<T> {
    /// The queue was full (and stayed full until the timeout, for a timed put).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.shutdown(false);
    /// assert_eq!(q.put(7).unwrap_err().into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

// As std's `SendError<T>`: Debug for every T, without showing the item.
impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why a get returned no item (Python: `queue.Empty`, `queue.ShutDown`).
///
/// # Examples
///
/// ```
/// use threadkit::queue::{GetError, Queue};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.try_get(), Err(GetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// The queue was empty (and stayed empty until the timeout, for a timed get).
    Empty,
    /// The queue was shut down and is empty.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}
