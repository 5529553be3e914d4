//! Python's `threading` module: threads you can name, list and join with a timeout,
//! the exit rule for non-daemon threads, and the synchronisation primitives.
//!
//! | Python | threadkit |
//! |---|---|
//! | `Thread(target=f, name=, daemon=)` | [`Thread::new`], [`Thread::builder`] |
//! | subclass overriding `run()` | [`Run`] + [`Thread::from_run`], [`Thread::take_run`] |
//! | `start()`, `join()`, `join(timeout)` | [`Thread::start`], [`Thread::join`], [`Thread::join_timeout`] |
//! | `name`, `ident`, `native_id`, `daemon`, `is_alive()` | [`Thread::name`], [`Thread::ident`], [`Thread::native_id`], [`Thread::is_daemon`], [`Thread::is_alive`] |
//! | `active_count()`, `enumerate()` | [`active_count`], [`enumerate`] |
//! | `current_thread()`, `main_thread()` | [`current_thread`], [`main_thread`] |
//! | `get_ident()`, `get_native_id()` | [`get_ident`], [`get_native_id`] |
//! | `settrace`, `setprofile`, `excepthook` | [`settrace`], [`setprofile`], [`set_excepthook`] |
//! | `stack_size([size])`, `TIMEOUT_MAX` | [`stack_size`], [`set_stack_size`], [`TIMEOUT_MAX`] |
//! | interpreter exit waits for non-daemon threads | the same, from an exit hook; [`shutdown`] waits early |
//! | `Event` | [`Event`] |
//! | `Semaphore(n)`, `BoundedSemaphore(n)` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `Barrier(parties, action, timeout)` | [`Barrier`] |
//! | `local()` | [`Local`] |
//! | `Lock`, `RLock`, `Condition(lock)` | [`Lock`], [`RLock`], [`Condition`] (over its own `RLock`, or [`Condition::with_lock`]) |
//!
//! Beyond Python: cooperative stop ([`Thread::stop`], [`stop_requested`]) that every
//! threadkit wait honours, and [`dump`], a thread dump.
//!
//! # Threads threadkit did not start
//!
//! The main thread is `MainThread` from the registry's first use. Any other thread
//! (a `std::thread`, a libtest test thread) becomes a daemon `Dummy-N` thread on its
//! first [`current_thread`] and stays listed until its OS thread exits; waiting on a
//! threadkit primitive does not register it.

mod barrier;
mod builder;
mod clock;
mod condition;
mod deadlock;
mod dump;
mod dump_later;
mod error;
mod event;
mod exit;
mod hooks;
mod local;
mod lock;
pub(crate) mod registry;
mod rlock;
mod run;
mod semaphore;
mod stack;
mod start;
mod stop;
mod thread;
pub(crate) mod timeout;
mod timer;
mod timer_service;
pub(crate) mod wait;

pub use barrier::Barrier;
pub use builder::ThreadBuilder;
pub use condition::{Condition, ConditionGuard, ConditionLock};
pub use deadlock::{deadlocks, watch_deadlocks, Deadlock, DeadlockWatch};
pub use dump::{dump, dump_all, ThreadInfo, ThreadState};
pub use dump_later::{dump_later, DumpLater};
pub use error::Error;
pub use event::Event;
pub(crate) use exit::before_exit_wait;
pub use exit::shutdown;
pub(crate) use hooks::{call_reporting, panic_message};
pub use hooks::{
    clear_profile, clear_trace, restore_excepthook, set_excepthook, setprofile, settrace,
    ExceptHookArgs, Profile, TraceEvent,
};
pub use local::Local;
pub use lock::{Lock, LockGuard};
pub use registry::{
    active_count, current_thread, enumerate, get_ident, get_native_id, main_thread,
};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, BoundedSemaphoreGuard, Semaphore, SemaphoreGuard};
pub use stack::{set_stack_size, stack_size};
pub use stop::stop_requested;
pub use thread::{Run, Thread};
pub use timeout::TIMEOUT_MAX;
pub(crate) use timeout::{deadline, deadline_after};
pub use timer::Timer;
pub use wait::{WaitInfo, WaitKind};
