//! `Condition`: the cases of CPython's `lock_tests.ConditionTests` over both lock
//! kinds, plus FIFO `notify(n)`, `LockNotHeld`, RLock depth, cooperative stop and
//! a notify racing a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::threading::{
    current_thread, Condition, ConditionLock, Error, Lock, RLock, Thread, TIMEOUT_MAX,
};

/// Polls `f` until it holds, failing the test after 10 s.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Both kinds of condition: over its own RLock, and over a shared Lock.
fn both_kinds() -> [Arc<Condition>; 2] {
    [
        Arc::new(Condition::new()),
        Arc::new(Condition::with_lock(Arc::new(Lock::new()))),
    ]
}

fn is_lock_not_held<T>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::LockNotHeld))
}

#[test]
fn default_condition_is_reentrant() {
    // CPython ConditionTests.test_acquire, first half.
    let cond = Condition::new();
    cond.acquire();
    cond.acquire();
    cond.release().unwrap();
    cond.release().unwrap();
    assert!(matches!(cond.release(), Err(Error::NotOwner)));
    assert!(matches!(cond.lock_kind(), ConditionLock::RLock(_)));
    assert_eq!(Condition::default().n_waiting(), 0);
}

#[test]
fn condition_over_a_shared_lock_uses_that_lock() {
    // CPython ConditionTests.test_acquire, second half.
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(Arc::clone(&lock));
    cond.acquire();
    assert!(!lock.try_acquire());
    cond.release().unwrap();
    assert!(lock.try_acquire());
    lock.release().unwrap();
    {
        let _g = cond.lock();
        assert!(!lock.try_acquire());
    }
    assert!(!lock.locked());
    assert!(matches!(cond.release(), Err(Error::ReleaseUnlocked)));
}

#[test]
fn condition_over_a_shared_rlock_uses_that_rlock() {
    let rlock = Arc::new(RLock::new());
    let cond = Condition::with_lock(Arc::clone(&rlock));
    let _g = rlock.lock();
    cond.notify(1).unwrap(); // held through the shared RLock
    let _g2 = cond.lock();
    assert!(rlock.is_owned());
    assert!(format!("{cond:?}").contains("RLock"));
}

#[test]
fn waiting_or_notifying_without_the_lock_is_lock_not_held() {
    for cond in both_kinds() {
        assert!(is_lock_not_held(cond.wait()));
        assert!(is_lock_not_held(
            cond.wait_timeout(Duration::from_millis(1))
        ));
        assert!(is_lock_not_held(cond.wait_for(|| true, None)));
        assert!(is_lock_not_held(cond.notify(1)));
        assert!(is_lock_not_held(cond.notify_all()));
        assert_eq!(cond.n_waiting(), 0);
        // Nothing was left behind: the lock works as before.
        let _g = cond.lock();
        cond.notify(1).unwrap();
    }
}

#[test]
fn over_an_rlock_held_by_another_thread_it_is_not_held() {
    let cond = Arc::new(Condition::new());
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let c = Arc::clone(&cond);
    let t = thread::spawn(move || {
        let _g = c.lock();
        tx.send(()).unwrap();
        done_rx.recv().unwrap();
    });
    rx.recv().unwrap();
    assert!(is_lock_not_held(cond.wait()));
    assert!(is_lock_not_held(cond.notify(1)));
    done_tx.send(()).unwrap();
    t.join().unwrap();
}

#[test]
fn over_a_lock_held_by_another_thread_it_is_held() {
    // A Lock has no owner: "held" means held by anyone.
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(Arc::clone(&lock));
    let l = Arc::clone(&lock);
    thread::spawn(move || l.acquire()).join().unwrap();
    cond.notify(1).unwrap();
    cond.notify_all().unwrap();
    lock.release().unwrap();
}

