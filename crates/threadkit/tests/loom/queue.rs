//! The queue's hand-off: grants to blocked getters and putters, and shutdown.
//! `Queue::new(0)` keeps its items under the lock; a bounded queue keeps them in a
//! ring that puts and gets use without the lock while nobody waits, so the models
//! that matter for both run on both (`STORES`), and those on `Queue::new(1)` or
//! more race the lock-free calls with the ones that queue, grant and shut down.

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use threadkit::queue::{GetError, PutError, Queue};

use super::spin_until;

/// A capacity without a ring (0: unbounded) and one with.
const STORES: [usize; 2] = [0, 2];

/// A model whose wait for a thread to queue, while that thread spins on the ring
/// first, takes more branches than loom's default allows.
fn model_with_spin(f: impl Fn() + Sync + Send + 'static) {
    let mut model = loom::model::Builder::new();
    model.max_branches = 20_000;
    model.check(f);
}

#[test]
fn put_wakes_a_blocked_get() {
    for cap in STORES {
        loom::model(move || {
            let q = Arc::new(Queue::new(cap));
            let q2 = q.clone();
            let t = thread::spawn(move || q2.get());
            q.put(1).unwrap();
            assert_eq!(t.join().unwrap(), Ok(1));
            assert_eq!(q.n_waiting(), 0);
            assert!(q.empty());
        });
    }
}

#[test]
fn a_granted_item_is_not_taken_by_a_later_try_get() {
    // With a ring, the try_get races the put's lock-free store and its grant.
    for cap in STORES {
        model_with_spin(move || {
            let q = Arc::new(Queue::new(cap));
            let (qa, qb) = (q.clone(), q.clone());
            let a = thread::spawn(move || qa.get());
            spin_until(|| q.n_waiting() == 1);
            let b = thread::spawn(move || qb.try_get());
            q.put(1).unwrap();
            assert_eq!(a.join().unwrap(), Ok(1));
            assert_eq!(b.join().unwrap(), Err(GetError::Empty));
        });
    }
}

#[test]
fn get_wakes_a_blocked_put_in_order() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let q2 = q.clone();
        let t = thread::spawn(move || q2.put(2));
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get(), Ok(2));
        t.join().unwrap().unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
    });
}

#[test]
fn shutdown_loses_no_item_and_wakes_everyone() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put(0).unwrap();
        let (qp, qg) = (q.clone(), q.clone());
        let putter = thread::spawn(move || qp.put(1));
        let getter = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(item) = qg.get() {
                got.push(item);
            }
            got
        });
        q.shutdown(false);
        let put = putter.join().unwrap();
        let got = getter.join().unwrap();
        match put {
            Ok(()) => assert_eq!(got, [0, 1]),
            Err(PutError::ShutDown(1)) => assert_eq!(got, [0]),
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert_eq!(q.n_waiting(), 0);
    });
}

#[test]
fn task_done_wakes_join() {
    for cap in STORES {
        loom::model(move || {
            let q = Arc::new(Queue::new(cap));
            q.put(1).unwrap();
            let q2 = q.clone();
            let t = thread::spawn(move || {
                q2.get().unwrap();
                q2.task_done().unwrap();
            });
            q.join();
            assert_eq!(q.unfinished_tasks(), 0);
            assert!(q.task_done().is_err());
            t.join().unwrap();
        });
    }
}

#[test]
fn a_spinning_get_sees_a_put_then_a_shutdown() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let q2 = q.clone();
        let t = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(item) = q2.get() {
                got.push(item);
            }
            got
        });
        q.put(1).unwrap();
        q.shutdown(false);
        assert_eq!(t.join().unwrap(), [1]);
        assert_eq!(q.n_waiting(), 0);
    });
}

#[test]
fn a_spinning_get_does_not_overtake_a_queued_one() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let (qa, qb) = (q.clone(), q.clone());
        let a = thread::spawn(move || qa.get());
        spin_until(|| q.n_waiting() == 1);
        // b arrives as the put comes: it may spin, but a was queued first.
        let b = thread::spawn(move || qb.get());
        q.put(1).unwrap();
        assert_eq!(a.join().unwrap(), Ok(1));
        q.put(2).unwrap();
        assert_eq!(b.join().unwrap(), Ok(2));
    });
}

#[test]
fn a_timed_out_get_granted_meanwhile_keeps_its_item_and_reuses_its_entry() {
    // Under loom a zero timeout has passed at once: the getter queues, times out
    // and withdraws, unless the put granted it first. Its second get reuses the
    // wait entry the put may still hold; a stale wake-up must not end it early.
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let q2 = q.clone();
        let t = thread::spawn(move || {
            let first = q2.get_timeout(Duration::ZERO);
            (first, q2.get())
        });
        q.put(1).unwrap();
        q.put(2).unwrap();
        match t.join().unwrap() {
            (Ok(1), Ok(2)) => assert!(q.empty()),
            (Err(GetError::Empty), Ok(1)) => assert_eq!(q.try_get(), Ok(2)),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(q.n_waiting(), 0);
    });
}

#[test]
fn ping_pong_reuses_wait_entries() {
    loom::model(|| {
        let (ping, pong) = (Arc::new(Queue::new(1)), Arc::new(Queue::new(1)));
        let (ping2, pong2) = (ping.clone(), pong.clone());
        let t = thread::spawn(move || {
            for _ in 0..2 {
                let v = ping2.get().unwrap();
                pong2.put(v).unwrap();
            }
        });
        for i in 0..2 {
            ping.put(i).unwrap();
            assert_eq!(pong.get(), Ok(i));
        }
        t.join().unwrap();
    });
}

#[test]
fn ring_hands_items_over_in_order() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let q2 = q.clone();
        let t = thread::spawn(move || {
            q2.put(1).unwrap();
            q2.put(2).unwrap();
        });
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get(), Ok(2));
        t.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
        assert_eq!(q.n_waiting(), 0);
    });
}

#[test]
fn immediate_shutdown_racing_a_lock_free_put_leaves_nothing_behind() {
    loom::model(|| {
        let q = Arc::new(Queue::new(2));
        let q2 = q.clone();
        let t = thread::spawn(move || q2.put(1));
        q.shutdown(true);
        match t.join().unwrap() {
            Ok(()) | Err(PutError::ShutDown(1)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.empty());
    });
}

#[test]
fn a_lock_free_put_does_not_take_a_slot_granted_to_a_queued_one() {
    model_with_spin(|| {
        let q = Arc::new(Queue::new(1));
        q.put(0).unwrap();
        let (qa, qb) = (q.clone(), q.clone());
        let a = thread::spawn(move || qa.put(1));
        spin_until(|| q.n_waiting() == 1);
        let b = thread::spawn(move || qb.try_put(2));
        assert_eq!(q.get(), Ok(0));
        assert!(matches!(b.join().unwrap(), Err(PutError::Full(2))));
        assert_eq!(q.get(), Ok(1));
        a.join().unwrap().unwrap();
    });
}
