//! The locked half of [`OrderedQueue`]: the state its `Mutex` guards, the puts and
//! gets that queue and block, and the grants that serve queued callers oldest
//! first (with a ring: the gates that keep lock-free calls from overtaking them).

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use super::super::error::{GetError, PutError};
use super::super::order::Order;
use super::super::ring::{self, End};
use super::super::waiting::{After, Queued};
use super::{Guard, OrderedQueue};
use crate::sync::{lock, MutexGuard, Ordering, Waiter, Wake};
use crate::threading::wait::WaitKind;

pub(super) struct State<T, O> {
    pub(super) store: O,
    pub(super) shutdown: bool,
    // Stored items promised to getters already taken off `getters`.
    pub(super) reserved_items: usize,
    // Free slots promised to putters already taken off `putters`.
    pub(super) reserved_slots: usize,
    pub(super) getters: VecDeque<Arc<Queued>>,
    pub(super) putters: VecDeque<Arc<Queued>>,
    pub(super) joiners: Vec<Arc<Waiter>>,
    // With a ring: whether its head and tail are gated, and the `waiting` bits
    // last published (`settle` keeps them true to the queues and reservations).
    pub(super) head_gated: bool,
    pub(super) tail_gated: bool,
    pub(super) waiting: usize,
    pub(super) _item: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, O: Order<T>> State<T, O> {
    /// Runs `f` (which may run `T::cmp`) on the store; on a panic, restores the
    /// invariant, unlocks, wakes and resumes the panic in the caller.
    pub(super) fn guarded<'a, R>(
        mut guard: MutexGuard<'a, Self>,
        queue: &OrderedQueue<T, O>,
        after: &mut After<T>,
        f: impl FnOnce(&mut O) -> R,
    ) -> (MutexGuard<'a, Self>, R) {
        match panic::catch_unwind(AssertUnwindSafe(|| f(&mut guard.store))) {
            Ok(r) => (guard, r),
            Err(payload) => {
                queue.grant(&mut guard, after);
                drop(guard);
                panic::resume_unwind(payload)
            }
        }
    }
}

/// Takes `me` off `queue` if it is still there (its wait ended without a grant).
/// Returns whether it was there.
fn withdraw(queue: &mut VecDeque<Arc<Queued>>, me: &Arc<Queued>) -> bool {
    match queue.iter().position(|q| Arc::ptr_eq(q, me)) {
        Some(i) => {
            queue.remove(i);
            true
        }
        None => false,
    }
}

