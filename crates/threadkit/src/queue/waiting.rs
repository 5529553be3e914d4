//! How a queue call waits: the bounded spin before it queues, the per-thread
//! reusable wait entry ([`Queued`]), the block that writes the wait record, and the
//! wake-ups a critical section leaves for after the unlock ([`After`]).
//!
//! The costs these avoid, measured on `benches/queue.rs`: a consumer that empties
//! the queue would park at once and its producer pay a futex wake per item; every
//! blocking call allocated its wait entry; every grant allocated the list of
//! threads to wake.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use crate::sync::{AtomicBool, Ordering, Waiter, Wake};
use crate::threading::wait::{self, Holder, Object, WaitKind};

/// One blocked getter or putter: its waiter, and whether it was handed a grant
/// (rather than woken by a shutdown).
pub(super) struct Queued {
    waiter: Arc<Waiter>,
    // Written and read under the queue's lock only.
    granted: AtomicBool,
}

/// A thread's spare entries: the last two it used. Two, because the notifier of
/// the last one may still hold it when the thread blocks again (pinned to one
/// core, a woken getter runs before its putter has dropped the entry): the one
/// before is then free, where one spare cost two allocations per hand-off.
type Spares = [Option<Arc<Queued>>; 2];

#[cfg(not(loom))]
std::thread_local! {
    /// The calling thread's entries from its last blocking calls, kept for the next
    /// ones (a thread blocks on one queue at a time).
    static SPARES: Cell<Spares> = const { Cell::new([None, None]) };
}

#[cfg(loom)]
loom::thread_local! {
    static SPARES: Cell<Spares> = Cell::new([None, None]);
}

impl Queued {
    /// An entry for the calling thread: a spare one that nobody else holds any
    /// more (a notifier may still hold one for a moment), else a new one.
    pub(super) fn for_current() -> Arc<Queued> {
        let mut spares = SPARES.try_with(Cell::take).unwrap_or_default();
        let reused = spares
            .iter_mut()
            .find_map(|spare| spare.take_if(Self::reset_if_free));
        let _ = SPARES.try_with(|s| s.set(spares));
        reused.unwrap_or_else(|| {
            Arc::new(Queued {
                waiter: Waiter::new(),
                granted: AtomicBool::new(false),
            })
        })
    }

    /// Resets `entry` for another wait when it is unique (off every queue, and its
    /// last notifier done with it: the count's Acquire orders that notifier's
    /// writes before ours) and parks on the calling thread's parker.
    fn reset_if_free(entry: &mut Arc<Queued>) -> bool {
        let Some(entry) = Arc::get_mut(entry) else {
            return false;
        };
        match Arc::get_mut(&mut entry.waiter) {
            Some(waiter) if waiter.parks_on_current() => {
                waiter.reset();
                // A new atomic, as `Waiter::reset` does (loom keeps history).
                entry.granted = AtomicBool::new(false);
                true
            }
            _ => false,
        }
    }

    /// Keeps `this` as the calling thread's newest spare (the older of two goes).
    /// Only call it once `this` is off every queue; [`for_current`](Self::for_current)
    /// checks that no notifier still holds it.
    pub(super) fn recycle(this: Arc<Queued>) {
        // Thread-locals being torn down: the entry is simply freed.
        let _ = SPARES.try_with(|s| {
            let mut spares = s.take();
            spares.rotate_right(1);
            spares[0] = Some(this);
            s.set(spares);
        });
    }

    /// Marks the entry granted (under the queue's lock).
    pub(super) fn grant(&self) {
        // Relaxed: read and written under the queue's lock only.
        self.granted.store(true, Ordering::Relaxed);
    }

    /// Whether [`grant`](Self::grant) was called (under the queue's lock).
    pub(super) fn was_granted(&self) -> bool {
        // Relaxed: written under the lock the caller holds.
        self.granted.load(Ordering::Relaxed)
    }

    /// Whether a stop was requested for the thread that waits on this entry.
    pub(super) fn is_stopped(&self) -> bool {
        self.waiter.is_stopped()
    }

