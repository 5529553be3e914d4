//! [`deadlocks`]: the cycles of the wait-for graph, and [`watch_deadlocks`], which
//! looks for them periodically.
//!
//! The graph has an edge from a blocked thread to the thread that holds what it
//! waits on: a `Lock`'s acquirer while it is locked, an `RLock`'s owner, the lock a notified
//! `Condition` waiter takes again, the thread being joined. Every thread waits on
//! one thing at a time, so each node has at most one edge out and the cycles are
//! found in one pass. Waits nobody owns (Event, Semaphore, a Condition not yet
//! notified, Barrier, queues) are no edges.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dump::{rows, ThreadInfo, ThreadState};
use super::wait::{self, Snap};
use super::{registry, Event, Thread};

/// One cycle of threads each waiting for the next: what [`deadlocks`] finds.
///
/// `Display` writes a report in the JVM's manner, naming every thread, what it
/// waits on, who holds that and for how long.
///
/// # Examples
///
/// ```
/// use threadkit::threading::deadlocks;
///
/// for d in deadlocks() {
///     eprintln!("{d}");
///     assert!(!d.threads().is_empty());
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlock {
    threads: Vec<ThreadInfo>,
    /// Each member's ident and wait sequence number: the same cycle seen again
    /// has the same key; one that dissolved and formed again has another.
    key: Vec<(u64, u64)>,
}

impl Deadlock {
    /// The threads of the cycle, in cycle order (each waits for the next, the
    /// last for the first), each with [`waiting`](ThreadInfo::waiting) set.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::deadlocks;
    ///
    /// for d in deadlocks() {
    ///     assert!(d.threads().iter().all(|t| t.waiting.is_some()));
    /// }
    /// ```
    pub fn threads(&self) -> &[ThreadInfo] {
        &self.threads
    }
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.threads.len();
        writeln!(
            f,
            "Found one threadkit deadlock ({n} thread{}):",
            if n == 1 { "" } else { "s" }
        )?;
        writeln!(f, "=============================")?;
        for t in &self.threads {
            writeln!(f, "{:?} (ident {}):", t.name, t.ident)?;
            if let Some(w) = &t.waiting {
                writeln!(f, "  waiting for {w}")?;
            }
        }
        Ok(())
    }
}

/// Every deadlock now: each cycle of the wait-for graph (waits on a `Lock`,
/// an `RLock`, a `Condition`'s lock taken again after a notify, `join`),
/// including a thread blocked on a `Lock` it holds itself.
///
/// It changes nothing: the threads stay blocked as they were, and a timed wait
/// still times out (a cycle of timed waits is reported while it stands). A cycle
/// is reported only if it is still there when read a second time, so threads that
/// merely pass through a contended lock are never reported.
///
/// # Examples
///
/// ```
/// use threadkit::threading::deadlocks;
///
/// assert!(deadlocks().is_empty());
/// ```
pub fn deadlocks() -> Vec<Deadlock> {
    let waits = wait::snapshot();
    let cycles = cycles(&waits);
    if cycles.is_empty() {
        return Vec::new();
    }
    let threads = registry::snapshot();
    cycles
        .into_iter()
        .filter_map(|c| confirm(&c, &waits))
        .map(|(c, snaps)| report(&c, &snaps, &threads))
        .collect()
}

/// The cycles of the graph `waits` defines, each from its smallest ident.
fn cycles(waits: &HashMap<u64, Snap>) -> Vec<Vec<u64>> {
    let next = |id: u64| waits.get(&id).filter(|w| w.edge).and_then(|w| w.holder);
    let mut starts: Vec<u64> = waits.keys().copied().collect();
    starts.sort_unstable();
    // The walk that first reached each node.
    let mut color: HashMap<u64, u64> = HashMap::new();
    let mut found = Vec::new();
    for &start in &starts {
        let mut at = start;
        loop {
            if let Some(&c) = color.get(&at) {
                if c == start {
                    found.push(cycle_from(at, &next));
                }
                break;
            }
            color.insert(at, start);
            match next(at) {
                Some(n) => at = n,
                None => break,
            }
        }
    }
    found
}

