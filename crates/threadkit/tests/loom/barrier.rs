use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use threadkit::threading::{Barrier, Error};

#[test]
fn two_threads_get_distinct_indices() {
    loom::model(|| {
        let b = Arc::new(Barrier::new(2));
        let bb = b.clone();
        let t = thread::spawn(move || bb.wait().unwrap());
        let mine = b.wait().unwrap();
        let theirs = t.join().unwrap();
        assert_eq!(mine + theirs, 1);
    });
}

#[test]
fn action_runs_once_per_cycle_before_anyone_leaves() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let b = Arc::new(Barrier::new(2).with_action(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        let (bb, rr) = (b.clone(), runs.clone());
        let t = thread::spawn(move || {
            for cycle in 1..=2 {
                bb.wait().unwrap();
                assert_eq!(rr.load(Ordering::SeqCst), cycle);
            }
        });
        for cycle in 1..=2 {
            b.wait().unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), cycle);
        }
        t.join().unwrap();
    });
}

#[test]
fn abort_breaks_the_waiters() {
    loom::model(|| {
        let b = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let bb = b.clone();
                thread::spawn(move || matches!(bb.wait(), Err(Error::BrokenBarrier)))
            })
            .collect();
        b.abort();
        for t in threads {
            assert!(t.join().unwrap());
        }
        assert!(b.broken());
    });
}

#[test]
fn reset_breaks_the_waiters_and_leaves_it_usable() {
    loom::model(|| {
        let b = Arc::new(Barrier::new(2));
        let bb = b.clone();
        let t = thread::spawn(move || matches!(bb.wait(), Err(Error::BrokenBarrier)));
        super::spin_until(|| b.n_waiting() == 1);
        b.reset();
        assert!(t.join().unwrap());
        assert!(!b.broken());
    });
}

#[test]
fn three_threads_trip_once_with_distinct_indices() {
    loom::model(|| {
        let b = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let bb = b.clone();
                thread::spawn(move || bb.wait().unwrap())
            })
            .collect();
        let mut indices = vec![b.wait().unwrap()];
        for t in threads {
            indices.push(t.join().unwrap());
        }
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        assert_eq!(b.n_waiting(), 0);
    });
}
