//! Running a thread's body on the calling OS thread *as* that thread, with the hooks
//! around it: a started thread's whole life, or one call of a timer's function.

use std::sync::atomic::Ordering;

use super::hooks;
use super::registry;
use super::thread::{Life, Thread};
use crate::sync::lock;

impl Thread {
    /// Runs the body on the calling OS thread, as this thread: `current_thread()`,
    /// `Local`s and RLock ownership follow it for the call; then ends the thread.
    pub(super) fn run_here(&self) {
        let previous = registry::enter(self);
        let body = {
            let mut st = lock(&self.inner.state);
            self.inner.set_life(Life::Running);
            st.body.take()
        };
        // A `Run` value comes back here, even from a panic.
        let mut keep = None;
        let run = || {
            if let Some(body) = body {
                body.call(&mut keep);
            }
        };
        // threadkit's own threads are no business of the user's hooks.
        let panicked = if self.inner.internal {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err()
        } else {
            hooks::run_body(self, run)
        };
        self.inner.panicked.store(panicked, Ordering::Release);
        if let Some(value) = keep {
            self.put_back_body(value);
        }
        self.drop_locals();
        registry::leave(previous);
        self.finish();
    }

    /// Runs one call of a timer's function on the calling (pooled) OS thread, as this
    /// thread, with the hooks around it; the call's `Local` values are dropped when it
    /// returns. Returns whether it panicked. The thread goes back to `Pending` (no OS
    /// thread) afterwards; `timer.rs` ends it with `finish`.
    pub(crate) fn run_call(&self, f: impl FnOnce()) -> bool {
        let previous = registry::enter(self);
        {
            let _st = lock(&self.inner.state);
            self.inner.set_life(Life::Running);
        }
        let panicked = hooks::run_body(self, f);
        if panicked {
            self.inner.panicked.store(true, Ordering::Release);
        }
        self.drop_locals();
        registry::leave(previous);
        self.clear_native_id();
        let _st = lock(&self.inner.state);
        if self.life() == Life::Running {
            self.inner.set_life(Life::Pending);
        }
        panicked
    }
}
