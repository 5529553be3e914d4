use std::sync::Arc;

use loom::thread;
use threadkit::threading::Event;

#[test]
fn set_wakes_a_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let t = thread::spawn(move || assert!(e.wait()));
        ev.set();
        t.join().unwrap();
        assert!(ev.is_set());
        assert_eq!(ev.n_waiting(), 0);
    });
}

#[test]
fn set_racing_two_waiters_wakes_both() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let e = ev.clone();
                thread::spawn(move || assert!(e.wait()))
            })
            .collect();
        ev.set();
        for t in waiters {
            t.join().unwrap();
        }
    });
}

#[test]
fn set_then_clear_still_wakes_a_queued_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let t = thread::spawn(move || assert!(e.wait()));
        super::spin_until(|| ev.n_waiting() == 1);
        ev.set();
        ev.clear();
        t.join().unwrap();
        assert!(!ev.is_set());
    });
}

#[test]
fn clear_racing_set_never_loses_a_wake_up_of_a_later_set() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let (e1, e2) = (ev.clone(), ev.clone());
        let clearer = thread::spawn(move || e1.clear());
        let waiter = thread::spawn(move || assert!(e2.wait()));
        clearer.join().unwrap();
        // After the clear (joined), this set must reach the waiter whatever the
        // interleaving was.
        ev.set();
        waiter.join().unwrap();
    });
}
