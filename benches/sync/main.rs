//! Synchronisation primitives against their peers (parking_lot, std), measured in
//! the same run so the ratio holds on a noisy machine.
//!
//! Run: `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`.
//! Each module is one file beside this one, with a `pub fn benches()` made by
//! `criterion_group!`; adding one is adding its name to the `modules!` line.

/// Declares the benchmark modules and runs all their groups.
macro_rules! modules {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*
        criterion::criterion_main!($($module::benches),*);
    };
}

modules!(locks);
