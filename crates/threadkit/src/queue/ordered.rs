//! [`OrderedQueue`]: the one queue implementation behind [`Queue`], [`LifoQueue`]
//! and [`PriorityQueue`], and its iterator [`Iter`].
//!
//! One `Mutex` guards the items (but see the ring below) and three wait queues
//! (getters, putters, joiners) of [`Waiter`]s. Blocked callers are served in arrival order by
//! *grants*: a put that finds a getter queued takes it off the queue and reserves
//! one stored item for it (`reserved_items`), so a later caller cannot take that
//! item first; a get that frees a slot in a full queue grants it to the oldest
//! putter (`reserved_slots`) the same way. A woken waiter gives its grant back
//! before it looks at the state, then takes what is free. The invariant, restored
//! at the end of every critical section by `grant`: no getter is queued while an
//! unreserved item is stored, no putter while an unreserved slot is free.
//!
//! A bounded FIFO (up to `RING_MAX` slots) keeps its items in a [`Ring`] instead of
//! `State::store`, and a put or get that finds nobody queued uses it without the
//! lock: one compare-and-swap on the ring's tail (head) and the slot's spin lock.
//! The lock is taken only to queue, to serve callers queued on the other side
//! (a lock-free call reads the ring's `waiting` bits after its claim), or when a
//! gate is closed: `settle` keeps the head gated while getters are queued or items
//! promised, the tail while putters are queued or slots promised, so a lock-free
//! call never overtakes a queued one nor takes what was granted. Under the lock a
//! caller closes its end (`close`) so its counts hold, and takes an item (a slot)
//! only when nobody is queued before it. LIFO, priority and unbounded queues, and
//! every caller that waits, run the same locked code; the ring is only a store
//! that can also be used without the lock. `unfinished_tasks` is items ever stored
//! (the ring's tail counts them) less `done`.
//!
//! A caller that finds the queue empty (or full) with nobody queued before it spins
//! a few microseconds first (`waiting::spin`): with a ring it retries the ring (and
//! the lock, when the ring's end is closed only to guard a grant and more is
//! free); without, it watches the `len` hint and takes the lock only when it may
//! succeed.
//! A consumer that empties the queue usually finds the next item without parking,
//! and its producer saves a wake-up. A caller that finds others queued queues
//! behind them at once, so it never overtakes them.
//!
//! No user code runs under the lock except `T::cmp` in [`Priority`]'s store; a
//! panic there is caught, the invariant restored, the lock released and the panic
//! resumed in the caller. Items a shutdown drops are dropped after the unlock.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{GetError, PutError};
use super::order::{Fifo, Lifo, Order, Priority};
use super::ring::{self, End, Padded, Ring};
use super::waiting::{self, After};
use crate::sync::{lock, AtomicUsize, Mutex, MutexGuard, Ordering, Waiter, Wake};
use crate::threading::timeout;
use crate::threading::wait::{Object, WaitKind};
use crate::threading::Error;

mod locked;
use locked::State;

/// Python's `queue.Queue`: first in, first out.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(2);
/// q.put("a")?;
/// q.put("b")?;
/// assert!(q.full());
/// assert_eq!(q.get()?, "a");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Queue<T> = OrderedQueue<T, Fifo<T>>;

/// Python's `queue.LifoQueue`: last in, first out.
///
/// # Examples
///
/// ```
/// use threadkit::queue::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// q.put(1)?;
/// q.put(2)?;
/// assert_eq!(q.get()?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type LifoQueue<T> = OrderedQueue<T, Lifo<T>>;

/// Python's `queue.PriorityQueue`: smallest first (as `heapq`), equal items in
/// insertion order.
///
/// # Examples
///
/// ```
/// use threadkit::queue::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.put((2, "later"))?;
/// q.put((1, "first"))?;
/// assert_eq!(q.get()?, (1, "first"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type PriorityQueue<T> = OrderedQueue<T, Priority<T>>;