#[test]
fn notify_n_wakes_the_oldest_waiters_first() {
    for cond in both_kinds() {
        const N: usize = 5;
        let (tx, rx) = mpsc::channel();
        let mut handles = Vec::new();
        for i in 0..N {
            let (c, tx) = (Arc::clone(&cond), tx.clone());
            handles.push(thread::spawn(move || {
                c.acquire();
                let r = c.wait().unwrap();
                c.release().unwrap();
                tx.send((i, r)).unwrap();
            }));
            // Queue them in a known order.
            wait_until("the next waiter", || cond.n_waiting() == i + 1);
        }
        let woken = |n: usize, notify: &dyn Fn(&Condition)| {
            cond.acquire();
            notify(&cond);
            cond.release().unwrap();
            let mut ids: Vec<_> = (0..n)
                .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(woken(2, &|c| c.notify(2).unwrap()), [(0, true), (1, true)]);
        assert_eq!(cond.n_waiting(), 3);
        assert_eq!(woken(1, &|c| c.notify(1).unwrap()), [(2, true)]);
        assert_eq!(cond.n_waiting(), 2);
        cond.acquire();
        cond.notify(0).unwrap(); // wakes nobody
        cond.release().unwrap();
        assert_eq!(cond.n_waiting(), 2);
        assert_eq!(
            woken(2, &|c| c.notify_all().unwrap()),
            [(3, true), (4, true)]
        );
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(cond.n_waiting(), 0);
    }
}

/// CPython ConditionTests._check_notify: five workers wait twice; notify 3, then
/// 5 (some in their first wait, some in their second), then all.
fn check_notify(cond: &Arc<Condition>) {
    const N: usize = 5;
    let phase = Arc::new(AtomicUsize::new(0));
    let results1 = Arc::new(Mutex::new(Vec::new()));
    let results2 = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let (c, p) = (Arc::clone(cond), Arc::clone(&phase));
            let (r1, r2) = (Arc::clone(&results1), Arc::clone(&results2));
            thread::spawn(move || {
                c.acquire();
                let r = c.wait().unwrap();
                c.release().unwrap();
                r1.lock().unwrap().push((r, p.load(Ordering::SeqCst)));
                c.acquire();
                let r = c.wait().unwrap();
                c.release().unwrap();
                r2.lock().unwrap().push((r, p.load(Ordering::SeqCst)));
            })
        })
        .collect();
    let len = |v: &Arc<Mutex<Vec<(bool, usize)>>>| v.lock().unwrap().len();
    wait_until("all in their first wait", || cond.n_waiting() == N);

    cond.acquire();
    cond.notify(3).unwrap();
    phase.store(1, Ordering::SeqCst);
    cond.release().unwrap();
    wait_until("3 first results", || len(&results1) >= 3);
    assert_eq!(*results1.lock().unwrap(), [(true, 1); 3]);
    assert!(results2.lock().unwrap().is_empty());

    wait_until("the 3 in their second wait", || cond.n_waiting() == N);
    cond.acquire();
    cond.notify(5).unwrap();
    phase.store(2, Ordering::SeqCst);
    cond.release().unwrap();
    wait_until("all woken", || len(&results1) + len(&results2) >= N + 3);
    assert_eq!(
        *results1.lock().unwrap(),
        [(true, 1), (true, 1), (true, 1), (true, 2), (true, 2)]
    );
    assert_eq!(*results2.lock().unwrap(), [(true, 2); 3]);

    wait_until("the last 2 in their second wait", || cond.n_waiting() == 2);
    cond.acquire();
    cond.notify_all().unwrap();
    phase.store(3, Ordering::SeqCst);
    cond.release().unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        *results2.lock().unwrap(),
        [(true, 2), (true, 2), (true, 2), (true, 3), (true, 3)]
    );
}

#[test]
fn notify_phases_as_cpython() {
    for cond in both_kinds() {
        check_notify(&cond);
        check_notify(&cond); // again: the internal state is still fine
    }
}

