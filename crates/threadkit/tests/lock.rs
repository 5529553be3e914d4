//! `Lock`: the cases of CPython's `lock_tests.BaseLockTests` / `LockTests`, plus
//! guards, cooperative stop and a stress run.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::threading::{Error, Lock, Thread, TIMEOUT_MAX};

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

#[test]
fn new_and_default_are_unlocked() {
    assert!(!Lock::new().locked());
    assert!(!Lock::default().locked());
    assert_eq!(Lock::new().n_waiting(), 0);
}

#[test]
fn acquire_release() {
    let lock = Lock::new();
    lock.acquire();
    assert!(lock.locked());
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn try_acquire_fails_while_held_even_by_the_caller() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    assert!(!lock.try_acquire());
    lock.release().unwrap();
    assert!(lock.try_acquire());
}

#[test]
fn try_acquire_contended_from_another_thread() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = Arc::clone(&lock);
    let got = thread::spawn(move || l.try_acquire()).join().unwrap();
    assert!(!got);
    lock.release().unwrap();
}

#[test]
fn acquire_contended_blocks_until_released() {
    const N: usize = 5;
    let lock = Arc::new(Lock::new());
    let done = Arc::new(AtomicUsize::new(0));
    lock.acquire();
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let (l, d) = (Arc::clone(&lock), Arc::clone(&done));
            thread::spawn(move || {
                l.acquire();
                d.fetch_add(1, Ordering::SeqCst);
                l.release().unwrap();
            })
        })
        .collect();
    wait_until("5 blocked acquirers", || lock.n_waiting() == N);
    assert_eq!(done.load(Ordering::SeqCst), 0);
    lock.release().unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), N);
    assert!(!lock.locked());
    assert_eq!(lock.n_waiting(), 0);
}

#[test]
fn release_unlocked_is_an_error() {
    let lock = Lock::new();
    assert!(matches!(lock.release(), Err(Error::ReleaseUnlocked)));
    lock.acquire();
    lock.release().unwrap();
    assert!(matches!(lock.release(), Err(Error::ReleaseUnlocked)));
}

#[test]
fn another_thread_may_release_it() {
    // CPython test_different_thread: acquired here, released there.
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = Arc::clone(&lock);
    thread::spawn(move || l.release()).join().unwrap().unwrap();
    assert!(!lock.locked());
    assert!(lock.try_acquire());
}

#[test]
fn reacquire_blocks_until_another_thread_releases() {
    // CPython LockTests.test_reacquire: a second acquire by the holder waits for
    // someone else's release.
    let lock = Arc::new(Lock::new());
    let (tx, rx) = mpsc::channel();
    let l = Arc::clone(&lock);
    let t = thread::spawn(move || {
        l.acquire();
        tx.send(()).unwrap();
        l.acquire(); // blocks: held by ourselves
        l.release().unwrap();
    });
    rx.recv().unwrap();
    wait_until("the holder blocked on itself", || lock.n_waiting() == 1);
    lock.release().unwrap();
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn acquire_timeout_never_returns_early_and_keeps_state() {
    let lock = Lock::new();
    lock.acquire();
    for ms in [0, 1, 10, 50] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!lock.acquire_timeout(timeout));
        assert!(start.elapsed() >= timeout, "returned early for {ms} ms");
    }
    // CPython test_state_after_timeout: a timed-out attempt leaves no trace.
    assert_eq!(lock.n_waiting(), 0);
    lock.release().unwrap();
    assert!(!lock.locked());
    assert!(lock.acquire_timeout(Duration::ZERO));
}

#[test]
fn acquire_timeout_from_another_thread_never_returns_early() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = Arc::clone(&lock);
    let elapsed = thread::spawn(move || {
        let start = Instant::now();
        assert!(!l.acquire_timeout(Duration::from_millis(30)));
        start.elapsed()
    })
    .join()
    .unwrap();
    assert!(elapsed >= Duration::from_millis(30));
    assert_eq!(lock.n_waiting(), 0);
}

#[test]
fn acquire_timeout_succeeds_when_released_in_time() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = Arc::clone(&lock);
    let t = thread::spawn(move || l.acquire_timeout(Duration::from_secs(30)));
    wait_until("a timed acquirer", || lock.n_waiting() == 1);
    lock.release().unwrap();
    assert!(t.join().unwrap());
    assert!(lock.locked());
}

#[test]
fn timeout_beyond_max_waits_forever_without_panicking() {
    let lock = Arc::new(Lock::new());
    let huge = TIMEOUT_MAX + Duration::from_secs(1);
    assert!(lock.acquire_timeout(huge));
    let l = Arc::clone(&lock);
    let t = thread::spawn(move || {
        let g = l.lock_timeout(Duration::MAX).is_some();
        g && l.acquire_timeout(huge) // the guard is dropped: released first
    });
    wait_until("a waiter with a huge timeout", || lock.n_waiting() == 1);
    lock.release().unwrap();
    assert!(t.join().unwrap());
}

