//! What a thread waits on: [`WaitInfo`] and [`WaitKind`], the per-thread wait
//! records behind them, and the names of the objects waited on.
//!
//! A primitive writes a record only on its slow path, just before its thread
//! blocks ([`begin`]), and the returned [`WaitGuard`] clears it on every way out
//! (woken, timed out, stopped, panicked through). Each OS thread keeps its record
//! in a slot of its own, listed once in a global list, so a wait costs no shared
//! lock and a dump or the deadlock check reads the slots without touching the
//! waiting threads.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::sync::{current_ident, lock};

/// What kind of object a thread waits on, as [`WaitInfo::kind`] reports it.
///
/// # Examples
///
/// ```
/// use threadkit::threading::WaitKind;
///
/// assert_eq!(WaitKind::QueueGet.to_string(), "Queue.get");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitKind {
    /// Acquiring a [`Lock`](super::Lock).
    Lock,
    /// Acquiring an [`RLock`](super::RLock).
    RLock,
    /// Waiting on a [`Condition`](super::Condition), or taking its lock again
    /// after being notified.
    Condition,
    /// Acquiring a [`Semaphore`](super::Semaphore) or
    /// [`BoundedSemaphore`](super::BoundedSemaphore).
    Semaphore,
    /// Waiting for an [`Event`](super::Event).
    Event,
    /// Waiting at a [`Barrier`](super::Barrier).
    Barrier,
    /// Taking an item from a queue.
    QueueGet,
    /// Putting an item into a full queue.
    QueuePut,
    /// Joining a thread ([`Thread::join`](super::Thread::join)).
    Join,
    /// Waiting for a future's result.
    Future,
}

impl WaitKind {
    fn text(self) -> &'static str {
        match self {
            WaitKind::Lock => "Lock",
            WaitKind::RLock => "RLock",
            WaitKind::Condition => "Condition",
            WaitKind::Semaphore => "Semaphore",
            WaitKind::Event => "Event",
            WaitKind::Barrier => "Barrier",
            WaitKind::QueueGet => "Queue.get",
            WaitKind::QueuePut => "Queue.put",
            WaitKind::Join => "join",
            WaitKind::Future => "Future",
        }
    }
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// What a blocked thread waits on, for how long, and who holds it:
/// [`ThreadInfo::waiting`](super::ThreadInfo::waiting).
///
/// `Display` writes one line: `Lock "accounts" held by worker-2 (ident 5) for 3.200s`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::threading::{dump, Lock, Thread, WaitKind};
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let lock = Arc::new(Lock::new().with_name("accounts"));
/// lock.acquire();
/// let l = Arc::clone(&lock);
/// let t = Thread::builder().name("waiter").target(move || {
///     let _ = l.acquire_timeout(Duration::from_secs(10));
/// }).spawn()?;
/// while lock.n_waiting() == 0 {
///     std::thread::yield_now();
/// }
/// let row = dump().into_iter().find(|r| r.name == "waiter").unwrap();
/// let w = row.waiting.expect("blocked");
/// assert_eq!((w.kind, w.object.as_str()), (WaitKind::Lock, "accounts"));
/// lock.release()?;
/// t.join()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitInfo {
    /// What kind of object it waits on.
    pub kind: WaitKind,
    /// The object's name, or its kind and a short id (`Lock#7`).
    pub object: String,
    /// How long this thread has waited so far.
    pub waited: Duration,
    /// The time the wait had left when the thread blocked (its timeout, less any
    /// brief spinning first), `None` for a wait without limit.
    pub timeout: Option<Duration>,
    /// The ident of the thread that holds the object, where one is known: an
    /// `RLock`'s owner, a `Lock`'s last acquirer, the thread being joined.
    pub holder: Option<u64>,
    /// That thread's name, if it is listed.
    pub holder_name: Option<String>,
}

impl fmt::Display for WaitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.object.contains('#') {
            write!(f, "{} {}", self.kind, self.object)?;
        } else {
            write!(f, "{} {:?}", self.kind, self.object)?;
        }
        if let Some(h) = self.holder {
            let name = self.holder_name.as_deref().unwrap_or("?");
            let verb = if self.kind == WaitKind::Join {
                "of"
            } else {
                "held by"
            };
            write!(f, " {verb} {name} (ident {h})")?;
        }
        write!(f, " for {:.3}s", self.waited.as_secs_f64())?;
        if let Some(t) = self.timeout {
            write!(f, " (timeout {:.3}s)", t.as_secs_f64())?;
        }
        Ok(())
    }
}