#[test]
fn wait_timeout_returns_false_no_earlier_with_the_lock_held() {
    // CPython ConditionTests.test_timeout.
    for cond in both_kinds() {
        let timeout = Duration::from_millis(50);
        let handles: Vec<_> = (0..5)
            .map(|_| {
                let c = Arc::clone(&cond);
                thread::spawn(move || {
                    let _g = c.lock();
                    let start = Instant::now();
                    let r = c.wait_timeout(timeout).unwrap();
                    let held = match c.lock_kind() {
                        ConditionLock::Lock(l) => l.locked(),
                        ConditionLock::RLock(r) => r.is_owned(),
                    };
                    (r, start.elapsed(), held)
                })
            })
            .collect();
        for h in handles {
            let (r, elapsed, held) = h.join().unwrap();
            assert!(!r);
            assert!(elapsed >= timeout);
            assert!(held);
        }
        assert_eq!(cond.n_waiting(), 0);
    }
}

#[test]
fn wait_timeout_beyond_max_does_not_panic() {
    let cond = Arc::new(Condition::new());
    let c = Arc::clone(&cond);
    let t = thread::spawn(move || {
        let _g = c.lock();
        c.wait_timeout(TIMEOUT_MAX + Duration::from_secs(1))
            .unwrap()
    });
    wait_until("the waiter", || cond.n_waiting() == 1);
    let _g = cond.lock();
    cond.notify(1).unwrap();
    drop(_g);
    assert!(t.join().unwrap());
    let _g = cond.lock();
    assert!(cond
        .wait_for(|| true, Some(TIMEOUT_MAX + Duration::from_secs(1)))
        .unwrap());
}

#[test]
fn wait_for_returns_true_once_the_predicate_holds() {
    // CPython ConditionTests.test_waitfor.
    for cond in both_kinds() {
        let state = Arc::new(AtomicUsize::new(0));
        let (c, s) = (Arc::clone(&cond), Arc::clone(&state));
        let t = thread::spawn(move || {
            let _g = c.lock();
            let r = c.wait_for(|| s.load(Ordering::SeqCst) == 4, None).unwrap();
            (r, s.load(Ordering::SeqCst))
        });
        for _ in 0..4 {
            let _g = cond.lock();
            state.fetch_add(1, Ordering::SeqCst);
            cond.notify(1).unwrap();
        }
        assert_eq!(t.join().unwrap(), (true, 4));
    }
}

#[test]
fn wait_for_times_out_with_the_predicate_false() {
    // CPython ConditionTests.test_waitfor_timeout.
    for cond in both_kinds() {
        let state = Arc::new(AtomicUsize::new(0));
        let (c, s) = (Arc::clone(&cond), Arc::clone(&state));
        let (tx, rx) = mpsc::channel();
        let t = thread::spawn(move || {
            let _g = c.lock();
            tx.send(()).unwrap();
            let start = Instant::now();
            let timeout = Duration::from_millis(100);
            let r = c
                .wait_for(|| s.load(Ordering::SeqCst) == 4, Some(timeout))
                .unwrap();
            (r, start.elapsed() >= timeout)
        });
        rx.recv().unwrap();
        for _ in 0..3 {
            let _g = cond.lock();
            state.fetch_add(1, Ordering::SeqCst);
            cond.notify(1).unwrap();
        }
        assert_eq!(t.join().unwrap(), (false, true));
    }
}

#[test]
fn wait_for_returns_the_last_value_evaluated_after_the_timeout() {
    let cond = Condition::new();
    let _g = cond.lock();
    let start = Instant::now();
    let timeout = Duration::from_millis(30);
    let mut calls = 0;
    // False until the timeout has passed: only the evaluation after the timeout
    // sees true, and that is what wait_for returns.
    let r = cond
        .wait_for(
            || {
                calls += 1;
                start.elapsed() >= timeout
            },
            Some(timeout),
        )
        .unwrap();
    assert!(r);
    assert!(calls >= 2);
    assert!(start.elapsed() >= timeout);
}

#[test]
fn wait_for_with_a_true_predicate_does_not_wait() {
    for cond in both_kinds() {
        let _g = cond.lock();
        let mut calls = 0;
        let r = cond
            .wait_for(
                || {
                    calls += 1;
                    true
                },
                Some(Duration::ZERO),
            )
            .unwrap();
        assert!(r);
        assert_eq!(calls, 1);
    }
}