/// A blocking, optionally bounded queue whose order is `O` ([`Fifo`], [`Lifo`] or
/// [`Priority`]); use it through [`Queue`], [`LifoQueue`] and [`PriorityQueue`].
///
/// `Send + Sync` for `T: Send`: share it with `Arc` or a scope.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         while let Ok(job) = q.get() {
///             println!("job {job}");
///             q.task_done().expect("one task_done per get");
///         }
///     });
///     for job in 0..3 {
///         q.put(job).expect("not shut down");
///     }
///     q.join(); // every job was processed
///     q.shutdown(false);
/// });
/// ```
pub struct OrderedQueue<T, O: Order<T>> {
    // The store of a bounded FIFO (`O::RING`, up to `RING_MAX` slots), which puts
    // and gets use without the lock while nobody waits; `None`: the store is
    // `State::store`, used under the lock only.
    ring: Option<Ring<T>>,
    // Python's `unfinished_tasks` is `pushed() - done`: items ever stored (a
    // ring's tail counts them, so a lock-free put pays no count of its own;
    // without a ring, `pushed`) less those marked done or dropped by an immediate
    // shutdown. `done` is on its own cache line, away from the ring's.
    done: Padded<AtomicUsize>,
    pushed: AtomicUsize,
    state: Mutex<State<T, O>>,
    // The store's length as last published (`publish_len`), read without the lock
    // by spinning callers to decide when to try the lock again; only a hint (not
    // used with a ring, whose spinners try the ring itself).
    len: AtomicUsize,
    // 0: unbounded.
    maxsize: usize,
    // Its name or short id, for the wait records of threads blocked on it.
    meta: Arc<Object>,
}

/// The queue's lock held.
type Guard<'a, T, O> = MutexGuard<'a, State<T, O>>;

/// The largest bound a ring is made for: it allocates all its slots at once.
const RING_MAX: usize = 1 << 16;