/// The identity of an object that can be waited on: its kind, its name or lazy
/// short id, and (for locks) the ident of its holder. Shared with the wait
/// records, so a dump reads the holder as it is now.
pub(crate) struct Object {
    kind: WaitKind,
    name: Option<String>,
    /// Assigned when the object is first shown, so creating one costs nothing.
    id: OnceLock<u64>,
    /// The holder's ident as the waiters are shown it (0: none); only locks
    /// write it, on their slow paths (see `lock.rs`).
    holder: AtomicU64,
}

/// The short ids of unnamed objects: one counter for every kind.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Object {
    pub(crate) fn new(kind: WaitKind) -> Arc<Object> {
        Arc::new(Object {
            kind,
            name: None,
            id: OnceLock::new(),
            holder: AtomicU64::new(0),
        })
    }

    /// The same object under a name (a new identity if `this` is shared).
    pub(crate) fn named(this: &mut Arc<Object>, name: String) {
        match Arc::get_mut(this) {
            Some(o) => o.name = Some(name),
            None => {
                *this = Arc::new(Object {
                    kind: this.kind,
                    name: Some(name),
                    id: OnceLock::new(),
                    holder: AtomicU64::new(this.holder.load(Ordering::Relaxed)),
                })
            }
        }
    }

    pub(crate) fn kind(&self) -> WaitKind {
        self.kind
    }

    pub(crate) fn name(&self) -> Option<String> {
        self.name.clone()
    }

    /// The name, or the kind and short id (`Lock#7`).
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => {
                let id = self
                    .id
                    .get_or_init(|| NEXT_ID.fetch_add(1, Ordering::Relaxed));
                let kind = match self.kind {
                    WaitKind::QueueGet | WaitKind::QueuePut => "Queue".to_string(),
                    kind => kind.to_string(),
                };
                format!("{kind}#{id}")
            }
        }
    }

    /// Records `ident` as the holder (0: none). Relaxed: the value is only
    /// shown and checked again by the deadlock search; it orders nothing.
    pub(crate) fn set_holder(&self, ident: u64) {
        self.holder.store(ident, Ordering::Relaxed);
    }

    fn holder(&self) -> Option<u64> {
        Some(self.holder.load(Ordering::Relaxed)).filter(|&h| h != 0)
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Who holds what a thread waits on.
pub(crate) enum Holder {
    /// Nobody owns it (Event, Semaphore, Barrier, a Condition not yet notified).
    Nobody,
    /// The object's current holder (a Lock's acquirer while locked, an RLock's owner).
    Of(Arc<Object>),
    /// A fixed thread (the one being joined).
    Thread(u64),
}

struct Record {
    kind: WaitKind,
    object: Arc<Object>,
    holder: Holder,
    since: Instant,
    timeout: Option<Duration>,
    /// Tells two waits of one thread apart (the deadlock search checks again); one
    /// count per OS thread.
    seq: u64,
}

/// One OS thread's wait record, with the ident the thread ran as when it
/// blocked (a timer's function runs as its Timer on a shared thread), and the
/// `seq` of the record in force (0: none). Written only by its own thread, so its
/// mutex is contended only by a dump reading it.
///
/// A wait's end only clears `active` (a store, no lock), and the record stays,
/// its `Arc<Object>` kept until the thread's next wait replaces it: a thread that
/// waits on the same object again (a consumer on its queue) reuses that `Arc`, so
/// a wait costs one uncontended lock and no reference count (the queue wake-up
/// paid six atomic read-modify-writes per wait for its record before).
#[derive(Default)]
struct Slot {
    record: Mutex<Option<(u64, Record)>>,
    active: AtomicU64,
}

/// Every OS thread's slot that has ever blocked, as weak references: a thread's
/// slot goes with its thread-locals, and dead entries are dropped when the list
/// would grow, so it holds at most about twice the threads alive at once.
fn slots() -> &'static Mutex<Vec<Weak<Slot>>> {
    static SLOTS: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());
    &SLOTS
}

