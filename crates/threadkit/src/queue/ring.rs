//! [`Ring`]: the store of a bounded [`Queue`](super::Queue), a fixed ring of slots
//! that a put and a get can use without the queue's lock (Vyukov's bounded MPMC
//! array: a slot's stamp says whose turn it is).
//!
//! `head` and `tail` count the gets and puts that claimed a slot, shifted left by
//! two; the low bits are flags the lock-free paths obey. `GATE` on `head` sends
//! every get to the locked path (getters are queued, or items are promised to
//! woken ones); `GATE` on `tail` does the same for puts (putters queued, slots
//! promised); `SHUT` on `tail` fails every lock-free put. A flag is set and
//! cleared only under the queue's lock, and setting one changes the word a
//! lock-free claim compares and swaps, so a claim that raced with it fails and
//! looks again: a caller that did not see the gate cannot take a promised item.
//!
//! `waiting` says whether getters or putters are queued: a lock-free put reads it
//! after its claim and takes the lock to serve the queued getters only then
//! (likewise a get and putters). A caller that queues publishes it before it looks
//! at the ring again, so one of the two sees the other (both are `SeqCst`).
//! It lives on its own cache line, written only when someone queues, so the
//! reads on every call do not move `head`'s or `tail`'s line.
//!
//! No `unsafe`: a slot keeps its item behind a spin lock (`spin`'s, one atomic
//! swap to take and a plain store to release; std's `Mutex` costs a second atomic
//! swap and two panic-count reads, 20% of a put's time in the SPSC profile). The
//! stamp gives the slot to one thread at a time, so that lock never spins.

use crate::sync::{AtomicUsize, Ordering};

#[cfg(not(loom))]
type ItemCell<T> = spin::mutex::SpinMutex<Option<T>>;
/// Under loom a loom mutex, so the models see the slot's accesses.
#[cfg(loom)]
type ItemCell<T> = crate::sync::Mutex<Option<T>>;

/// The item of a slot the caller's stamp gave it.
#[cfg(not(loom))]
fn held<T>(cell: &ItemCell<T>) -> impl std::ops::DerefMut<Target = Option<T>> + '_ {
    cell.lock()
}

#[cfg(loom)]
fn held<T>(cell: &ItemCell<T>) -> impl std::ops::DerefMut<Target = Option<T>> + '_ {
    crate::sync::lock(cell)
}

/// Set on `head` or `tail`: the lock-free claims on that end are closed.
const GATE: usize = 1;
/// Set on `tail` by a shutdown: lock-free puts fail.
const SHUT: usize = 2;
const FLAGS: usize = GATE | SHUT;
/// How often [`Ring::snapshot`] reads again before it settles for a clamp.
const SNAPSHOT_TRIES: usize = 8;
/// One claim, in `head` and `tail` units.
const ONE: usize = 4;

/// `waiting` bits.
pub(super) const GETTERS: usize = 1;
pub(super) const PUTTERS: usize = 2;

/// Which end of the ring a gate closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// Gets.
    Head,
    /// Puts.
    Tail,
}

