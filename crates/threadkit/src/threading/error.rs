//! [`Error`]: the misuse and failure cases of `threadkit::threading`.

use std::fmt;
use std::io;

/// What went wrong in a `threadkit::threading` call.
///
/// Each variant stands for the Python exception CPython raises in the same case, so
/// code ported from Python keeps its error handling; a plain timeout is never an
/// error (those calls return `bool`).
///
/// # Examples
///
/// ```
/// use threadkit::threading::{Error, Lock};
///
/// let lock = Lock::new();
/// assert!(matches!(lock.release(), Err(Error::ReleaseUnlocked)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `start()` on a thread that was already started (Python: `RuntimeError`).
    AlreadyStarted,
    /// `join()` on a thread that was never started (Python: `RuntimeError`).
    NotStarted,
    /// A thread tried to join itself (Python: `RuntimeError`).
    JoinCurrentThread,
    /// `set_daemon()` after `start()` (Python: `RuntimeError`).
    DaemonAfterStart,
    /// `release()` of a lock nobody holds (Python: `RuntimeError`).
    ReleaseUnlocked,
    /// `release()` of an `RLock` by a thread that does not own it (Python:
    /// `RuntimeError`).
    NotOwner,
    /// A `Condition` was waited on or notified without its lock (Python:
    /// `RuntimeError`).
    LockNotHeld,
    /// A `BoundedSemaphore` was released more often than acquired (Python:
    /// `ValueError`).
    OverRelease,
    /// A stack size that is neither 0 nor at least 32 KiB (Python: `ValueError`).
    InvalidStackSize,
    /// A `Barrier` was broken by a timeout, `abort()` or `reset()` (Python:
    /// `BrokenBarrierError`).
    BrokenBarrier,
    /// `Queue::task_done()` called more often than items were put (Python:
    /// `ValueError`).
    TaskDoneTooOften,
    /// The operating system refused to create a thread (Python: `RuntimeError`).
    Spawn(io::Error),
    /// `submit` or `map` on an executor that was shut down, or once the exit rule
    /// started (Python: `RuntimeError`).
    ExecutorShutdown,
    /// `submit` or `map` on an executor whose initializer panicked (Python:
    /// `BrokenThreadPool`, a `RuntimeError`).
    BrokenExecutor,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyStarted => f.write_str("threads can only be started once"),
            Error::NotStarted => f.write_str("cannot join thread before it is started"),
            Error::JoinCurrentThread => f.write_str("cannot join current thread"),
            Error::DaemonAfterStart => f.write_str("cannot set daemon status of active thread"),
            Error::ReleaseUnlocked => f.write_str("release unlocked lock"),
            Error::NotOwner => f.write_str("cannot release un-acquired lock"),
            Error::LockNotHeld => f.write_str("cannot wait on or notify an un-acquired lock"),
            Error::OverRelease => f.write_str("semaphore released too many times"),
            Error::InvalidStackSize => f.write_str("size not valid: 0 or at least 32768 bytes"),
            Error::BrokenBarrier => f.write_str("barrier is broken"),
            Error::TaskDoneTooOften => f.write_str("task_done() called too many times"),
            Error::Spawn(e) => write!(f, "can't start new thread: {e}"),
            Error::ExecutorShutdown => f.write_str("cannot schedule new futures after shutdown"),
            Error::BrokenExecutor => {
                f.write_str("a thread initializer failed, the thread pool is not usable anymore")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn(e) => Some(e),
            _ => None,
        }
    }
}