impl<T, O: Order<T>> OrderedQueue<T, O> {
    /// A queue holding at most `maxsize` items (0: unbounded). Python:
    /// `Queue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<String> = Queue::new(10);
    /// assert_eq!(q.maxsize(), 10);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        OrderedQueue {
            ring: (O::RING && maxsize > 0 && maxsize <= RING_MAX).then(|| Ring::new(maxsize)),
            done: Padded(AtomicUsize::new(0)),
            pushed: AtomicUsize::new(0),
            state: Mutex::new(State {
                store: O::default(),
                shutdown: false,
                reserved_items: 0,
                reserved_slots: 0,
                getters: VecDeque::new(),
                putters: VecDeque::new(),
                joiners: Vec::new(),
                head_gated: false,
                tail_gated: false,
                waiting: 0,
                _item: std::marker::PhantomData,
            }),
            len: AtomicUsize::new(0),
            maxsize,
            meta: Object::new(WaitKind::QueueGet),
        }
    }

    /// The same queue under `name`, shown in the dumps of threads blocked on it
    /// (unnamed, it is shown as `Queue#7`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let jobs = Queue::<u32>::new(8).with_name("jobs");
    /// assert_eq!(jobs.name().as_deref(), Some("jobs"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        Object::named(&mut self.meta, name.into());
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// assert_eq!(Queue::<u32>::new(0).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        self.meta.name()
    }

    /// The bound given to [`new`](Self::new) (0: unbounded). Python: `maxsize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// assert_eq!(Queue::<u8>::new(0).maxsize(), 0);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// How many items the queue holds now (a snapshot). Python: `qsize()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// assert_eq!(q.qsize(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn qsize(&self) -> usize {
        match &self.ring {
            Some(r) => r.snapshot(),
            None => lock(&self.state).store.len(),
        }
    }

    /// Whether the queue holds no item now (a snapshot). Python: `empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// assert!(Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue is bounded and holds `maxsize` items now (a snapshot).
    /// Python: `full()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(1)?;
    /// assert!(q.full());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// Puts `item`, blocking while the queue is full. Not interrupted by a stop
    /// request. Python: `put(item)`.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item when the queue is (or, while this call
    /// waits, becomes) shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(1)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_inner(item, None, false, true)
    }

    /// Puts `item`, waiting at most `timeout` (measured from the call) while the
    /// queue is full; a stop request for the calling thread ends the wait early.
    /// Python: `put(item, timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] with the item when no slot became free in time (or a
    /// stop was requested); [`PutError::ShutDown`] when the queue is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::{PutError, Queue};
    /// use std::time::Duration;
    ///
    /// let q = Queue::new(1);
    /// q.put(1)?;
    /// let err = q.put_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert!(matches!(err, PutError::Full(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_inner(item, timeout::deadline(timeout), true, true)
    }

    /// Puts `item` only if a slot is free now; never blocks. Python:
    /// `put_nowait(item)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// assert!(q.try_put(1).is_ok());
    /// assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_inner(item, None, false, false)
    }

    fn put_inner(
        &self,
        item: T,
        deadline: Option<Instant>,
        stoppable: bool,
        blocking: bool,
    ) -> Result<(), PutError<T>> {
        let item = match self.put_without_lock(item, blocking) {
            Ok(()) => return Ok(()),
            Err(item) => item,
        };
        let mut after = After::new();
        let mut st = lock(&self.state);
        if self.ring.is_none()
            && blocking
            && !st.shutdown
            && !self.has_free_slot(&st)
            && st.putters.is_empty()
            && waiting::spinning_pays()
        {
            drop(st);
            st = self.spin_then_lock(
                |len| len < self.maxsize,
                |q, st| st.shutdown || q.has_free_slot(st) || !st.putters.is_empty(),
            );
        }
        let (mut st, result) = self.put_locked(st, &mut after, item, deadline, stoppable, blocking);
        self.grant(&mut st, &mut after);
        result
    }

    /// The lock-free put of a ring: when its tail is open and a slot free (then,
    /// blocking, after a short spin). Gives the item back otherwise.
    fn put_without_lock(&self, item: T, blocking: bool) -> Result<(), T> {
        let Some(ring) = &self.ring else {
            return Err(item);
        };
        let item = match self.ring_put(ring, item) {
            Ok(()) => return Ok(()),
            Err(item) => item,
        };
        // Spin while nobody is queued to put before us (a closed tail alone may
        // only guard a slot granted to a putter now waking: the others are free).
        if !(blocking && ring.waiting() & ring::PUTTERS == 0 && waiting::spinning_pays()) {
            return Err(item);
        }
        let mut held = Some(item);
        let put = waiting::spin(|| {
            let item = held.take()?;
            let item = match self.ring_put(ring, item) {
                Ok(()) => return Some(true),
                Err(item) => item,
            };
            if ring.waiting() & ring::PUTTERS != 0 || ring.is_shut() {
                held = Some(item);
                return Some(false);
            }
            if ring.is_open(End::Tail) || ring.len() >= self.maxsize {
                held = Some(item);
                return None;
            }
            // Gated for a grant only, with a slot free: try it under the lock.
            let mut after = After::new();
            let st = lock(&self.state);
            let (mut st, put) = self.put_locked(st, &mut after, item, None, false, false);
            self.grant(&mut st, &mut after);
            match put {
                Ok(()) => Some(true),
                Err(e) => {
                    held = Some(e.into_inner());
                    None
                }
            }
        });
        match (put, held) {
            (Some(true), _) => Ok(()),
            (_, Some(item)) => Err(item),
            (_, None) => unreachable!("a failed put gives its item back"),
        }
    }

    /// One lock-free put; serves queued getters (under the lock) if it sees any.
    fn ring_put(&self, ring: &Ring<T>, item: T) -> Result<(), T> {
        ring.try_push(item)?;
        if ring.waiting() & ring::GETTERS != 0 {
            let mut after = After::new();
            let mut st = lock(&self.state);
            self.grant(&mut st, &mut after);
        }
        Ok(())
    }

    /// Spins with the lock released until `ready` holds under the lock, trying the
    /// lock only when `hint` says the store's length may allow it; returns the lock
    /// held either way (the caller checks its state again).
    fn spin_then_lock(
        &self,
        hint: impl Fn(usize) -> bool,
        ready: impl Fn(&Self, &State<T, O>) -> bool,
    ) -> Guard<'_, T, O> {
        waiting::spin(|| {
            // Relaxed: only a hint; `ready` decides under the lock.
            if !hint(self.len.load(Ordering::Relaxed)) {
                return None;
            }
            let st = lock(&self.state);
            ready(self, &st).then_some(st)
        })
        .unwrap_or_else(|| lock(&self.state))
    }

    /// Publishes the store's length for spinning callers (under the lock), only
    /// where it is near empty or near full: spinners ask only "any item?" and "any
    /// slot?", and in between the value last published answers both rightly, so
    /// the cache line is not written on every put and get.
    fn publish_len(&self, st: &State<T, O>) {
        debug_assert!(self.ring.is_none());
        let n = st.store.len();
        if n <= 1 || (self.maxsize > 0 && n + 1 >= self.maxsize) {
            // Relaxed: a hint; whoever acts on it takes the lock first.
            self.len.store(n, Ordering::Relaxed);
        }
    }

    /// Takes the next item, blocking while the queue is empty. Not interrupted by a
    /// stop request. Python: `get()`.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] when the queue is shut down and empty (at the call or
    /// while this call waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.put('x')?;
    /// assert_eq!(q.get()?, 'x');
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.get_inner(None, false, true)
    }

    /// Takes the next item, waiting at most `timeout` (measured from the call)
    /// while the queue is empty; a stop request for the calling thread ends the
    /// wait early. Python: `get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when no item came in time (or a stop was requested);
    /// [`GetError::ShutDown`] when the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::{GetError, Queue};
    /// use std::time::Duration;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// assert_eq!(q.get_timeout(Duration::from_millis(10)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_inner(timeout::deadline(timeout), true, true)
    }

    /// Takes the next item only if one is there now; never blocks. Python:
    /// `get_nowait()`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::ShutDown`] when shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::{GetError, Queue};
    ///
    /// let q = Queue::new(0);
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// q.put(5)?;
    /// assert_eq!(q.try_get(), Ok(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_inner(None, false, false)
    }

    fn get_inner(
        &self,
        deadline: Option<Instant>,
        stoppable: bool,
        blocking: bool,
    ) -> Result<T, GetError> {
        if let Some(item) = self.get_without_lock(blocking) {
            return Ok(item);
        }
        let mut after = After::new();
        let mut st = lock(&self.state);
        if self.ring.is_none()
            && blocking
            && !st.shutdown
            && self.free_items(&st) == 0
            && st.getters.is_empty()
            && waiting::spinning_pays()
        {
            drop(st);
            st = self.spin_then_lock(
                |len| len > 0,
                |q, st| st.shutdown || q.free_items(st) > 0 || !st.getters.is_empty(),
            );
        }
        let (mut st, result) = self.get_locked(st, &mut after, deadline, stoppable, blocking);
        self.grant(&mut st, &mut after);
        result
    }

    /// The lock-free get of a ring: when its head is open and an item stored
    /// (then, blocking, after a short spin).
    fn get_without_lock(&self, blocking: bool) -> Option<T> {
        let ring = self.ring.as_ref()?;
        if let Some(item) = self.ring_get(ring) {
            return Some(item);
        }
        // Spin while nobody is queued to get before us (a closed head alone may
        // only guard an item granted to a getter now waking: the others are free).
        if !(blocking && ring.waiting() & ring::GETTERS == 0 && waiting::spinning_pays()) {
            return None;
        }
        waiting::spin(|| {
            if let Some(item) = self.ring_get(ring) {
                return Some(Some(item));
            }
            if ring.waiting() & ring::GETTERS != 0 {
                return Some(None);
            }
            if ring.is_open(End::Head) || ring.len() == 0 {
                return None;
            }
            // Gated for a grant only, with items stored: try them under the lock.
            let mut after = After::new();
            let st = lock(&self.state);
            let (mut st, got) = self.get_locked(st, &mut after, None, false, false);
            self.grant(&mut st, &mut after);
            got.ok().map(Some)
        })
        .flatten()
    }

    /// One lock-free get; serves queued putters (under the lock) if it sees any.
    fn ring_get(&self, ring: &Ring<T>) -> Option<T> {
        let item = ring.try_pop()?;
        if ring.waiting() & ring::PUTTERS != 0 {
            let mut after = After::new();
            let mut st = lock(&self.state);
            self.grant(&mut st, &mut after);
        }
        Some(item)
    }

    /// Marks one item taken by a get as processed. Python: `task_done()`.
    ///
    /// When the count of unfinished tasks reaches 0, every [`join`](Self::join)
    /// returns.
    ///
    /// # Errors
    ///
    /// [`Error::TaskDoneTooOften`] when called more often than items were put.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    /// use threadkit::threading::Error;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// q.get()?;
    /// q.task_done()?;
    /// assert!(matches!(q.task_done(), Err(Error::TaskDoneTooOften)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        let mut done = self.done.load(Ordering::Acquire);
        loop {
            if self.pushed() <= done {
                return Err(Error::TaskDoneTooOften);
            }
            // AcqRel: a join that sees the count reach `pushed()` sees the work
            // of every task_done before.
            match self.done.compare_exchange_weak(
                done,
                done + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => done = now,
            }
        }
        if self.pushed() == done + 1 {
            // The joiners checked the count under the lock: taking it orders us.
            let mut after = After::<T>::new();
            after.joiners.append(&mut lock(&self.state).joiners);
        }
        Ok(())
    }

    /// How many items were put and not yet marked done. Python:
    /// `unfinished_tasks`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        // `done` first: `pushed()` only grows, and never trails it.
        let done = self.done.load(Ordering::Acquire);
        self.pushed().saturating_sub(done)
    }

    /// How many items were ever stored.
    fn pushed(&self) -> usize {
        match &self.ring {
            Some(ring) => ring.pushed(),
            None => self.pushed.load(Ordering::Acquire),
        }
    }

    /// How many threads are blocked in a put, a get or a join on this queue now (a
    /// snapshot), as the `threading` primitives' `n_waiting()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// assert_eq!(Queue::<u8>::new(0).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let st = lock(&self.state);
        st.getters.len() + st.putters.len() + st.joiners.len()
    }

    /// Blocks until every item put has been marked done with
    /// [`task_done`](Self::task_done). Not interrupted by a stop request. Python:
    /// `join()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// q.join(); // nothing was put: returns at once
    /// ```
    pub fn join(&self) {
        self.join_inner(None, false);
    }

    /// As [`join`](Self::join), waiting at most `timeout`; a stop request ends the
    /// wait early. Returns `true` when every task was done in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    /// use std::time::Duration;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// assert!(!q.join_timeout(Duration::from_millis(10)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_inner(timeout::deadline(timeout), true)
    }

    fn join_inner(&self, deadline: Option<Instant>, stoppable: bool) -> bool {
        let me = {
            let mut st = lock(&self.state);
            if self.unfinished_tasks() == 0 {
                return true;
            }
            let me = Waiter::new();
            if stoppable && me.is_stopped() {
                return false;
            }
            st.joiners.push(Arc::clone(&me));
            me
        };
        // A join waits on the tasks, not on a put or a get: it has no wait kind.
        if me.wait(deadline, stoppable) == Wake::Notified {
            return true;
        }
        let mut st = lock(&self.state);
        match st.joiners.iter().position(|w| Arc::ptr_eq(w, &me)) {
            Some(i) => {
                st.joiners.swap_remove(i);
                false
            }
            // Woken meanwhile: every task was done.
            None => true,
        }
    }

    /// Shuts the queue down (Python 3.13's `shutdown(immediate)`): later puts fail
    /// with [`PutError::ShutDown`], gets take what is left and then fail with
    /// [`GetError::ShutDown`], and every blocked caller wakes. With `immediate`, the
    /// items left are dropped (after the queue's lock is released) and counted done
    /// for [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::{GetError, Queue};
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// q.shutdown(false);
    /// assert_eq!(q.get(), Ok(1));
    /// assert_eq!(q.get(), Err(GetError::ShutDown));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut after = After::new();
        let mut st = lock(&self.state);
        st.shutdown = true;
        if let Some(ring) = &self.ring {
            ring.shut();
        }
        if immediate {
            // Every stored item goes, reserved ones too: their getters then find the
            // queue empty and shut down.
            let left: Vec<T> = match &self.ring {
                Some(ring) => {
                    // Lock-free puts claimed before `shut` are waited for.
                    self.close(&mut st, End::Head);
                    std::iter::from_fn(|| ring.pop_locked()).collect()
                }
                None => {
                    let (guard, left) = State::guarded(st, self, &mut after, |s| {
                        let mut left = Vec::with_capacity(s.len());
                        while let Some(item) = s.pop() {
                            left.push(item);
                        }
                        left
                    });
                    st = guard;
                    self.publish_len(&st);
                    left
                }
            };
            // Counted done (AcqRel, as a task_done).
            self.done.fetch_add(left.len(), Ordering::AcqRel);
            if self.unfinished_tasks() == 0 {
                after.joiners.append(&mut st.joiners);
            }
            after.dropped = left;
        }
        let st = &mut *st;
        for entry in st.getters.drain(..).chain(st.putters.drain(..)) {
            after.wake(entry);
        }
        self.settle(st);
    }

    /// Whether [`shutdown`](Self::shutdown) was called. Python 3.13: `is_shutdown`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// q.shutdown(true);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        lock(&self.state).shutdown
    }

    /// An iterator of items taken with [`get`](Self::get), until the queue is shut
    /// down and empty: Python's worker loop `while True: item = q.get()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// q.put(2)?;
    /// q.shutdown(false);
    /// assert_eq!(q.iter().collect::<Vec<_>>(), [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T, O> {
        Iter { queue: self }
    }
}