#[test]
fn wait_releases_an_rlock_fully_and_restores_its_depth() {
    let rlock = Arc::new(RLock::new());
    let cond = Arc::new(Condition::with_lock(Arc::clone(&rlock)));
    // Timed out.
    rlock.acquire();
    rlock.acquire();
    rlock.acquire();
    assert!(!cond.wait_timeout(Duration::from_millis(5)).unwrap());
    for _ in 0..3 {
        rlock.release().unwrap();
    }
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));

    // Notified, with another thread taking the RLock meanwhile.
    let (c, r) = (Arc::clone(&cond), Arc::clone(&rlock));
    let t = thread::spawn(move || {
        r.acquire();
        r.acquire();
        r.acquire();
        let notified = c.wait().unwrap();
        let depth_ok = (0..3).all(|_| r.release().is_ok());
        let over = matches!(r.release(), Err(Error::NotOwner));
        (notified, depth_ok, over)
    });
    wait_until("the deep waiter", || cond.n_waiting() == 1);
    {
        let _g = rlock.lock(); // free: the waiter released all three levels
        cond.notify(1).unwrap();
    }
    assert_eq!(t.join().unwrap(), (true, true, true));
    assert!(!rlock.locked());
}

#[test]
fn stop_interrupts_waits_with_the_lock_held_again() {
    for cond in both_kinds() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let (c, n) = (Arc::clone(&cond), Arc::clone(&calls));
        let t = Thread::new(move || {
            let _g = c.lock();
            let held = |c: &Condition| match c.lock_kind() {
                ConditionLock::Lock(l) => l.locked(),
                ConditionLock::RLock(r) => r.is_owned(),
            };
            let r1 = c.wait().unwrap();
            tx.send((r1, held(&c))).unwrap();
            // Stop is sticky: every later wait returns at once.
            let r2 = c.wait_timeout(Duration::from_secs(60)).unwrap();
            // The predicate is evaluated once more after the stop: its second
            // call returns true.
            let r3 = c
                .wait_for(|| n.fetch_add(1, Ordering::SeqCst) >= 1, None)
                .unwrap();
            let r4 = c.wait_for(|| false, Some(Duration::from_secs(60))).unwrap();
            tx.send((r2 || r4, r3 && held(&c))).unwrap();
        });
        t.start().unwrap();
        wait_until("the waiter", || cond.n_waiting() == 1);
        t.stop();
        let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(first, (false, true));
        let second = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(second, (false, true));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        t.join().unwrap();
        assert!(!t.panicked());
        assert_eq!(cond.n_waiting(), 0);
    }
}

#[test]
fn a_stopped_thread_does_not_wait() {
    let t = Thread::new(|| {
        current_thread().stop();
        let cond = Condition::new();
        let _g = cond.lock();
        assert!(!cond.wait().unwrap());
        assert!(cond.notify(1).is_ok()); // still held
    });
    t.start().unwrap();
    t.join().unwrap();
    assert!(!t.panicked());
}

#[test]
fn guard_releases_on_drop() {
    let cond = Condition::new();
    {
        let g = cond.lock();
        assert!(format!("{g:?}").contains("ConditionGuard"));
        cond.notify(1).unwrap();
    }
    assert!(is_lock_not_held(cond.notify(1)));
}