impl<T, O: Order<T>> OrderedQueue<T, O> {
    /// A put under the lock: stores the item, or queues and blocks until a slot is
    /// granted (or the wait ends). The caller runs `grant` after it.
    pub(super) fn put_locked<'a>(
        &'a self,
        mut st: Guard<'a, T, O>,
        after: &mut After<T>,
        item: T,
        deadline: Option<Instant>,
        stoppable: bool,
        blocking: bool,
    ) -> (Guard<'a, T, O>, Result<(), PutError<T>>) {
        // A lock-free get may have freed a slot it has not yet granted to the
        // putters queued before us: serve them first. Then close the tail, so that
        // no lock-free put takes the slot we count.
        self.grant(&mut st, after);
        self.close(&mut st, End::Tail);
        if st.shutdown {
            return (st, Err(PutError::ShutDown(item)));
        }
        let mut granted = false;
        // With putters still queued, a slot freed since (a lock-free get that has
        // not served them yet) is theirs: we queue behind them.
        if !(st.putters.is_empty() && self.has_free_slot(&st)) {
            if !blocking {
                return (st, Err(PutError::Full(item)));
            }
            let me = Queued::for_current();
            if stoppable && me.is_stopped() {
                Queued::recycle(me);
                return (st, Err(PutError::Full(item)));
            }
            st.putters.push_back(Arc::clone(&me));
            self.queue_and_unlock(st, after);
            let wake = me.block(deadline, stoppable, WaitKind::QueuePut, &self.meta);
            st = lock(&self.state);
            self.close(&mut st, End::Tail);
            if wake != Wake::Notified && withdraw(&mut st.putters, &me) {
                Queued::recycle(me);
                return (st, Err(PutError::Full(item)));
            }
            granted = me.was_granted();
            Queued::recycle(me);
            if granted {
                st.reserved_slots -= 1;
            }
            if st.shutdown {
                // A grant given back here frees nobody: later puts fail too.
                return (st, Err(PutError::ShutDown(item)));
            }
        }
        debug_assert!(granted || self.has_free_slot(&st));
        let st = match &self.ring {
            Some(ring) => {
                ring.push_locked(item);
                st
            }
            None => {
                // Counted before a get can see the item, so its task_done finds
                // it. Release: pairs with `pushed()`'s Acquire.
                self.pushed.fetch_add(1, Ordering::Release);
                let (st, ()) = State::guarded(st, self, after, |s| s.push(item));
                self.publish_len(&st);
                st
            }
        };
        (st, Ok(()))
    }

    /// After a caller queued itself: publishes that (gates, `waiting`), serves
    /// what a lock-free call stored or freed meanwhile (maybe the caller itself,
    /// whose wait then ends at once), unlocks and wakes whoever that served.
    pub(super) fn queue_and_unlock(&self, mut st: Guard<'_, T, O>, after: &mut After<T>) {
        self.grant(&mut st, after);
        drop(st);
        after.wake_now();
    }

    /// A get under the lock: takes an item, or queues and blocks until one is
    /// granted (or the wait ends). The caller runs `grant` after it.
    pub(super) fn get_locked<'a>(
        &'a self,
        mut st: Guard<'a, T, O>,
        after: &mut After<T>,
        deadline: Option<Instant>,
        stoppable: bool,
        blocking: bool,
    ) -> (Guard<'a, T, O>, Result<T, GetError>) {
        // A lock-free put may have stored an item it has not yet granted to the
        // getters queued before us: serve them first. Then close the head, so
        // that no lock-free get takes the item we count.
        self.grant(&mut st, after);
        self.close(&mut st, End::Head);
        // With getters still queued, an item stored since (a lock-free put that
        // has not served them yet) is theirs: we queue behind them.
        if !(st.getters.is_empty() && self.free_items(&st) > 0) {
            if st.shutdown {
                return (st, Err(GetError::ShutDown));
            }
            if !blocking {
                return (st, Err(GetError::Empty));
            }
            let me = Queued::for_current();
            if stoppable && me.is_stopped() {
                Queued::recycle(me);
                return (st, Err(GetError::Empty));
            }
            st.getters.push_back(Arc::clone(&me));
            self.queue_and_unlock(st, after);
            let wake = me.block(deadline, stoppable, WaitKind::QueueGet, &self.meta);
            st = lock(&self.state);
            self.close(&mut st, End::Head);
            if wake != Wake::Notified && withdraw(&mut st.getters, &me) {
                Queued::recycle(me);
                return (st, Err(GetError::Empty));
            }
            if me.was_granted() {
                st.reserved_items -= 1;
            }
            Queued::recycle(me);
            if self.free_items(&st) == 0 {
                // Woken by a shutdown, or an immediate one dropped our item.
                return (st, Err(GetError::ShutDown));
            }
        }
        let (st, item) = match &self.ring {
            Some(ring) => (st, ring.pop_locked()),
            None => {
                let (st, item) = State::guarded(st, self, after, |s| s.pop());
                self.publish_len(&st);
                (st, item)
            }
        };
        (st, Ok(item.expect("a free item is stored")))
    }

    /// How many items are stored (with a ring: claimed by puts, some perhaps
    /// still being written).
    pub(super) fn stored(&self, st: &State<T, O>) -> usize {
        match &self.ring {
            Some(ring) => ring.len(),
            None => st.store.len(),
        }
    }

    pub(super) fn free_items(&self, st: &State<T, O>) -> usize {
        // Saturating: an immediate shutdown drops reserved items too.
        self.stored(st).saturating_sub(st.reserved_items)
    }

    pub(super) fn has_free_slot(&self, st: &State<T, O>) -> bool {
        self.maxsize == 0 || self.stored(st) + st.reserved_slots < self.maxsize
    }

    /// Closes a ring's `end` to lock-free calls for the rest of this critical
    /// section (`settle` opens it again where nobody waits), so that what it
    /// counts there stays true.
    pub(super) fn close(&self, st: &mut State<T, O>, end: End) {
        let Some(ring) = &self.ring else { return };
        let gated = match end {
            End::Head => &mut st.head_gated,
            End::Tail => &mut st.tail_gated,
        };
        if !*gated {
            ring.gate(end, true);
            *gated = true;
        }
    }

    /// Makes a ring's gates and `waiting` bits true to the queues: an end stays
    /// closed while callers are queued on it or promised something there.
    pub(super) fn settle(&self, st: &mut State<T, O>) {
        let Some(ring) = &self.ring else { return };
        let head = !st.getters.is_empty() || st.reserved_items > 0;
        if head != st.head_gated {
            ring.gate(End::Head, head);
            st.head_gated = head;
        }
        let tail = !st.putters.is_empty() || st.reserved_slots > 0;
        if tail != st.tail_gated {
            ring.gate(End::Tail, tail);
            st.tail_gated = tail;
        }
        let waiting = if st.getters.is_empty() {
            0
        } else {
            ring::GETTERS
        } | if st.putters.is_empty() {
            0
        } else {
            ring::PUTTERS
        };
        if waiting != st.waiting {
            ring.set_waiting(waiting);
            st.waiting = waiting;
        }
    }

    /// Restores the invariant: grants free items to queued getters and free slots
    /// to queued putters, oldest first; with a ring, settles its gates before
    /// (so the counts hold) and after.
    pub(super) fn grant(&self, st: &mut State<T, O>, after: &mut After<T>) {
        self.settle(st);
        while self.free_items(st) > 0 {
            let Some(g) = st.getters.pop_front() else {
                break;
            };
            g.grant();
            st.reserved_items += 1;
            after.wake(g);
        }
        while !st.shutdown && self.has_free_slot(st) {
            let Some(p) = st.putters.pop_front() else {
                break;
            };
            p.grant();
            st.reserved_slots += 1;
            after.wake(p);
        }
        self.settle(st);
    }
}