    /// Parks the calling thread until it is notified, `deadline` passes or (when
    /// `stoppable`) a stop is requested. The one place a queue call blocks, so the
    /// one place its wait record (`Queue.get` / `Queue.put` on `meta`) is written,
    /// and only when the thread really parks: a notification that came first
    /// costs no record. The record is cleared on every way out.
    pub(super) fn block(
        &self,
        deadline: Option<Instant>,
        stoppable: bool,
        kind: WaitKind,
        meta: &Arc<Object>,
    ) -> Wake {
        if self.waiter.is_notified() {
            return Wake::Notified;
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let _record = wait::begin(kind, meta, Holder::Nobody, timeout);
        self.waiter.wait(deadline, stoppable)
    }
}

/// What a critical section leaves to do after the unlock: waiters to wake and items
/// to drop (a waiter woken on this core could otherwise preempt us and block on the
/// lock we still hold; an item's `drop` is user code). A put or a get wakes at most
/// one entry, which needs no allocation.
pub(super) struct After<T> {
    first: Option<Arc<Queued>>,
    more: Vec<Arc<Queued>>,
    pub(super) joiners: Vec<Arc<Waiter>>,
    pub(super) dropped: Vec<T>,
}

impl<T> After<T> {
    pub(super) fn new() -> Self {
        After {
            first: None,
            more: Vec::new(),
            joiners: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Wakes `entry` once the lock is released.
    pub(super) fn wake(&mut self, entry: Arc<Queued>) {
        match self.first {
            None => self.first = Some(entry),
            Some(_) => self.more.push(entry),
        }
    }
}

impl<T> After<T> {
    /// Wakes the entries left so far, now (the caller has unlocked and is about
    /// to block: they must not wait for its call to end).
    pub(super) fn wake_now(&mut self) {
        // `more` is filled only once `first` is: most calls wake nobody, and pay
        // two checks for it.
        if let Some(first) = self.first.take() {
            first.waiter.notify();
            for entry in self.more.drain(..) {
                entry.waiter.notify();
            }
        }
    }
}

impl<T> Drop for After<T> {
    fn drop(&mut self) {
        self.wake_now();
        while let Some(w) = self.joiners.pop() {
            w.notify();
        }
    }
}

/// How many steps a spin makes before the caller queues and parks: busy steps of
/// 1, 2, .. 32 `spin_loop`s, then a few `yield_now`s; a few microseconds on an
/// idle machine. The yields matter: busy rounds alone were too short for the other
/// side to answer (on the SPSC and 4x4 transfers they left about as many futex
/// calls as no spin at all; with the yields, a tenth or less).
#[cfg(not(loom))]
const SPIN_STEPS: u32 = 10;
#[cfg(not(loom))]
const BUSY_STEPS: u32 = 6;

/// Under loom each poll is a branch of the model: two are enough to race a put.
#[cfg(loom)]
const SPIN_STEPS: u32 = 1;
#[cfg(loom)]
const BUSY_STEPS: u32 = 0;

/// Polls `attempt` a bounded number of times, backing off between polls, until it
/// returns `Some`; `None` when the spin ran out. Call it only where
/// [`spinning_pays`].
pub(super) fn spin<R>(attempt: impl FnMut() -> Option<R>) -> Option<R> {
    crate::sync::spin_until(SPIN_STEPS, BUSY_STEPS, attempt)
}

/// Whether a waiting thread should spin before it parks: not on a single CPU (or
/// a process pinned to one, as `available_parallelism` reads the affinity mask),
/// where the thread it waits for cannot run while it spins. Read once per process.
#[cfg(not(loom))]
pub(super) fn spinning_pays() -> bool {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Under loom the models run the spin.
#[cfg(loom)]
pub(super) fn spinning_pays() -> bool {
    true
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_entry_is_reused_reset() {
        let first = Queued::for_current();
        first.grant();
        first.waiter.notify();
        let ptr = Arc::as_ptr(&first);
        Queued::recycle(first);
        let again = Queued::for_current();
        assert_eq!(Arc::as_ptr(&again), ptr);
        assert!(!again.was_granted());
        assert!(!again.waiter.is_notified());
    }

    #[test]
    fn an_entry_a_notifier_still_holds_is_not_reused() {
        let first = Queued::for_current();
        let notifier = Arc::clone(&first);
        Queued::recycle(first);
        let next = Queued::for_current();
        assert!(!Arc::ptr_eq(&next, &notifier));
        // The late notification reaches the old entry only.
        notifier.waiter.notify();
        assert!(!next.waiter.is_notified());
    }

    #[test]
    fn the_older_spare_serves_while_a_notifier_holds_the_newer() {
        let (older, newer) = (Queued::for_current(), Queued::for_current());
        let older_ptr = Arc::as_ptr(&older);
        Queued::recycle(older);
        Queued::recycle(newer);
        let spares = SPARES.with(|s| {
            let spares = s.take();
            let ptrs = spares.clone().map(|e| e.map(|e| Arc::as_ptr(&e)));
            s.set(spares);
            ptrs
        });
        assert_eq!(spares[1], Some(older_ptr), "the newest spare comes first");
        let notifier = SPARES.with(|s| {
            let spares = s.take();
            let held = Arc::clone(spares[0].as_ref().expect("two spares"));
            s.set(spares);
            held
        });
        let next = Queued::for_current();
        assert_eq!(Arc::as_ptr(&next), older_ptr);
        assert!(!Arc::ptr_eq(&next, &notifier));
    }

    #[test]
    fn an_entry_of_another_parker_is_not_reused() {
        let other = Arc::new(Queued {
            waiter: Waiter::with_parker(Arc::new(crate::sync::Parker::new())),
            granted: AtomicBool::new(false),
        });
        let ptr = Arc::as_ptr(&other);
        Queued::recycle(other);
        assert_ne!(Arc::as_ptr(&Queued::for_current()), ptr);
    }

    #[test]
    fn a_notified_entry_blocks_without_parking() {
        let me = Queued::for_current();
        me.waiter.notify();
        let meta = Object::new(WaitKind::QueueGet);
        assert_eq!(
            me.block(None, false, WaitKind::QueueGet, &meta),
            Wake::Notified
        );
    }
}