/// The cycle through `at`, rotated to start at its smallest ident.
fn cycle_from(at: u64, next: &impl Fn(u64) -> Option<u64>) -> Vec<u64> {
    let mut c = vec![at];
    let mut n = next(at).expect("a cycle node has an edge");
    while n != at {
        c.push(n);
        n = next(n).expect("a cycle node has an edge");
    }
    let min = c
        .iter()
        .enumerate()
        .min_by_key(|(_, &id)| id)
        .map_or(0, |(i, _)| i);
    c.rotate_left(min);
    c
}

/// Reads every member's wait again: the cycle stands if each still waits in
/// the same wait for the same holder.
fn confirm(c: &[u64], waits: &HashMap<u64, Snap>) -> Option<(Vec<u64>, Vec<Snap>)> {
    std::thread::yield_now();
    let mut snaps = Vec::with_capacity(c.len());
    for id in c {
        let now = wait::snapshot_of(*id)?;
        if waits.get(id) != Some(&now) {
            return None;
        }
        snaps.push(now);
    }
    Some((c.to_vec(), snaps))
}

fn report(c: &[u64], snaps: &[Snap], threads: &[Thread]) -> Deadlock {
    let waits: HashMap<u64, Snap> = c.iter().copied().zip(snaps.iter().cloned()).collect();
    let members: HashSet<u64> = c.iter().copied().collect();
    let listed: Vec<Thread> = threads
        .iter()
        .filter(|t| t.ident().is_some_and(|i| members.contains(&i)))
        .cloned()
        .collect();
    let mut by_ident: HashMap<u64, ThreadInfo> = rows(&listed, &waits)
        .into_iter()
        .map(|r| (r.ident, r))
        .collect();
    let now = Instant::now();
    let names: HashMap<u64, String> = by_ident.iter().map(|(&i, r)| (i, r.name.clone())).collect();
    let threads = c
        .iter()
        .map(|id| {
            by_ident.remove(id).unwrap_or_else(|| ThreadInfo {
                // A thread threadkit did not start and that never asked for
                // its current_thread(): listed by ident only.
                name: format!("<unlisted thread {id}>"),
                ident: *id,
                native_id: None,
                daemon: true,
                state: ThreadState::Running,
                age: Duration::ZERO,
                internal: false,
                waiting: waits.get(id).map(|w| w.info(now, &names)),
            })
        })
        .collect();
    let key = c.iter().zip(snaps).map(|(&id, s)| (id, s.seq)).collect();
    Deadlock { threads, key }
}

/// Checks for deadlocks every `every` on an internal thread and calls `f` once
/// for each new one, until the returned handle is dropped.
///
/// A deadlock is reported once while it stands; one that dissolves (a timed
/// wait gave up) and forms again is reported again. `f` runs on the watching
/// thread, under no lock of threadkit's.
///
/// # Panics
///
/// If the watching thread cannot be started (the system is out of threads).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::threading::watch_deadlocks;
///
/// let watch = watch_deadlocks(Duration::from_millis(100), |d| eprintln!("{d}"));
/// drop(watch); // stops watching
/// ```
pub fn watch_deadlocks(
    every: Duration,
    f: impl Fn(&Deadlock) + Send + Sync + 'static,
) -> DeadlockWatch {
    let stop = Arc::new(Event::new());
    let stopped = Arc::clone(&stop);
    Thread::builder()
        .name("deadlock-watch")
        .internal()
        .target(move || {
            let mut seen: HashSet<Vec<(u64, u64)>> = HashSet::new();
            while !stopped.wait_timeout(every) {
                let now = deadlocks();
                for d in &now {
                    if !seen.contains(&d.key) {
                        f(d);
                    }
                }
                seen = now.into_iter().map(|d| d.key).collect();
            }
        })
        .spawn()
        .expect("start the deadlock watch thread");
    DeadlockWatch { stop }
}

/// Keeps [`watch_deadlocks`] watching; dropping it stops the watch.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::threading::watch_deadlocks;
///
/// let _watch = watch_deadlocks(Duration::from_secs(1), |d| eprintln!("{d}"));
/// ```
#[derive(Debug)]
pub struct DeadlockWatch {
    stop: Arc<Event>,
}

impl Drop for DeadlockWatch {
    fn drop(&mut self) {
        // Only signals: the watching thread ends at its next wake-up.
        self.stop.set();
    }
}
