//! `Condition`: no lost notification, FIFO `notify(1)`, RLock depth across a wait.

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;
use std::sync::Arc;
use threadkit::threading::{Condition, Lock, RLock};

#[test]
fn a_notify_after_the_state_change_is_never_lost() {
    for over_lock in [false, true] {
        loom::model(move || {
            let cond = Arc::new(if over_lock {
                Condition::with_lock(Arc::new(Lock::new()))
            } else {
                Condition::new()
            });
            let ready = Arc::new(AtomicBool::new(false));
            let (c, r) = (Arc::clone(&cond), Arc::clone(&ready));
            let waiter = thread::spawn(move || {
                let _g = c.lock();
                // Relaxed: the condition's lock orders the flag.
                while !r.load(Ordering::Relaxed) {
                    assert!(c.wait().unwrap());
                }
            });
            {
                let _g = cond.lock();
                ready.store(true, Ordering::Relaxed);
                cond.notify(1).unwrap();
            }
            waiter.join().unwrap();
            assert_eq!(cond.n_waiting(), 0);
        });
    }
}

#[test]
fn notify_one_wakes_the_oldest_waiter() {
    // Three threads contending for one lock: at 3 preemptions this model takes
    // about 80 s, at 2 about 3 s, so it is capped at 2.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |p| p.min(2)));
    builder.check(|| {
        let cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
        // Arrival order and wake order as decimal digits (ids 1 and 2), both
        // written under the condition's lock, hence Relaxed.
        let arrived = Arc::new(AtomicUsize::new(0));
        let woke = Arc::new(AtomicUsize::new(0));
        let _g = cond.lock();
        let handles: Vec<_> = (1..=2)
            .map(|id| {
                let (c, a, w) = (Arc::clone(&cond), Arc::clone(&arrived), Arc::clone(&woke));
                thread::spawn(move || {
                    let _g = c.lock();
                    let order = a.load(Ordering::Relaxed) * 10 + id;
                    a.store(order, Ordering::Relaxed);
                    if order >= 10 {
                        c.notify(1).unwrap(); // the last to arrive wakes main
                    }
                    assert!(c.wait().unwrap());
                    w.store(w.load(Ordering::Relaxed) * 10 + id, Ordering::Relaxed);
                    // Only now is the other waiter woken: the wake order is the
                    // order of these records.
                    c.notify(1).unwrap();
                })
            })
            .collect();
        // Main waits first, so it is the oldest; the last arrival wakes it, and
        // when it holds the lock again both waiters are queued, in arrival order.
        assert!(cond.wait().unwrap());
        assert!(arrived.load(Ordering::Relaxed) >= 10);
        cond.notify(1).unwrap();
        drop(_g);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(
            woke.load(Ordering::Relaxed),
            arrived.load(Ordering::Relaxed),
            "woken in arrival order"
        );
    });
}

#[test]
fn wait_releases_every_rlock_level_and_restores_them() {
    loom::model(|| {
        let rlock = Arc::new(RLock::new());
        let cond = Arc::new(Condition::with_lock(Arc::clone(&rlock)));
        let ready = Arc::new(AtomicBool::new(false));
        let (c, r, f) = (Arc::clone(&cond), Arc::clone(&rlock), Arc::clone(&ready));
        let waiter = thread::spawn(move || {
            r.acquire();
            r.acquire();
            while !f.load(Ordering::Relaxed) {
                assert!(c.wait().unwrap());
            }
            r.release().unwrap();
            assert!(r.is_owned(), "the second level is back");
            r.release().unwrap();
            assert!(!r.is_owned());
        });
        rlock.acquire(); // possible only while the waiter waits or is done
        ready.store(true, Ordering::Relaxed);
        cond.notify_all().unwrap();
        rlock.release().unwrap();
        waiter.join().unwrap();
        assert!(!rlock.locked());
    });
}