#[test]
fn a_notify_racing_a_timeout_is_never_lost() {
    // W1 (timed) queues before W2 (untimed); the notifier adds one item and
    // notifies one waiter around W1's deadline. Whoever the notify chose must
    // report true and take the item: if W1 were chosen but reported a timeout,
    // W2 would never wake and the item would never be taken.
    for cond in both_kinds() {
        for round in 0..150u32 {
            let items = Arc::new(AtomicUsize::new(0));
            let taken = Arc::new(AtomicUsize::new(0));
            let timeout = Duration::from_micros(1_000);
            // Each waiter reports (with the lock held, before it waits) when it
            // starts waiting; once the notifier holds the lock, both are queued
            // (or W1 already timed out).
            let (started_tx, started_rx) = mpsc::channel();
            let spawn_waiter = |timed: bool| {
                let (c, i, k) = (Arc::clone(&cond), Arc::clone(&items), Arc::clone(&taken));
                let tx = started_tx.clone();
                thread::spawn(move || {
                    let _g = c.lock();
                    tx.send(Instant::now()).unwrap();
                    let r = if timed {
                        c.wait_timeout(timeout).unwrap()
                    } else {
                        c.wait().unwrap()
                    };
                    if r && i.load(Ordering::SeqCst) > 0 {
                        i.fetch_sub(1, Ordering::SeqCst);
                        k.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            let w1 = spawn_waiter(true);
            let w1_start = started_rx.recv().unwrap();
            let w2 = spawn_waiter(false);
            started_rx.recv().unwrap();
            // Aim at W1's deadline, give or take up to 150 µs.
            let offset = Duration::from_micros(u64::from(round % 7) * 50);
            let aim = (w1_start + timeout + offset).checked_sub(Duration::from_micros(150));
            while aim.is_some_and(|a| Instant::now() < a) {
                std::hint::spin_loop();
            }
            cond.acquire();
            items.store(1, Ordering::SeqCst);
            cond.notify(1).unwrap();
            cond.release().unwrap();
            wait_until("the item taken", || taken.load(Ordering::SeqCst) == 1);
            w1.join().unwrap();
            cond.acquire();
            cond.notify_all().unwrap(); // free W2 if W1 took the item
            cond.release().unwrap();
            w2.join().unwrap();
            assert_eq!(taken.load(Ordering::SeqCst), 1);
        }
    }
}

#[test]
fn lock_not_held_says_so_for_wait_and_notify() {
    let cond = Condition::new();
    let wait = cond.wait_timeout(Duration::from_millis(1)).unwrap_err();
    let notify = cond.notify(1).unwrap_err();
    assert_eq!(
        wait.to_string(),
        "cannot wait on or notify an un-acquired lock"
    );
    assert_eq!(notify.to_string(), wait.to_string());
}

#[test]
fn try_acquire_and_is_owned_over_an_rlock_follow_the_owner() {
    let cond = Arc::new(Condition::new());
    assert!(!cond.is_owned());
    assert!(cond.try_acquire());
    assert!(cond.try_acquire(), "an RLock is re-entrant");
    assert!(cond.is_owned());
    let other = Arc::clone(&cond);
    let seen = thread::spawn(move || (other.is_owned(), other.try_acquire()))
        .join()
        .unwrap();
    assert_eq!(seen, (false, false));
    cond.release().unwrap();
    cond.release().unwrap();
    assert!(!cond.is_owned());
}

#[test]
fn over_a_lock_is_owned_means_held_by_anyone() {
    let lock = Arc::new(Lock::new());
    let cond = Arc::new(Condition::with_lock(Arc::clone(&lock)));
    assert!(!cond.is_owned());
    lock.acquire();
    let other = Arc::clone(&cond);
    assert!(thread::spawn(move || other.is_owned()).join().unwrap());
    assert!(!cond.try_acquire());
    lock.release().unwrap();
    assert!(cond.try_acquire());
    cond.release().unwrap();
}

#[test]
fn acquire_timeout_gives_up_no_earlier_than_the_timeout() {
    let cond = Arc::new(Condition::new());
    cond.acquire();
    let other = Arc::clone(&cond);
    let (got, waited) = thread::spawn(move || {
        let start = Instant::now();
        let got = other.acquire_timeout(Duration::from_millis(50));
        (got, start.elapsed())
    })
    .join()
    .unwrap();
    assert!(!got);
    assert!(waited >= Duration::from_millis(50));
    cond.release().unwrap();
    let other = Arc::clone(&cond);
    let got = thread::spawn(move || {
        let got = other.acquire_timeout(Duration::from_secs(10));
        if got {
            other.release().unwrap();
        }
        got
    })
    .join()
    .unwrap();
    assert!(got);
}