/// A value alone on its cache line (two lines: x86 prefetches them in pairs), so
/// the producers' and the consumers' counters do not share one.
#[repr(align(128))]
#[derive(Debug)]
pub(super) struct Padded<T>(pub(super) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct Slot<T> {
    // 2n: free for the put that claims count n; 2n + 1: holds that put's item,
    // for the get that claims count n; 2(n + cap) once that get is done. (Doubled
    // so that "filled by put n" never reads as "free for put n + 1", as it
    // would with one slot.)
    stamp: AtomicUsize,
    item: ItemCell<T>,
}

pub(super) struct Ring<T> {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    waiting: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
}

impl<T> Ring<T> {
    /// A ring of `cap` (> 0) slots.
    pub(super) fn new(cap: usize) -> Self {
        debug_assert!(cap > 0);
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            waiting: Padded(AtomicUsize::new(0)),
            slots: (0..cap)
                .map(|i| Slot {
                    stamp: AtomicUsize::new(2 * i),
                    item: ItemCell::new(None),
                })
                .collect(),
        }
    }

    fn slot(&self, count: usize) -> &Slot<T> {
        let cap = self.slots.len();
        let i = if cap.is_power_of_two() {
            count & (cap - 1)
        } else {
            count % cap
        };
        &self.slots[i]
    }

    /// Puts `item` without the lock if `tail` is open and a slot is free; gives
    /// it back otherwise.
    pub(super) fn try_push(&self, item: T) -> Result<(), T> {
        let mut t = self.tail.load(Ordering::Relaxed);
        loop {
            if t & FLAGS != 0 {
                return Err(item);
            }
            let n = t / ONE;
            let slot = self.slot(n);
            // Acquire: the get that freed the slot is done with it.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == 2 * n {
                // SeqCst: ordered before our read of `waiting` (see the module).
                match self.tail.compare_exchange_weak(
                    t,
                    t + ONE,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        *held(&slot.item) = Some(item);
                        // Release: the item is there for the get that sees it.
                        slot.stamp.store(2 * n + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => t = now,
                }
            } else if stamp < 2 * n {
                // The item put one lap ago is still there (or its get is under
                // way): full. (A stale stamp reads the same; the locked path is
                // exact.)
                return Err(item);
            } else {
                // A newer stamp: other puts claimed n and more meanwhile. Having
                // read it (Acquire), we read their tail.
                t = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest item without the lock if `head` is open and an item is
    /// there; `None` otherwise.
    pub(super) fn try_pop(&self) -> Option<T> {
        let cap = self.slots.len();
        let mut h = self.head.load(Ordering::Relaxed);
        loop {
            if h & GATE != 0 {
                return None;
            }
            let n = h / ONE;
            let slot = self.slot(n);
            // Acquire: pairs with the put's Release, so its item is visible.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == 2 * n + 1 {
                // SeqCst: ordered before our read of `waiting`.
                match self.head.compare_exchange_weak(
                    h,
                    h + ONE,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Some(self.take(slot, 2 * (n + cap))),
                    Err(now) => h = now,
                }
            } else if stamp < 2 * n + 1 {
                // No put has filled slot n yet: empty (or a put, or the get one
                // lap ago, is under way).
                return None;
            } else {
                // A newer stamp: other gets claimed n meanwhile.
                h = self.head.load(Ordering::Relaxed);
            }
        }
    }

    fn take(&self, slot: &Slot<T>, next: usize) -> T {
        let item = held(&slot.item)
            .take()
            .expect("a filled slot holds its item");
        // Release: our take is done before the put that sees `next` refills it.
        slot.stamp.store(next, Ordering::Release);
        item
    }

    /// How many slots are claimed by puts and not yet by gets (items stored, or
    /// being stored by a put under way).
    pub(super) fn len(&self) -> usize {
        // Head first: tail only grows, so the difference never goes negative.
        let h = self.head.load(Ordering::SeqCst) / ONE;
        let t = self.tail.load(Ordering::SeqCst) / ONE;
        t.saturating_sub(h)
    }

    /// How many items the ring holds at one instant, for `qsize`: `tail` is
    /// read on both sides of `head`, so that puts and gets between the loads
    /// cannot make it pass the capacity (`len` may, by a stale `head`: the
    /// locked paths want that over-count, `qsize` must not show it).
    pub(super) fn snapshot(&self) -> usize {
        let cap = self.slots.len();
        for _ in 0..SNAPSHOT_TRIES {
            let t = self.tail.load(Ordering::SeqCst) / ONE;
            let h = self.head.load(Ordering::SeqCst) / ONE;
            if self.tail.load(Ordering::SeqCst) / ONE == t {
                // `tail` was `t` when `head` was read.
                return t.saturating_sub(h).min(cap);
            }
        }
        self.len().min(cap)
    }

    /// How many puts ever claimed a slot: every item this ring stored.
    pub(super) fn pushed(&self) -> usize {
        self.tail.load(Ordering::SeqCst) / ONE
    }

    /// Puts `item` under the queue's lock, with `tail` gated (no lock-free put
    /// runs) and a slot known free by [`len`](Self::len); waits for a get still
    /// emptying that slot.
    pub(super) fn push_locked(&self, item: T) {
        let n = self.tail.fetch_add(ONE, Ordering::SeqCst) / ONE;
        let slot = self.slot(n);
        crate::sync::spin_while(|| slot.stamp.load(Ordering::Acquire) != 2 * n);
        *held(&slot.item) = Some(item);
        slot.stamp.store(2 * n + 1, Ordering::Release);
    }

    /// Takes the oldest item under the queue's lock, with `head` gated (no
    /// lock-free get runs); waits for a put still filling its slot. `None` when
    /// nothing is claimed.
    pub(super) fn pop_locked(&self) -> Option<T> {
        let n = self.head.load(Ordering::Relaxed) / ONE;
        if self.tail.load(Ordering::SeqCst) / ONE == n {
            return None;
        }
        let slot = self.slot(n);
        crate::sync::spin_while(|| slot.stamp.load(Ordering::Acquire) != 2 * n + 1);
        self.head.fetch_add(ONE, Ordering::SeqCst);
        Some(self.take(slot, 2 * (n + self.slots.len())))
    }

    /// Whether lock-free calls on `end` may succeed now (a hint: not gated, and
    /// for puts not shut).
    pub(super) fn is_open(&self, end: End) -> bool {
        match end {
            End::Head => self.head.load(Ordering::Relaxed) & GATE == 0,
            End::Tail => self.tail.load(Ordering::Relaxed) & FLAGS == 0,
        }
    }

    /// Whether lock-free puts are shut (a shutdown was called).
    pub(super) fn is_shut(&self) -> bool {
        self.tail.load(Ordering::Relaxed) & SHUT != 0
    }

    /// Opens or closes the lock-free claims on `end` (under the queue's lock).
    pub(super) fn gate(&self, end: End, closed: bool) {
        let word = match end {
            End::Head => &self.head,
            End::Tail => &self.tail,
        };
        if closed {
            word.fetch_or(GATE, Ordering::SeqCst);
        } else {
            word.fetch_and(!GATE, Ordering::SeqCst);
        }
    }

    /// Fails every later lock-free put (under the queue's lock, at shutdown).
    pub(super) fn shut(&self) {
        self.tail.fetch_or(SHUT, Ordering::SeqCst);
    }

    /// Publishes who is queued (`GETTERS`, `PUTTERS`), under the queue's lock.
    pub(super) fn set_waiting(&self, bits: usize) {
        self.waiting.store(bits, Ordering::SeqCst);
        fence_for_loom();
    }

    /// Who is queued, read by a lock-free put or get after its claim.
    pub(super) fn waiting(&self) -> usize {
        fence_for_loom();
        self.waiting.load(Ordering::SeqCst)
    }
}

/// loom models `SeqCst` accesses as acquire/release only, which would let both
/// sides of the claim-then-read-`waiting` exchange miss each other; its fences are
/// modelled fully, so the models add one where the `SeqCst` order is relied on.
/// On real hardware the `SeqCst` operations are that order already.
#[cfg(loom)]
fn fence_for_loom() {
    loom::sync::atomic::fence(Ordering::SeqCst);
}

#[cfg(not(loom))]
#[inline(always)]
fn fence_for_loom() {}
