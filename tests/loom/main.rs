//! loom models of the locks: every interleaving (up to `LOOM_MAX_PREEMPTIONS`) of
//! 2-3 threads. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom`.
//! loom cannot time out, so the models use untimed waits only.
#![cfg(loom)]

mod condition;
mod lock;
mod rlock;
