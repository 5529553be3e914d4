//! [`dump`]: a snapshot of every live thread, for people (a thread dump).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use super::registry;
use super::thread::{Life, Thread};
use super::wait::{self, Snap, WaitInfo};

/// What a listed thread is doing, as [`ThreadInfo::state`] reports it.
///
/// # Examples
///
/// ```
/// use threadkit::threading::ThreadState;
///
/// assert_eq!(ThreadState::Running.to_string(), "running");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadState {
    /// Started, but no OS thread runs it yet (a pending `Timer`).
    Pending,
    /// An OS thread runs it.
    Running,
    /// Its end is being handled (the main thread while the exit rule waits).
    Exiting,
}

impl fmt::Display for ThreadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ThreadState::Pending => "pending",
            ThreadState::Running => "running",
            ThreadState::Exiting => "exiting",
        })
    }
}

/// One row of a thread dump.
///
/// `Display` writes one aligned row; [`ThreadInfo::table`] writes a whole dump with
/// a header.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{dump, ThreadInfo};
///
/// let rows = dump();
/// assert_eq!(rows[0].name, "MainThread");
/// println!("{}", ThreadInfo::table(&rows));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    /// The thread's name.
    pub name: String,
    /// threadkit's ident.
    pub ident: u64,
    /// The kernel's tid, `None` while no OS thread runs it.
    pub native_id: Option<u64>,
    /// The daemon flag.
    pub daemon: bool,
    /// Pending or running.
    pub state: ThreadState,
    /// Time since it was started (or registered).
    pub age: Duration,
    /// Whether it is one of threadkit's own threads (not listed by `enumerate()`).
    pub internal: bool,
    /// What it is blocked on right now, if it is blocked in a threadkit wait.
    pub waiting: Option<WaitInfo>,
}

impl ThreadInfo {
    fn of(
        t: &Thread,
        now: Instant,
        waits: &HashMap<u64, Snap>,
        names: &HashMap<u64, String>,
    ) -> Option<ThreadInfo> {
        let state = match t.life() {
            Life::Initial => return None,
            Life::Pending => ThreadState::Pending,
            Life::Running => ThreadState::Running,
            Life::Finished => ThreadState::Exiting,
        };
        let ident = t.ident()?;
        Some(ThreadInfo {
            name: t.name(),
            ident,
            native_id: t.native_id(),
            daemon: t.is_daemon(),
            state,
            age: t
                .started_at()
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s)),
            internal: t.inner.internal,
            waiting: waits.get(&ident).map(|w| w.info(now, names)),
        })
    }

    /// A whole dump as a table: a header line, then one row per thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{dump, ThreadInfo};
    ///
    /// let text = ThreadInfo::table(&dump()).to_string();
    /// assert!(text.lines().next().unwrap().trim_start().starts_with("IDENT"));
    /// assert!(text.contains("MainThread"));
    /// ```
    pub fn table(rows: &[ThreadInfo]) -> impl fmt::Display + '_ {
        Table(rows)
    }
}

struct Table<'a>(&'a [ThreadInfo]);

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>6} {:>8} {:<7} {:<8} {:>10}  {:<24} WAITING",
            "IDENT", "NATIVE", "DAEMON", "STATE", "AGE", "NAME"
        )?;
        for row in self.0 {
            writeln!(f, "{row}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ThreadInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let native = self
            .native_id
            .map_or_else(|| "-".to_string(), |n| n.to_string());
        let age = format!("{:.3}s", self.age.as_secs_f64());
        let name = format!(
            "{}{}",
            self.name,
            if self.internal { " (internal)" } else { "" }
        );
        let waiting = self
            .waiting
            .as_ref()
            .map_or_else(|| "-".to_string(), WaitInfo::to_string);
        write!(
            f,
            "{:>6} {:>8} {:<7} {:<8} {:>10}  {:<24} {}",
            self.ident,
            native,
            if self.daemon { "yes" } else { "no" },
            self.state,
            age,
            name,
            waiting
        )
    }
}

/// Every thread `enumerate()` lists, with name, ident, native id, daemon flag,
/// state and age: a thread dump. threadkit's own internal threads are left out (see
/// [`dump_all`]).
///
/// # Examples
///
/// ```
/// use threadkit::threading::{dump, ThreadInfo};
///
/// eprint!("{}", ThreadInfo::table(&dump()));
/// ```
pub fn dump() -> Vec<ThreadInfo> {
    dump_all().into_iter().filter(|i| !i.internal).collect()
}

/// Like [`dump`], but threadkit's internal threads (the timer service, server event
/// loops) are included, marked `internal`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::dump_all;
///
/// assert!(dump_all().iter().any(|i| i.name == "MainThread"));
/// ```
pub fn dump_all() -> Vec<ThreadInfo> {
    let threads = registry::snapshot();
    let waits = wait::snapshot();
    rows(&threads, &waits)
}

/// The rows for `threads`, with their waits from `waits`.
pub(crate) fn rows(threads: &[Thread], waits: &HashMap<u64, Snap>) -> Vec<ThreadInfo> {
    let now = Instant::now();
    let holders: HashSet<u64> = waits.values().filter_map(|w| w.holder).collect();
    let names: HashMap<u64, String> = threads
        .iter()
        .filter_map(|t| {
            t.ident()
                .filter(|i| holders.contains(i))
                .map(|i| (i, t.name()))
        })
        .collect();
    threads
        .iter()
        .filter_map(|t| ThreadInfo::of(t, now, waits, &names))
        .collect()
}
