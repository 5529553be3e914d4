//! Synchronisation primitives against their std / parking_lot peers, in one run
//! (ratios hold on a noisy machine, absolute times do not).
//!
//! Run: `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`, and
//! pinned to one core: `taskset -c 0 cargo bench --bench sync -- ...`.
//!
//! Each module has `pub fn benches(c: &mut Criterion)`; adding one is one line in
//! the list below.

use criterion::{criterion_group, criterion_main, Criterion};

mod increments;

macro_rules! bench_modules {
    ($($module:ident,)*) => {
        $(mod $module;)*
        fn all(c: &mut Criterion) {
            $($module::benches(c);)*
        }
    };
}

bench_modules! {
    events,
    locks,
}

criterion_group!(sync, all);
criterion_main!(sync);
