//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, an unbounded FIFO without task
//! counting or shutdown.

use std::fmt;
use std::time::Duration;

use super::ordered::Queue;

/// Python's `queue.SimpleQueue`: an unbounded FIFO whose `put` never blocks and
/// never fails; no `task_done`/`join`, no shutdown.
///
/// It is the same implementation as [`Queue`] (unbounded, never shut down).
///
/// # Examples
///
/// ```
/// use threadkit::queue::SimpleQueue;
///
/// let q = SimpleQueue::new();
/// std::thread::scope(|s| {
///     s.spawn(|| q.put("hello"));
///     assert_eq!(q.get(), "hello");
/// });
/// ```
pub struct SimpleQueue<T> {
    inner: Queue<T>,
}

impl<T> SimpleQueue<T> {
    /// An empty queue. Python: `SimpleQueue()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// assert!(q.empty());
    /// ```
    pub fn new() -> Self {
        SimpleQueue {
            inner: Queue::new(0),
        }
    }

    /// The same queue under `name`, shown in the dumps of threads blocked on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::<u8>::new().with_name("events");
    /// assert_eq!(q.name().as_deref(), Some("events"));
    /// ```
    #[must_use]
    pub fn with_name(self, name: impl Into<String>) -> Self {
        SimpleQueue {
            inner: self.inner.with_name(name),
        }
    }

    /// The name given by [`with_name`](Self::with_name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// assert_eq!(SimpleQueue::<u8>::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.inner.name()
    }

    /// Adds `item`; never blocks. Python: `put(item)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put(1);
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn put(&self, item: T) {
        // Unbounded and never shut down: a put cannot fail.
        if self.inner.try_put(item).is_err() {
            unreachable!("an unbounded queue that is never shut down refused a put");
        }
    }

    /// Takes the oldest item, blocking while the queue is empty. Not interrupted by
    /// a stop request. Python: `get()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put('a');
    /// assert_eq!(q.get(), 'a');
    /// ```
    pub fn get(&self) -> T {
        match self.inner.get() {
            Ok(item) => item,
            Err(_) => unreachable!("a queue that is never shut down failed a get"),
        }
    }

    /// Takes the oldest item, waiting at most `timeout` while empty (a stop request
    /// ends the wait early); `None` when none came. Python: `get(timeout=t)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    /// use std::time::Duration;
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(10)), None);
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Option<T> {
        self.inner.get_timeout(timeout).ok()
    }

    /// Takes the oldest item if there is one now; never blocks. Python:
    /// `get_nowait()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// assert_eq!(q.try_get(), None);
    /// q.put(3);
    /// assert_eq!(q.try_get(), Some(3));
    /// ```
    pub fn try_get(&self) -> Option<T> {
        self.inner.try_get().ok()
    }

    /// How many items the queue holds now (a snapshot). Python: `qsize()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q = SimpleQueue::new();
    /// q.put(());
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.inner.qsize()
    }

    /// Whether the queue holds no item now (a snapshot). Python: `empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// assert!(SimpleQueue::<u8>::new().empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.inner.empty()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}