#[test]
fn guard_releases_on_drop() {
    let lock = Lock::new();
    {
        let _g = lock.lock();
        assert!(lock.locked());
        assert!(lock.try_lock().is_none());
        assert!(lock.lock_timeout(Duration::from_millis(5)).is_none());
    }
    assert!(!lock.locked());
    let g = lock.try_lock().expect("free");
    drop(g);
    let g = lock.lock_timeout(Duration::from_secs(1)).expect("free");
    drop(g);
    assert!(!lock.locked());
}

#[test]
fn guard_drop_after_someone_else_released_is_harmless() {
    let lock = Arc::new(Lock::new());
    let g = lock.lock();
    let l = Arc::clone(&lock);
    thread::spawn(move || l.release()).join().unwrap().unwrap();
    drop(g); // release fails inside the drop, silently
    assert!(!lock.locked());
}

#[test]
fn guard_may_be_dropped_on_another_thread() {
    let lock = Arc::new(Lock::new());
    thread::scope(|s| {
        let g = lock.lock();
        s.spawn(move || drop(g));
    });
    assert!(!lock.locked());
}

#[test]
fn debug_shows_state() {
    let lock = Lock::new();
    assert!(format!("{lock:?}").contains("locked: false"));
    let g = lock.lock();
    assert!(format!("{g:?}").contains("locked: true"));
}

#[test]
fn stop_interrupts_timed_acquire_and_lock_timeout() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let (tx, rx) = mpsc::channel();
    let l = Arc::clone(&lock);
    let t = Thread::new(move || {
        let start = Instant::now();
        let got = l.acquire_timeout(Duration::from_secs(60));
        let guard = l.lock_timeout(Duration::from_secs(60)).is_some();
        tx.send((got, guard, start.elapsed())).unwrap();
    });
    t.start().unwrap();
    wait_until("the timed acquirer", || lock.n_waiting() == 1);
    t.stop();
    let (got, guard, elapsed) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!got && !guard);
    assert!(elapsed < Duration::from_secs(60));
    t.join().unwrap();
    assert_eq!(lock.n_waiting(), 0);
    assert!(lock.locked()); // still ours
    lock.release().unwrap();
}

#[test]
fn stopped_thread_still_takes_a_free_lock() {
    let lock = Arc::new(Lock::new());
    let l = Arc::clone(&lock);
    let t = Thread::new(move || {
        threadkit::threading::current_thread().stop();
        assert!(l.acquire_timeout(Duration::from_secs(1)));
        l.release().unwrap();
    });
    t.start().unwrap();
    t.join().unwrap();
    assert!(!t.panicked());
}

#[test]
fn stop_does_not_interrupt_plain_acquire() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let got = Arc::new(AtomicBool::new(false));
    let (l, g) = (Arc::clone(&lock), Arc::clone(&got));
    let t = Thread::new(move || {
        l.acquire();
        g.store(true, Ordering::SeqCst);
        let _guard_too = l.try_lock(); // None: held by ourselves
        l.release().unwrap();
    });
    t.start().unwrap();
    wait_until("the plain acquirer", || lock.n_waiting() == 1);
    t.stop();
    // Only a sleep can show that something is still blocked.
    thread::sleep(Duration::from_millis(50));
    assert!(!got.load(Ordering::SeqCst));
    assert_eq!(lock.n_waiting(), 1);
    lock.release().unwrap();
    t.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
    assert!(!t.panicked());
}

#[test]
fn timed_out_waiters_do_not_swallow_wake_ups() {
    // Many short timed waits race with releases; a wake-up given to a waiter that
    // is giving up must reach another waiter, so the plain acquirers all finish.
    let lock = Arc::new(Lock::new());
    let rounds = stress_count(2_000).min(100_000);
    let start = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (l, b) = (Arc::clone(&lock), Arc::clone(&start));
            thread::spawn(move || {
                b.wait();
                for _ in 0..rounds {
                    if i % 2 == 0 {
                        if l.acquire_timeout(Duration::from_micros(50)) {
                            l.release().unwrap();
                        }
                    } else {
                        l.acquire();
                        l.release().unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(!lock.locked());
    assert_eq!(lock.n_waiting(), 0);
}

#[test]
fn stress_four_threads_exact_count() {
    let per_thread = stress_count(100_000);
    let lock = Arc::new(Lock::new());
    // A non-atomic increment (load, then store): only the lock keeps it exact.
    let counter = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (l, c, b) = (Arc::clone(&lock), Arc::clone(&counter), Arc::clone(&start));
            thread::spawn(move || {
                b.wait();
                for j in 0..per_thread {
                    // Mix the acquire kinds; every one of them must succeed here.
                    let _g = match (i + j) % 3 {
                        0 => l.lock(),
                        1 => l.lock_timeout(TIMEOUT_MAX).expect("no timeout"),
                        _ => loop {
                            if let Some(g) = l.try_lock() {
                                break g;
                            }
                            thread::yield_now();
                        },
                    };
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
    assert!(!lock.locked());
    assert_eq!(lock.n_waiting(), 0);
}
