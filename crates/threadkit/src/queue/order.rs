//! The orders an [`OrderedQueue`](super::OrderedQueue) can keep: [`Fifo`], [`Lifo`]
//! and [`Priority`]. They are the only difference between `Queue`, `LifoQueue`
//! and `PriorityQueue`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

/// An order an [`OrderedQueue`](super::OrderedQueue) keeps its items in: one of
/// [`Fifo`], [`Lifo`] or [`Priority`] (sealed: no other types implement it).
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Lifo, OrderedQueue};
///
/// let q: OrderedQueue<u8, Lifo<u8>> = OrderedQueue::new(0);
/// q.try_put(1).unwrap();
/// q.try_put(2).unwrap();
/// assert_eq!(q.try_get(), Ok(2));
/// ```
pub trait Order<T>: sealed::Store<T> {}

pub(crate) mod sealed {
    /// The item store behind an order. Only the queue calls it, under its lock.
    pub trait Store<T>: Default {
        /// Adds an item (for [`Priority`](super::Priority), may run `T::cmp`).
        fn push(&mut self, item: T);
        /// Takes the next item out (for [`Priority`](super::Priority), may run
        /// `T::cmp`).
        fn pop(&mut self) -> Option<T>;
        /// How many items are stored.
        fn len(&self) -> usize;
        /// Whether a bounded queue of this order keeps its items in a
        /// `Ring` instead (first in, first out only), which puts and gets can use
        /// without the queue's lock.
        const RING: bool = false;
    }
}

/// First in, first out: the order of [`Queue`](super::Queue).
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// q.try_put(1).unwrap();
/// q.try_put(2).unwrap();
/// assert_eq!(q.try_get(), Ok(1));
/// ```
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: the order of [`LifoQueue`](super::LifoQueue).
///
/// # Examples
///
/// ```
/// use threadkit::queue::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// q.try_put(1).unwrap();
/// q.try_put(2).unwrap();
/// assert_eq!(q.try_get(), Ok(2));
/// ```
pub struct Lifo<T>(Vec<T>);

/// Smallest first, equal items in insertion order: the order of
/// [`PriorityQueue`](super::PriorityQueue) (Python's `heapq`).
///
/// # Examples
///
/// ```
/// use threadkit::queue::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.try_put(3).unwrap();
/// q.try_put(1).unwrap();
/// assert_eq!(q.try_get(), Ok(1));
/// ```
pub struct Priority<T: Ord> {
    heap: BinaryHeap<Entry<T>>,
    // The insertion number of the next item: it orders equal items.
    next_seq: u64,
}

// Derived `Default` would ask `T: Default`.
impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> sealed::Store<T> for Fifo<T> {
    const RING: bool = true;
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> sealed::Store<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> sealed::Store<T> for Priority<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        // If `T::cmp` panics, `BinaryHeap` keeps the item (its sift fills the hole).
        self.heap.push(Entry { item, seq });
    }
    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|e| e.item)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

impl<T> Order<T> for Fifo<T> {}
impl<T> Order<T> for Lifo<T> {}
impl<T: Ord> Order<T> for Priority<T> {}

macro_rules! debug_as_len {
    ($($ty:ident $(: $bound:ident)?),*) => {$(
        impl<T $(: $bound)?> fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                use sealed::Store;
                f.debug_struct(stringify!($ty)).field("len", &self.len()).finish()
            }
        }
    )*};
}
debug_as_len!(Fifo, Lifo, Priority: Ord);

/// A heap entry: `BinaryHeap` is a max-heap, so the order is reversed to put the
/// smallest item, and among equals the oldest, on top.
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .item
            .cmp(&self.item)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}
