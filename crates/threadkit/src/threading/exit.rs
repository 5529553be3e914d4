//! Python's exit rule: the process waits for non-daemon threads.
//!
//! threadkit registers a process exit hook (`atexit`) the first time a thread is
//! started (before then there is nothing to wait for). When `main` returns, or `std::process::exit` runs on the main thread, the
//! hook marks the main thread finished (`main_thread().is_alive()` turns false, as in
//! CPython) and joins every live non-daemon thread, including ones started while it
//! waits; daemon threads are cut off when the process ends. [`shutdown`] does the same
//! wait early, and the caller goes on.
//!
//! This differs from plain Rust, where returning from `main` ends the process at once
//! and kills every other thread. Known limit: Rust lets only one thread run `exit`, so
//! a non-daemon thread that calls `std::process::exit` while `main` is already exiting
//! waits forever.

use std::sync::{Arc, Mutex, Once, OnceLock};

use super::registry;
use super::thread::{Kind, Thread};
use crate::sync::{self, Parker};
use crate::sys;

/// Registers the exit hook, once (`Thread::start` calls this).
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| sys::at_exit(exit_hook));
}

/// Waits for every live non-daemon threadkit thread except the one on `skip_tid`,
/// parking on `parker`, until none is left (threads started meanwhile included).
fn wait_for_non_daemon(threads: impl Fn() -> Vec<Thread>, skip_tid: u64, parker: &Arc<Parker>) {
    loop {
        let next = threads().into_iter().find(|t| {
            t.inner.kind == Kind::Normal
                && !t.is_daemon()
                && t.is_alive()
                && t.native_id_now() != Some(skip_tid)
        });
        match next {
            Some(t) => {
                t.wait_finished(Arc::clone(parker), None, false);
            }
            None => return,
        }
    }
}

/// What runs when the exit rule starts, before it waits (the executors' shutdown).
static BEFORE_WAIT: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Registers `f` to run when the exit rule starts, before it waits for non-daemon
/// threads. `f` runs in the exit hook, so it must not touch thread-locals.
pub(crate) fn before_exit_wait(f: fn()) {
    sync::lock(&BEFORE_WAIT).push(f);
}

/// The exit hook. glibc has destroyed the exiting thread's thread-locals before exit
/// hooks run, so nothing here touches them: the parker is a static and the caller is
/// recognised by its kernel tid.
extern "C" fn exit_hook() {
    let before: Vec<fn()> = sync::lock(&BEFORE_WAIT).clone();
    for f in before {
        f();
    }
    static EXIT_PARKER: OnceLock<Arc<Parker>> = OnceLock::new();
    let parker = EXIT_PARKER.get_or_init(|| Arc::new(Parker::new()));
    let me = sys::gettid();
    if let Some(main) = registry::main_if_used() {
        if main.native_id_now() == Some(me) {
            main.mark_exiting();
        }
    }
    wait_for_non_daemon(registry::snapshot_no_tls, me, parker);
}

/// Waits now, as the exit rule would at the end of `main`, until every live non-daemon
/// thread has ended (threads started meanwhile included); the caller goes on
/// afterwards. The calling thread and the main thread are not waited for.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{shutdown, Thread};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), threadkit::threading::Error> {
/// let done = Arc::new(AtomicBool::new(false));
/// let d = done.clone();
/// Thread::builder().daemon(false).target(move || d.store(true, Ordering::SeqCst)).spawn()?;
/// shutdown();
/// assert!(done.load(Ordering::SeqCst));
/// # Ok(())
/// # }
/// ```
pub fn shutdown() {
    wait_for_non_daemon(registry::snapshot, sys::gettid(), &sync::current_parker());
}