impl<T, O: Order<T>> fmt::Debug for OrderedQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("OrderedQueue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &self.stored(&st))
            .field("unfinished_tasks", &self.unfinished_tasks())
            .field("is_shutdown", &st.shutdown)
            .field("getters", &st.getters.len())
            .field("putters", &st.putters.len())
            .finish()
    }
}

/// The iterator of [`OrderedQueue::iter`]: blocking gets until the queue is shut
/// down and empty.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// q.put("job")?;
/// q.shutdown(false);
/// for job in &q {
///     assert_eq!(job, "job");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Iter<'a, T, O: Order<T>> {
    queue: &'a OrderedQueue<T, O>,
}

impl<T, O: Order<T>> Iterator for Iter<'_, T, O> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        // A blocking get fails only when shut down and empty.
        self.queue.get().ok()
    }
}

impl<T, O: Order<T>> fmt::Debug for Iter<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("queue", self.queue).finish()
    }
}

impl<'a, T, O: Order<T>> IntoIterator for &'a OrderedQueue<T, O> {
    type Item = T;
    type IntoIter = Iter<'a, T, O>;

    fn into_iter(self) -> Iter<'a, T, O> {
        self.iter()
    }
}

#[cfg(not(loom))]
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Queue<std::cell::Cell<u8>>>();
    send_sync::<PriorityQueue<u8>>();
    send_sync::<LifoQueue<u8>>();
};
