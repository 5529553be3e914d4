//! `Lock`: release by another thread, and no lost wake-up between contenders.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::sync::Arc;
use threadkit::threading::{deadlocks, get_ident, Lock};

#[test]
fn release_by_another_thread_wakes_the_blocked_acquirer() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = Arc::clone(&lock);
        let releaser = thread::spawn(move || l.release().unwrap());
        // Blocks until the other thread has released it (a Lock has no owner).
        lock.acquire();
        releaser.join().unwrap();
        assert!(lock.locked());
        lock.release().unwrap();
        assert!(!lock.locked());
        assert_eq!(lock.n_waiting(), 0);
    });
}

#[test]
fn contenders_exclude_each_other_and_none_sleeps_forever() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        let count = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (l, c) = (Arc::clone(&lock), Arc::clone(&count));
                thread::spawn(move || {
                    l.acquire();
                    // A non-atomic increment: only the lock keeps it exact.
                    let v = c.load(Ordering::Relaxed);
                    c.store(v + 1, Ordering::Relaxed);
                    l.release().unwrap();
                })
            })
            .collect();
        lock.acquire();
        let v = count.load(Ordering::Relaxed);
        count.store(v + 1, Ordering::Relaxed);
        lock.release().unwrap();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(count.load(Ordering::Relaxed), 3);
        assert!(!lock.locked());
        assert_eq!(lock.n_waiting(), 0);
    });
}

#[test]
fn double_release_races_report_one_error() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = Arc::clone(&lock);
        let other = thread::spawn(move || l.release().is_ok());
        let mine = lock.release().is_ok();
        let theirs = other.join().unwrap();
        assert!(mine ^ theirs, "exactly one release succeeds");
        assert!(!lock.locked());
    });
}

#[test]
fn a_waiter_is_never_shown_holding_the_lock_it_waits_for() {
    // A hand-off with a thread still queued, `deadlocks()` read between any two
    // steps: the woken waiter's CAS names it the holder and it shows itself to
    // the queue, so its wait record must be gone by then, or this is the false
    // self-deadlock `fifty_threads_hammering_one_lock_are_never_reported` looks
    // for. (loom switches only at its own operations, so a window between two
    // std operations, as a record dropped just after the CAS, is left to that
    // stress test.)
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        // This model's threads: other models run in parallel and may block on a
        // lock they hold themselves for a while (the first model above does).
        let ours = Arc::new(std::sync::Mutex::new(vec![get_ident()]));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (l, o) = (Arc::clone(&lock), Arc::clone(&ours));
                thread::spawn(move || {
                    o.lock().unwrap().push(get_ident());
                    l.acquire();
                    l.release().unwrap();
                })
            })
            .collect();
        crate::spin_until(|| lock.n_waiting() == 2);
        lock.release().unwrap();
        let ours = ours.lock().unwrap().clone();
        for _ in 0..3 {
            let false_ones = deadlocks()
                .into_iter()
                .filter(|d| d.threads().iter().any(|t| ours.contains(&t.ident)))
                .count();
            assert_eq!(false_ones, 0);
            thread::yield_now();
        }
        for h in handles {
            h.join().unwrap();
        }
        assert!(!lock.locked());
    });
}
