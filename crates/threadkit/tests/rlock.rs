//! `RLock`: the cases of CPython's `lock_tests.BaseLockTests` / `RLockTests`
//! (recursion, ownership, `NotOwner`), plus guards, cooperative stop and a stress
//! run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::threading::{Error, RLock, Thread, TIMEOUT_MAX};

/// Polls `f` until it holds, failing the test after 10 s.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The stress count: `THREADKIT_STRESS` if set, else `default`.
fn stress_count(default: usize) -> usize {
    std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` on a new OS thread and returns its result.
fn on_other_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| s.spawn(f).join().unwrap())
}

#[test]
fn new_and_default_are_unlocked() {
    let r = RLock::new();
    assert!(!r.locked());
    assert!(!r.is_owned());
    assert_eq!(r.n_waiting(), 0);
    assert!(!RLock::default().locked());
}

#[test]
fn reacquire_needs_as_many_releases() {
    let r = RLock::new();
    r.acquire();
    r.acquire();
    r.acquire();
    r.release().unwrap();
    r.release().unwrap();
    assert!(r.locked() && r.is_owned());
    assert!(!on_other_thread(|| r.try_acquire()));
    r.release().unwrap();
    assert!(!r.locked() && !r.is_owned());
    assert!(on_other_thread(|| {
        let got = r.try_acquire();
        r.release().unwrap();
        got
    }));
}

#[test]
fn release_unacquired_is_not_owner() {
    let r = RLock::new();
    assert!(matches!(r.release(), Err(Error::NotOwner)));
    r.acquire();
    r.acquire();
    r.release().unwrap();
    r.release().unwrap();
    assert!(matches!(r.release(), Err(Error::NotOwner)));
}

#[test]
fn release_by_another_thread_is_not_owner() {
    // CPython RLockTests.test_different_thread.
    let r = RLock::new();
    r.acquire();
    let err = on_other_thread(|| r.release());
    assert!(matches!(err, Err(Error::NotOwner)));
    assert!(r.is_owned());
    r.release().unwrap();
}

#[test]
fn is_owned_only_for_the_holder() {
    // CPython RLockTests.test__is_owned.
    let r = Arc::new(RLock::new());
    assert!(!r.is_owned());
    r.acquire();
    assert!(r.is_owned());
    r.acquire();
    assert!(r.is_owned());
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let r2 = Arc::clone(&r);
    let t = thread::spawn(move || {
        tx.send(r2.is_owned()).unwrap();
        r2.acquire(); // blocks until the main thread is done
        tx.send(r2.is_owned()).unwrap();
        go_rx.recv().unwrap();
        r2.release().unwrap();
    });
    assert!(!rx.recv().unwrap());
    assert!(r.is_owned());
    r.release().unwrap();
    assert!(r.is_owned());
    r.release().unwrap();
    assert!(rx.recv().unwrap()); // the other thread owns it now
    assert!(!r.is_owned());
    assert!(r.locked());
    go_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(!r.locked());
}

#[test]
fn hand_over_after_the_last_level() {
    let r = Arc::new(RLock::new());
    r.acquire();
    r.acquire();
    r.acquire();
    let r2 = Arc::clone(&r);
    let t = thread::spawn(move || {
        r2.acquire();
        let owned = r2.is_owned();
        r2.release().unwrap();
        owned
    });
    wait_until("a blocked acquirer", || r.n_waiting() == 1);
    r.release().unwrap();
    r.release().unwrap();
    thread::sleep(Duration::from_millis(20)); // still blocked: one level left
    assert_eq!(r.n_waiting(), 1);
    r.release().unwrap();
    assert!(t.join().unwrap());
    assert!(!r.locked());
}

#[test]
fn try_acquire_is_reentrant_and_fails_for_others() {
    let r = RLock::new();
    assert!(r.try_acquire());
    assert!(r.try_acquire());
    assert!(!on_other_thread(|| r.try_acquire()));
    r.release().unwrap();
    r.release().unwrap();
}

#[test]
fn acquire_timeout_never_returns_early() {
    let r = RLock::new();
    r.acquire();
    for ms in [0, 1, 20] {
        let timeout = Duration::from_millis(ms);
        let (got, elapsed) = on_other_thread(|| {
            let start = Instant::now();
            (r.acquire_timeout(timeout), start.elapsed())
        });
        assert!(!got);
        assert!(elapsed >= timeout, "returned early for {ms} ms");
    }
    assert!(r.acquire_timeout(Duration::ZERO)); // re-entrant: no wait
    r.release().unwrap();
    r.release().unwrap();
    assert!(!r.locked());
    assert_eq!(r.n_waiting(), 0);
}

#[test]
fn acquire_timeout_succeeds_when_released_in_time() {
    let r = Arc::new(RLock::new());
    r.acquire();
    let r2 = Arc::clone(&r);
    let t = thread::spawn(move || {
        let got = r2.acquire_timeout(Duration::from_secs(30));
        let owned = r2.is_owned();
        r2.release().unwrap();
        got && owned
    });
    wait_until("a timed acquirer", || r.n_waiting() == 1);
    r.release().unwrap();
    assert!(t.join().unwrap());
}

#[test]
fn timeout_beyond_max_does_not_panic() {
    let r = RLock::new();
    let huge = TIMEOUT_MAX + Duration::from_secs(1);
    assert!(r.acquire_timeout(huge));
    assert!(r.lock_timeout(Duration::MAX).is_some());
    r.release().unwrap();
    assert!(!r.locked());
}

#[test]
fn guards_nest_and_release_one_level_each() {
    let r = RLock::new();
    {
        let _a = r.lock();
        let _b = r.try_lock().expect("re-entrant");
        let _c = r
            .lock_timeout(Duration::from_millis(5))
            .expect("re-entrant");
        assert!(on_other_thread(|| r.try_lock().is_none()));
        assert!(on_other_thread(|| r
            .lock_timeout(Duration::from_millis(5))
            .is_none()));
    }
    assert!(!r.locked());
    assert!(matches!(r.release(), Err(Error::NotOwner)));
}

#[test]
fn debug_shows_state() {
    let r = RLock::new();
    assert!(format!("{r:?}").contains("locked: false"));
    let g = r.lock();
    assert!(format!("{g:?}").contains("owner"));
}

#[test]
fn ownership_is_per_threadkit_thread() {
    let r = Arc::new(RLock::new());
    let r2 = Arc::clone(&r);
    let t = Thread::new(move || {
        r2.acquire();
        assert!(r2.is_owned());
        r2.release().unwrap();
        assert!(matches!(r2.release(), Err(Error::NotOwner)));
    });
    r.acquire();
    t.start().unwrap();
    wait_until("the thread blocked", || r.n_waiting() == 1);
    r.release().unwrap();
    t.join().unwrap();
    assert!(!t.panicked());
}

#[test]
fn stop_interrupts_timed_acquire_but_not_plain_acquire() {
    let r = Arc::new(RLock::new());
    r.acquire();
    let (tx, rx) = mpsc::channel();
    let r2 = Arc::clone(&r);
    let t = Thread::new(move || {
        let timed = r2.acquire_timeout(Duration::from_secs(60));
        let guard = r2.lock_timeout(Duration::from_secs(60)).is_some();
        tx.send((timed, guard)).unwrap();
        r2.acquire(); // not interrupted
        tx.send((r2.is_owned(), true)).unwrap();
        r2.release().unwrap();
    });
    t.start().unwrap();
    wait_until("the timed acquirer", || r.n_waiting() == 1);
    t.stop();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        (false, false)
    );
    wait_until("the plain acquirer", || r.n_waiting() == 1);
    thread::sleep(Duration::from_millis(20));
    assert!(rx.try_recv().is_err()); // still blocked
    r.release().unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        (true, true)
    );
    t.join().unwrap();
    assert!(!t.panicked());
}

#[test]
fn stress_four_threads_exact_count() {
    let per_thread = stress_count(100_000);
    let r = Arc::new(RLock::new());
    // A non-atomic increment (load, then store): only the lock keeps it exact.
    let counter = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (r, c, b) = (Arc::clone(&r), Arc::clone(&counter), Arc::clone(&start));
            thread::spawn(move || {
                b.wait();
                for j in 0..per_thread {
                    let _outer = if (i + j) % 2 == 0 {
                        r.lock()
                    } else {
                        r.lock_timeout(TIMEOUT_MAX).expect("no timeout")
                    };
                    let _inner = r.lock(); // re-entrant level
                    let v = c.load(Ordering::Relaxed);
                    c.store(v + 1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 4 * per_thread as u64);
    assert!(!r.locked());
    assert_eq!(r.n_waiting(), 0);
}

#[test]
fn recursion_count_counts_the_callers_levels_only() {
    let r = Arc::new(RLock::new());
    assert_eq!(r.recursion_count(), 0);
    r.acquire();
    r.acquire();
    assert_eq!(r.recursion_count(), 2);
    let other = Arc::clone(&r);
    assert_eq!(on_other_thread(move || other.recursion_count()), 0);
    r.release().unwrap();
    assert_eq!(r.recursion_count(), 1);
    r.release().unwrap();
    assert_eq!(r.recursion_count(), 0);
}
