//! `deadlocks()`, `watch_deadlocks` and the wait records behind them: every
//! deadlock scenario ends by itself (stoppable timed waits, or a release from the
//! test), and no cycle is reported where none stands.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::threading::{
    deadlocks, watch_deadlocks, Condition, Deadlock, Event, Lock, RLock, Thread, WaitKind,
};

/// Long enough never to run out during a test, short enough to end a hung one.
const LONG: Duration = Duration::from_secs(60);
mod seeing;
use seeing::{blocked, spawn, PATIENCE};

/// The deadlock whose threads are exactly `names` (in some rotation), polled
/// until it appears.
fn find_deadlock(names: &[&str]) -> Deadlock {
    let start = Instant::now();
    loop {
        for d in deadlocks() {
            let mut got: Vec<&str> = d.threads().iter().map(|t| t.name.as_str()).collect();
            got.sort_unstable();
            let mut want = names.to_vec();
            want.sort_unstable();
            if got == want {
                return d;
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no deadlock of {names:?} appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn no_deadlock_of(names: &[&str]) -> bool {
    deadlocks()
        .iter()
        .all(|d| !d.threads().iter().any(|t| names.contains(&t.name.as_str())))
}

#[test]
fn two_locks_taken_in_opposite_orders_are_reported_with_names_and_holders() {
    let a = Arc::new(Lock::new().with_name("ab-a"));
    let b = Arc::new(Lock::new().with_name("ab-b"));
    let both = Arc::new(threadkit::threading::Barrier::new(2));
    let mk = |first: &Arc<Lock>, second: &Arc<Lock>| {
        let (first, second, both) = (Arc::clone(first), Arc::clone(second), Arc::clone(&both));
        move || {
            first.acquire();
            both.wait().unwrap();
            if second.acquire_timeout(LONG) {
                second.release().unwrap();
            }
            let _ = first.release();
        }
    };
    let t1 = spawn("ab-1", mk(&a, &b));
    let t2 = spawn("ab-2", mk(&b, &a));
    let d = find_deadlock(&["ab-1", "ab-2"]);
    let report = d.to_string();
    assert!(
        report.contains("Found one threadkit deadlock (2 threads)"),
        "{report}"
    );
    for want in [
        "\"ab-1\"",
        "\"ab-2\"",
        "Lock \"ab-a\" held by ab-1",
        "Lock \"ab-b\" held by ab-2",
    ] {
        assert!(report.contains(want), "{want} missing from:\n{report}");
    }
    let first = &d.threads()[0];
    let w = first.waiting.as_ref().unwrap();
    assert_eq!(w.kind, WaitKind::Lock);
    assert_eq!(w.timeout.map(|t| t > Duration::from_secs(30)), Some(true));
    // Each waits for the next, the last for the first.
    for (i, t) in d.threads().iter().enumerate() {
        let next = &d.threads()[(i + 1) % d.threads().len()];
        assert_eq!(t.waiting.as_ref().unwrap().holder, Some(next.ident));
    }
    // The check changed nothing: both are still blocked.
    assert_eq!(a.n_waiting() + b.n_waiting(), 2);
    t1.stop();
    t2.stop();
    t1.join().unwrap();
    t2.join().unwrap();
    assert!(no_deadlock_of(&["ab-1", "ab-2"]));
}

#[test]
fn a_three_thread_cycle_is_reported_in_cycle_order() {
    let locks: Vec<Arc<Lock>> = (0..3)
        .map(|i| Arc::new(Lock::new().with_name(format!("tri-{i}"))))
        .collect();
    let all = Arc::new(threadkit::threading::Barrier::new(3));
    let names = ["tri-t0", "tri-t1", "tri-t2"];
    let threads: Vec<Thread> = (0..3)
        .map(|i| {
            let mine = Arc::clone(&locks[i]);
            let next = Arc::clone(&locks[(i + 1) % 3]);
            let all = Arc::clone(&all);
            spawn(names[i], move || {
                mine.acquire();
                all.wait().unwrap();
                if next.acquire_timeout(LONG) {
                    next.release().unwrap();
                }
                let _ = mine.release();
            })
        })
        .collect();
    let d = find_deadlock(&names);
    assert_eq!(d.threads().len(), 3);
    for (i, t) in d.threads().iter().enumerate() {
        let next = &d.threads()[(i + 1) % 3];
        assert_eq!(
            t.waiting.as_ref().unwrap().holder_name.as_deref(),
            Some(next.name.as_str())
        );
    }
    for t in &threads {
        t.stop();
    }
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn rlocks_held_by_their_owners_form_a_deadlock() {
    let a = Arc::new(RLock::new().with_name("rl-a"));
    let b = Arc::new(RLock::new());
    let both = Arc::new(threadkit::threading::Barrier::new(2));
    let mk = |first: &Arc<RLock>, second: &Arc<RLock>| {
        let (first, second, both) = (Arc::clone(first), Arc::clone(second), Arc::clone(&both));
        move || {
            first.acquire();
            first.acquire(); // re-entered: still one owner
            both.wait().unwrap();
            if second.acquire_timeout(LONG) {
                second.release().unwrap();
            }
            first.release().unwrap();
            first.release().unwrap();
        }
    };
    let t1 = spawn("rl-1", mk(&a, &b));
    let t2 = spawn("rl-2", mk(&b, &a));
    let d = find_deadlock(&["rl-1", "rl-2"]);
    let report = d.to_string();
    assert!(report.contains("RLock \"rl-a\" held by rl-1"), "{report}");
    assert!(
        report.contains("RLock RLock#"),
        "an unnamed RLock is shown by id:\n{report}"
    );
    t1.stop();
    t2.stop();
    t1.join().unwrap();
    t2.join().unwrap();
}

#[test]
fn two_threads_joining_each_other_form_a_deadlock() {
    let other: Arc<Mutex<Option<Thread>>> = Arc::new(Mutex::new(None));
    let go = Arc::new(Event::new());
    let joiner = |slot: Arc<Mutex<Option<Thread>>>, go: Arc<Event>| {
        move || {
            go.wait();
            let t = slot.lock().unwrap().clone().unwrap();
            let _ = t.join_timeout(LONG);
        }
    };
    let slot1 = Arc::new(Mutex::new(None));
    let t1 = spawn("jn-1", joiner(Arc::clone(&slot1), Arc::clone(&go)));
    let t2 = spawn("jn-2", joiner(Arc::clone(&other), Arc::clone(&go)));
    *slot1.lock().unwrap() = Some(t2.clone());
    *other.lock().unwrap() = Some(t1.clone());
    go.set();
    let d = find_deadlock(&["jn-1", "jn-2"]);
    let report = d.to_string();
    assert!(report.contains("join \"jn-2\" of jn-2"), "{report}");
    t1.stop();
    t2.stop();
    t1.join_timeout(LONG).unwrap();
    t2.join_timeout(LONG).unwrap();
}

#[test]
fn a_notified_waiter_taking_the_lock_again_is_part_of_a_cycle() {
    let inner = Arc::new(Lock::new().with_name("cv-lock"));
    let cond = Arc::new(Condition::with_lock(Arc::clone(&inner)).with_name("cv"));
    let other = Arc::new(Lock::new().with_name("cv-other"));
    let (c1, o1) = (Arc::clone(&cond), Arc::clone(&other));
    let t1 = spawn("cv-1", move || {
        o1.acquire();
        c1.acquire();
        c1.wait().unwrap(); // notified, then blocks taking cv-lock again
        o1.release().unwrap();
        let _ = c1.release();
    });
    blocked("cv-1", WaitKind::Condition);
    let (c2, o2) = (Arc::clone(&cond), Arc::clone(&other));
    let t2 = spawn("cv-2", move || {
        c2.acquire();
        c2.notify(1).unwrap();
        if o2.acquire_timeout(LONG) {
            o2.release().unwrap();
        }
    });
    let d = find_deadlock(&["cv-1", "cv-2"]);
    let cv1 = d.threads().iter().find(|t| t.name == "cv-1").unwrap();
    let w = cv1.waiting.as_ref().unwrap();
    assert_eq!((w.kind, w.object.as_str()), (WaitKind::Condition, "cv"));
    assert_eq!(w.holder_name.as_deref(), Some("cv-2"));
    // A Lock has no owner: releasing it here lets cv-1 through, which ends both.
    inner.release().unwrap();
    t1.join_timeout(LONG).unwrap();
    t2.join_timeout(LONG).unwrap();
}

#[test]
fn a_thread_blocked_on_a_lock_it_holds_is_a_deadlock_of_one() {
    let l = Arc::new(Lock::new().with_name("self"));
    let l2 = Arc::clone(&l);
    let t = spawn("self-1", move || {
        l2.acquire();
        let _ = l2.acquire_timeout(LONG);
    });
    let d = find_deadlock(&["self-1"]);
    assert!(d
        .to_string()
        .contains("Found one threadkit deadlock (1 thread)"));
    assert_eq!(
        d.threads()[0].waiting.as_ref().unwrap().holder,
        Some(d.threads()[0].ident)
    );
    t.stop();
    t.join().unwrap();
    // Stopped: the wait record is gone.
    assert!(no_deadlock_of(&["self-1"]));
}

#[test]
fn fifty_threads_hammering_one_lock_are_never_reported() {
    let l = Arc::new(Lock::new().with_name("hammered"));
    let done = Arc::new(AtomicBool::new(false));
    let names: Vec<String> = (0..50).map(|i| format!("hammer-{i}")).collect();
    let threads: Vec<Thread> = names
        .iter()
        .map(|n| {
            let (l, done) = (Arc::clone(&l), Arc::clone(&done));
            spawn(n, move || {
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) && n < 50_000_000 {
                    let _g = l.lock();
                    n += 1;
                }
            })
        })
        .collect();
    let start = Instant::now();
    let mut checks = 0;
    let mut blocked_seen = false;
    while start.elapsed() < Duration::from_secs(1) {
        for d in deadlocks() {
            assert!(
                !d.threads().iter().any(|t| t.name.starts_with("hammer-")),
                "false positive:\n{d}"
            );
        }
        blocked_seen |= l.n_waiting() > 0;
        checks += 1;
    }
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert!(checks > 10, "only {checks} checks ran");
    eprintln!("{checks} checks; waiters seen: {blocked_seen}");
}

#[test]
fn watch_deadlocks_reports_a_standing_deadlock_once() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let watch = watch_deadlocks(Duration::from_millis(10), move |d| {
        if d.threads().iter().any(|t| t.name == "watched") {
            s.fetch_add(1, Ordering::SeqCst);
        }
    });
    let l = Arc::new(Lock::new());
    let l2 = Arc::clone(&l);
    let t = spawn("watched", move || {
        l2.acquire();
        let _ = l2.acquire_timeout(LONG);
    });
    let start = Instant::now();
    while seen.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < PATIENCE, "never reported");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Many more checks run while it stands; none reports it again.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    t.stop();
    t.join().unwrap();
    drop(watch);
}
