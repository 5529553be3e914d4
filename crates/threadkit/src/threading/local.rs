//! [`Local`]: Python's `threading.local`, a value per thread.
//!
//! The values live in each thread's record (`Thread`'s `locals` map, keyed by the
//! `Local`'s id), not in OS thread-local storage: they follow the threadkit thread
//! that runs, and are dropped when that thread ends.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::registry;
use super::thread::{Inner, Thread};
use crate::sync::lock;

/// Ids of `Local`s: unique in the process and never reused, so a value can never be
/// handed to another `Local` than the one that made it.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Stands in a thread's map for a value that is out in use (by `with`/`with_mut`,
/// or being made by `init`), so that a re-entrant access is caught.
struct InUse;

/// A value per thread: each threadkit thread that uses a `Local` gets its own `T`,
/// made by the `init` function on first use and dropped when that thread ends.
/// Python: `threading.local()`.
///
/// The value follows the threadkit [`Thread`] that runs, not the OS thread: a
/// thread threadkit did not start becomes a `Dummy-N` thread on its first use (see
/// [`current_thread`](super::current_thread)), and its values are dropped when its
/// OS thread exits.
///
/// When the `Local` itself is dropped, the values it made in threads that are still
/// alive are dropped with it, on the dropping thread (hence `T: Send`); a thread
/// that is ending at that moment may drop its own value instead, when it ends. A
/// value is never handed to another `Local`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Local, Thread};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let counter = Arc::new(Local::new(|| 0u32));
/// let workers: Vec<Thread> = (0..3)
///     .map(|_| {
///         let counter = counter.clone();
///         Thread::new(move || {
///             for _ in 0..10 {
///                 counter.with_mut(|n| *n += 1);
///             }
///             // Each thread counted its own calls only.
///             assert_eq!(counter.with(|n| *n), 10);
///         })
///     })
///     .collect();
/// for w in &workers {
///     w.start()?;
/// }
/// for w in &workers {
///     w.join()?;
///     assert!(!w.panicked());
/// }
/// # Ok(())
/// # }
/// ```
pub struct Local<T: Send + 'static> {
    id: u64,
    init: Box<dyn Fn() -> T + Send + Sync>,
    /// The threads that made a value (dead ones are pruned now and then): where
    /// `drop` looks for values to drop.
    threads: Mutex<Holders>,
    _values: PhantomData<fn() -> T>,
}

/// The threads holding a value of one `Local`.
struct Holders {
    threads: Vec<Weak<Inner>>,
    /// Prune dead entries when the list reaches this length.
    prune_at: usize,
}

impl<T: Send + 'static> Local<T> {
    /// A `Local` whose value, in each thread, starts as `init()`, called on that
    /// thread's first [`with`](Self::with) or [`with_mut`](Self::with_mut).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Local;
    ///
    /// let name = Local::new(|| String::from("unnamed"));
    /// assert_eq!(name.with(|n| n.clone()), "unnamed");
    /// ```
    pub fn new(init: impl Fn() -> T + Send + Sync + 'static) -> Local<T> {
        Local {
            // Relaxed: only uniqueness matters.
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            init: Box::new(init),
            threads: Mutex::new(Holders {
                threads: Vec::new(),
                prune_at: 8,
            }),
            _values: PhantomData,
        }
    }

    /// Calls `f` with the calling thread's value (made first if needed) and returns
    /// what `f` returns.
    ///
    /// # Panics
    ///
    /// If called from inside `f` or `init` of the same `Local` on the same thread
    /// (the value is in use: as `RefCell`'s double borrow). A panic in `init`
    /// or `f` propagates; the value stays in place after a panic in `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Local;
    ///
    /// let buf = Local::new(|| vec![1, 2, 3]);
    /// assert_eq!(buf.with(|v| v.len()), 3);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.with_mut(|v| f(v))
    }

    /// Calls `f` with mutable access to the calling thread's value (made first if
    /// needed) and returns what `f` returns.
    ///
    /// # Panics
    ///
    /// If called from inside `f` or `init` of the same `Local` on the same thread
    /// (the value is in use: as `RefCell`'s double borrow). A panic in `init`
    /// or `f` propagates; the value stays in place after a panic in `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::Local;
    ///
    /// let seen = Local::new(Vec::new);
    /// seen.with_mut(|v| v.push("a"));
    /// seen.with_mut(|v| v.push("b"));
    /// assert_eq!(seen.with(|v| v.join(",")), "a,b");
    /// ```
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let thread = registry::current_thread();
        let mut slot: Slot<'_, T> = Slot {
            thread: &thread,
            id: self.id,
            value: None,
        };
        // Take the value out, leaving `InUse`: user code (`init`, `f`) never runs
        // under the map's lock, and a re-entrant access finds the marker.
        let taken = lock(thread.inner.locals()).insert(self.id, Box::new(InUse));
        let value = match taken {
            Some(any) => match any.downcast::<T>() {
                Ok(v) => v,
                Err(other) => {
                    // The marker: put it back (the outer access still owns it).
                    lock(thread.inner.locals()).insert(self.id, other);
                    panic!("Local already in use on this thread: re-entrant with()/with_mut() (or a use from inside its init)");
                }
            },
            None => {
                // If `init` panics, `slot` (value None) removes the marker.
                let v = Box::new((self.init)());
                self.remember(&thread);
                v
            }
        };
        let v = slot.value.insert(value);
        f(v)
    }

    /// Records that `thread` holds a value of this `Local`.
    fn remember(&self, thread: &Thread) {
        let mut h = lock(&self.threads);
        if h.threads.len() >= h.prune_at {
            h.threads.retain(|w| w.strong_count() > 0);
            h.prune_at = (h.threads.len() * 2).max(8);
        }
        h.threads.push(Arc::downgrade(&thread.inner));
    }
}

/// Puts a value taken out by `with_mut` back into its thread's map, also when the
/// closure panics; with no value (a panicking `init`), removes the `InUse` marker.
struct Slot<'a, T: Send + 'static> {
    thread: &'a Thread,
    id: u64,
    value: Option<Box<T>>,
}

impl<T: Send + 'static> Drop for Slot<'_, T> {
    fn drop(&mut self) {
        let mut map = lock(self.thread.inner.locals());
        match self.value.take() {
            Some(v) => {
                map.insert(self.id, v as Box<dyn Any + Send>);
            }
            None => {
                map.remove(&self.id);
            }
        }
    }
}

impl<T: Send + 'static> Drop for Local<T> {
    fn drop(&mut self) {
        let holders = std::mem::take(&mut lock(&self.threads).threads);
        // No `with_mut` can be running on a `Local` being dropped (it borrows
        // it), so what the maps hold under our id is a value, never `InUse`.
        for inner in holders.iter().filter_map(Weak::upgrade) {
            let value = lock(inner.locals()).remove(&self.id);
            // Dropped outside the map's lock: `T`'s destructor may use Locals.
            drop(value);
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

// The public types are `Send + Sync + Debug`, checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + fmt::Debug>() {}
    check::<Local<std::cell::Cell<u8>>>();
};