fn register() -> Arc<Slot> {
    let slot = Arc::new(Slot::default());
    let mut all = lock(slots());
    if all.len() == all.capacity() {
        all.retain(|w| w.strong_count() > 0);
    }
    all.push(Arc::downgrade(&slot));
    slot
}

std::thread_local! {
    /// This OS thread's slot, registered on its first wait.
    static SLOT: Arc<Slot> = register();
    /// The `seq` of this OS thread's last record: a record is told apart from the
    /// same thread's others, and a thread keeps its ident, so no shared counter
    /// (an atomic add on a line both sides of every queue hand-off wrote).
    static SEQ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Every live slot's record in force, as `(ident, record)` pairs read by `read`.
fn each_record(mut read: impl FnMut(u64, &Record)) {
    let live: Vec<Arc<Slot>> = lock(slots()).iter().filter_map(Weak::upgrade).collect();
    for slot in live {
        if let Some((ident, rec)) = lock(&slot.record).as_ref() {
            // Under the lock no wait begins; one may end meanwhile, and then the
            // record is read as just before its end. Acquire: pairs with the
            // Release of `begin_since`'s store.
            if slot.active.load(Ordering::Acquire) == rec.seq {
                read(*ident, rec);
            }
        }
    }
}

/// Records that the calling thread is about to block on `object` (shown as
/// `kind`), until the returned guard drops.
pub(crate) fn begin(
    kind: WaitKind,
    object: &Arc<Object>,
    holder: Holder,
    timeout: Option<Duration>,
) -> WaitGuard {
    begin_since(kind, object, holder, timeout, Instant::now())
}

/// As [`begin`], for a wait that began at `since` (a Lock's acquire records each
/// park separately, all showing how long the acquire has waited).
///
/// The cost is on every blocking wait's path (benches/queue `queue_wake`): one
/// uncontended mutex of the thread's own, no hashing, no allocation after the
/// thread's first wait.
pub(crate) fn begin_since(
    kind: WaitKind,
    object: &Arc<Object>,
    holder: Holder,
    timeout: Option<Duration>,
    since: Instant,
) -> WaitGuard {
    // No destructor: readable while thread-locals are torn down.
    let seq = SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let ident = current_ident();
    // While thread-locals are torn down the wait goes unrecorded.
    let _ = SLOT.try_with(|slot| {
        let mut held = lock(&slot.record);
        // The same object as the last wait: its `Arc` is kept, no count touched.
        let (object, replaced) = match held.take() {
            Some((_, old)) if Arc::ptr_eq(&old.object, object) => (old.object, None),
            old => (Arc::clone(object), old),
        };
        let rec = Record {
            kind,
            object,
            holder,
            since,
            timeout,
            seq,
        };
        *held = Some((ident, rec));
        drop(held);
        // The record replaced (its `Arc`s) is dropped after the unlock.
        drop(replaced);
        // Release: a reader that sees `seq` sees the record written; it reads
        // under the lock anyway, this orders the store against a later end.
        slot.active.store(seq, Ordering::Release);
    });
    WaitGuard { seq }
}

/// Records that the calling thread is about to block joining the thread
/// `name` (ident `ident`), with `deadline`, until the returned guard drops.
pub(crate) fn begin_join(ident: u64, name: String, deadline: Option<Instant>) -> WaitGuard {
    let mut object = Object::new(WaitKind::Join);
    Object::named(&mut object, name);
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    begin(WaitKind::Join, &object, Holder::Thread(ident), timeout)
}

/// Clears the calling thread's wait record when dropped (only its own: a later
/// record is left alone).
pub(crate) struct WaitGuard {
    seq: u64,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        let _ = SLOT.try_with(|slot| {
            // Only this thread writes `active`: a load and a store, no lock.
            if slot.active.load(Ordering::Relaxed) == self.seq {
                slot.active.store(0, Ordering::Release);
            }
        });
    }
}

/// One thread's wait as read now, before names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snap {
    pub(crate) kind: WaitKind,
    pub(crate) object: String,
    pub(crate) since: Instant,
    pub(crate) timeout: Option<Duration>,
    pub(crate) holder: Option<u64>,
    /// Whether the holder relation is an edge of the wait-for graph.
    pub(crate) edge: bool,
    pub(crate) seq: u64,
}

