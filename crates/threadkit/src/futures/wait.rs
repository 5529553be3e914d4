//! [`wait`] and [`as_completed`]: waiting on several futures at once.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::TimedOut;
use super::future::{block_on_futures, Future};
use crate::sync::Waiter;
use crate::threading::timeout;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use threadkit::futures::{wait, ReturnWhen, ThreadPoolExecutor};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(2);
/// let fs = vec![pool.submit(|| 1)?, pool.submit(|| 2)?];
/// let (done, not_done) = wait(&fs, None, ReturnWhen::AllCompleted);
/// assert_eq!((done.len(), not_done.len()), (2, 0));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any future is done (or cancelled).
    FirstCompleted,
    /// As soon as any future ends with a panic (or a broken pool); when none does,
    /// once all are done.
    FirstException,
    /// Once every future is done.
    AllCompleted,
}

/// Blocks on the futures in `pending` (indices into `fs`) until one of them is
/// done or `deadline` passes (a stop request for the caller ends it early too, when
/// there is a deadline).
fn block_on_any<T>(fs: &[Future<T>], pending: &[usize], deadline: Option<Instant>) {
    let waiter = Waiter::new();
    let mut queued = Vec::with_capacity(pending.len());
    for &i in pending {
        if fs[i].register(&waiter) {
            break;
        }
        queued.push(i);
    }
    if let (true, Some(&first)) = (queued.len() == pending.len(), pending.first()) {
        block_on_futures(&waiter, &fs[first], deadline, deadline.is_some());
    }
    for i in queued {
        fs[i].unregister(&waiter);
    }
}

/// Waits until the futures `fs` meet `return_when` or `timeout` passes (None: no
/// timeout), and returns the indices of those done and of those not done, each in
/// index order. A cancelled future counts as done.
///
/// With a timeout, a stop request for the calling thread ends the wait early.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{wait, ReturnWhen, ThreadPoolExecutor};
/// use std::time::Duration;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let pool = ThreadPoolExecutor::new(2);
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let fs = vec![pool.submit(move || rx.recv().is_ok())?, pool.submit(|| true)?];
/// let (done, not_done) = wait(&fs, Some(Duration::from_secs(60)), ReturnWhen::FirstCompleted);
/// assert_eq!((done, not_done), (vec![1], vec![0]));
/// tx.send(()).unwrap();
/// # Ok(())
/// # }
/// ```
pub fn wait<T>(
    fs: &[Future<T>],
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<usize>, Vec<usize>) {
    let deadline = timeout.and_then(timeout::deadline);
    loop {
        let (mut done, mut not_done) = (Vec::new(), Vec::new());
        let mut exception = false;
        for (i, f) in fs.iter().enumerate() {
            match f.finished() {
                Some((_, failed)) => {
                    exception |= failed;
                    done.push(i);
                }
                None => not_done.push(i),
            }
        }
        let met = not_done.is_empty()
            || match return_when {
                ReturnWhen::FirstCompleted => !done.is_empty(),
                ReturnWhen::FirstException => exception,
                ReturnWhen::AllCompleted => false,
            };
        let out_of_time = deadline.is_some_and(|d| Instant::now() >= d)
            || (timeout.is_some() && crate::threading::stop_requested());
        if met || out_of_time || timeout == Some(Duration::ZERO) {
            return (done, not_done);
        }
        block_on_any(fs, &not_done, deadline);
    }
}

/// Yields the indices of `fs` as the futures finish, in completion order (those
/// done already first, in the order they finished). When `timeout` passes (None:
/// no timeout) before every future is done, it yields one `Err(TimedOut)` and ends.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{as_completed, ThreadPoolExecutor};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = ThreadPoolExecutor::new(4);
/// let fs: Vec<_> = (0..4u64).map(|i| pool.submit(move || i * 10)).collect::<Result<_, _>>()?;
/// let mut seen: Vec<usize> = as_completed(&fs, None).collect::<Result<_, _>>()?;
/// seen.sort();
/// assert_eq!(seen, vec![0, 1, 2, 3]);
/// # Ok(())
/// # }
/// ```
pub fn as_completed<T>(
    fs: &[Future<T>],
    timeout: Option<Duration>,
) -> impl Iterator<Item = Result<usize, TimedOut>> + '_ {
    AsCompleted {
        fs,
        pending: (0..fs.len()).collect(),
        deadline: timeout.map(timeout::deadline),
        ended: false,
    }
}

/// The iterator behind [`as_completed`].
struct AsCompleted<'a, T> {
    fs: &'a [Future<T>],
    /// Indices not yielded yet.
    pending: Vec<usize>,
    /// None: no timeout; Some(None): one too far to reach.
    deadline: Option<Option<Instant>>,
    ended: bool,
}

impl<T> Iterator for AsCompleted<'_, T> {
    type Item = Result<usize, TimedOut>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended || self.pending.is_empty() {
            return None;
        }
        loop {
            let first = self
                .pending
                .iter()
                .enumerate()
                .filter_map(|(at, &i)| self.fs[i].finished().map(|(seq, _)| (seq, at)))
                .min();
            if let Some((_, at)) = first {
                return Some(Ok(self.pending.remove(at)));
            }
            let deadline = self.deadline.flatten();
            let timed_out = deadline.is_some_and(|d| Instant::now() >= d)
                || (self.deadline.is_some() && crate::threading::stop_requested());
            if timed_out {
                self.ended = true;
                return Some(Err(TimedOut));
            }
            block_on_any(self.fs, &self.pending, deadline);
        }
    }
}

impl<T> fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.pending.len())
            .finish()
    }
}
