//! loom models of the primitives' wait/notify and counting logic: every
//! interleaving (up to `LOOM_MAX_PREEMPTIONS`) of 2-3 threads. loom cannot time out
//! a wait, so the models use untimed waits only.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom`.
#![cfg(loom)]

mod barrier;
mod condition;
mod event;
mod lock;
mod queue;
mod rlock;
mod semaphore;

/// Spins (yielding to loom's scheduler) until `cond` holds.
fn spin_until(cond: impl Fn() -> bool) {
    while !cond() {
        loom::thread::yield_now();
    }
}