impl Snap {
    fn of(r: &Record) -> Snap {
        let (holder, edge) = match &r.holder {
            Holder::Nobody => (None, false),
            Holder::Of(o) => (o.holder(), true),
            Holder::Thread(t) => (Some(*t), true),
        };
        Snap {
            kind: r.kind,
            object: r.object.label(),
            since: r.since,
            timeout: r.timeout,
            holder,
            edge,
            seq: r.seq,
        }
    }

    /// The public view, at `now`, with the holder's name looked up in `names`.
    pub(crate) fn info(&self, now: Instant, names: &HashMap<u64, String>) -> WaitInfo {
        WaitInfo {
            kind: self.kind,
            object: self.object.clone(),
            waited: now.saturating_duration_since(self.since),
            timeout: self.timeout,
            holder: self.holder,
            holder_name: self.holder.and_then(|h| names.get(&h).cloned()),
        }
    }
}

/// Every thread's wait record now, by ident.
pub(crate) fn snapshot() -> HashMap<u64, Snap> {
    let mut all = HashMap::new();
    each_record(|ident, r| {
        all.insert(ident, Snap::of(r));
    });
    all
}

/// The wait record of one thread now.
pub(crate) fn snapshot_of(ident: u64) -> Option<Snap> {
    let mut found = None;
    each_record(|id, r| {
        if id == ident {
            found = Some(Snap::of(r));
        }
    });
    found
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn mine() -> Option<Snap> {
        snapshot_of(current_ident())
    }

    #[test]
    fn a_record_is_read_under_the_ident_and_cleared_by_its_guard() {
        let object = Object::new(WaitKind::Event);
        let guard = begin(WaitKind::Event, &object, Holder::Nobody, None);
        let snap = mine().expect("recorded");
        assert_eq!(snap.kind, WaitKind::Event);
        assert_eq!(snapshot().get(&current_ident()), Some(&snap));
        drop(guard);
        assert_eq!(mine(), None);
    }

    #[test]
    fn a_new_wait_on_the_same_object_is_a_new_record() {
        let object = Object::new(WaitKind::QueueGet);
        let first = begin(WaitKind::QueueGet, &object, Holder::Nobody, None);
        let before = mine().expect("recorded");
        drop(first);
        // The ended record stays in the slot, unseen.
        assert_eq!(mine(), None);
        let timeout = Some(Duration::from_secs(3));
        let second = begin(WaitKind::QueuePut, &object, Holder::Thread(7), timeout);
        let after = mine().expect("recorded again");
        assert_ne!(after.seq, before.seq);
        assert!(after.since >= before.since);
        assert_eq!(
            (after.kind, after.timeout, after.holder),
            (WaitKind::QueuePut, timeout, Some(7))
        );
        assert_eq!(after.object, before.object);
        drop(second);
        assert_eq!(mine(), None);
    }

    #[test]
    fn an_older_guard_leaves_a_newer_record_alone() {
        let object = Object::new(WaitKind::Lock);
        let older = begin(WaitKind::Lock, &object, Holder::Nobody, None);
        let newer = begin(WaitKind::Semaphore, &object, Holder::Nobody, None);
        drop(older);
        assert_eq!(mine().map(|s| s.kind), Some(WaitKind::Semaphore));
        drop(newer);
        assert_eq!(mine(), None);
    }

    #[test]
    fn a_thread_running_as_another_ident_records_under_that_ident() {
        let object = Object::new(WaitKind::Event);
        let ident = crate::sync::next_ident();
        let entered = crate::sync::enter(ident, crate::sync::current_parker());
        let guard = begin(WaitKind::Event, &object, Holder::Nobody, None);
        crate::sync::leave(entered);
        assert!(snapshot_of(ident).is_some());
        assert_eq!(mine(), None);
        drop(guard);
        assert_eq!(snapshot_of(ident), None);
    }

    #[test]
    fn the_slot_list_drops_the_slots_of_ended_threads() {
        let object = Object::new(WaitKind::Event);
        for _ in 0..1000 {
            let o = Arc::clone(&object);
            std::thread::spawn(move || drop(begin(WaitKind::Event, &o, Holder::Nobody, None)))
                .join()
                .unwrap();
        }
        // One at a time: without the pruning the list would hold 1,000 slots.
        assert!(lock(slots()).len() < 300, "{} slots", lock(slots()).len());
    }
}
