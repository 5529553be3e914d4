//! `Lock`: release by another thread, and no lost wake-up between contenders.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::sync::Arc;
use threadkit::threading::Lock;

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
