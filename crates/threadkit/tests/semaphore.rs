//! `Semaphore` and `BoundedSemaphore`: ported from CPython's
//! `lock_tests.SemaphoreTests` / `BoundedSemaphoreTests`, plus threadkit's stop
//! contract and a stress test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::threading::{
    current_thread, BoundedSemaphore, Error, Semaphore, Thread, TIMEOUT_MAX,
};

mod primitives;
use primitives::{join, spawn, stress_count, wait_until};

#[test]
fn zero_permits_means_try_acquire_fails() {
    let sem = Semaphore::new(0);
    assert!(!sem.try_acquire());
    assert!(!BoundedSemaphore::new(0).try_acquire());
}

#[test]
fn acquire_takes_each_permit_once() {
    // CPython: test_acquire.
    let sem = Semaphore::new(3);
    sem.acquire();
    assert!(sem.try_acquire());
    assert!(sem.acquire_timeout(Duration::ZERO));
    assert!(!sem.try_acquire());
    sem.release();
    assert!(sem.try_acquire());
}

#[test]
fn acquire_timeout_returns_false_when_no_permit_never_early() {
    // CPython: test_acquire_timeout.
    let sem = Semaphore::new(0);
    for ms in [0, 1, 20, 50] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!sem.acquire_timeout(timeout));
        assert!(start.elapsed() >= timeout, "returned early for {ms} ms");
    }
    assert_eq!(sem.n_waiting(), 0, "a timed-out waiter left the queue");
    let bsem = BoundedSemaphore::new(1);
    bsem.acquire();
    let start = Instant::now();
    assert!(!bsem.acquire_timeout(Duration::from_millis(20)));
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[test]
fn acquire_blocks_until_a_release() {
    // CPython: test_acquire_contended.
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || {
        s.acquire();
        tx.send(()).unwrap();
    });
    wait_until("the waiter", || sem.n_waiting() == 1);
    assert!(rx.try_recv().is_err(), "acquired without a permit");
    sem.release();
    join(&t);
    assert!(rx.try_recv().is_ok());
    assert!(!sem.try_acquire(), "the released permit was handed over");
}

#[test]
fn acquire_timeout_gets_a_permit_released_meanwhile() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || tx.send(s.acquire_timeout(Duration::from_secs(30))).unwrap());
    wait_until("the waiter", || sem.n_waiting() == 1);
    sem.release();
    join(&t);
    assert!(rx.recv().unwrap());
}

#[test]
fn release_n_wakes_n_waiters() {
    // CPython: test_multirelease.
    let sem = Arc::new(Semaphore::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<Thread> = (0..5)
        .map(|_| {
            let (s, d) = (sem.clone(), done.clone());
            spawn(move || {
                s.acquire();
                d.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    wait_until("5 waiters", || sem.n_waiting() == 5);
    sem.release_n(3);
    wait_until("3 acquired", || done.load(Ordering::SeqCst) == 3);
    assert_eq!(sem.n_waiting(), 2);
    sem.release_n(0);
    assert_eq!(sem.n_waiting(), 2, "release_n(0) does nothing");
    sem.release_n(2);
    for t in &threads {
        join(t);
    }
    assert_eq!(done.load(Ordering::SeqCst), 5);
    assert!(!sem.try_acquire());
}

#[test]
fn release_n_zero_changes_nothing() {
    let sem = Semaphore::new(0);
    sem.release_n(0);
    assert!(!sem.try_acquire());
    let bsem = BoundedSemaphore::new(1);
    assert!(bsem.release_n(0).is_ok());
    assert!(bsem.try_acquire());
    assert!(!bsem.try_acquire());
}

#[test]
fn waiters_get_permits_oldest_first() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..3 {
        let (s, tx) = (sem.clone(), tx.clone());
        threads.push(spawn(move || {
            s.acquire();
            tx.send(i).unwrap();
        }));
        wait_until("the next waiter", || sem.n_waiting() == i + 1);
    }
    for i in 0..3 {
        sem.release();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), i);
    }
    threads.iter().for_each(join);
}

#[test]
fn a_plain_semaphore_may_be_released_above_its_initial_value() {
    // CPython: test_default_value / Semaphore release without acquire.
    let sem = Semaphore::new(1);
    sem.release();
    assert!(sem.try_acquire() && sem.try_acquire());
    assert!(!sem.try_acquire());
}

#[test]
fn access_guard_releases_on_drop() {
    // CPython: test_with.
    let sem = Semaphore::new(2);
    {
        let _a = sem.access();
        let _b = sem.access();
        assert!(!sem.try_acquire());
    }
    assert!(sem.try_acquire() && sem.try_acquire());
    let bsem = BoundedSemaphore::new(1);
    {
        let _g = bsem.access();
        assert!(!bsem.try_acquire());
    }
    assert!(bsem.try_acquire());
}

#[test]
fn access_guard_releases_when_the_holder_panics() {
    let sem = Arc::new(Semaphore::new(1));
    let s = sem.clone();
    let r = std::panic::catch_unwind(move || {
        let _g = s.access();
        panic!("boom");
    });
    assert!(r.is_err());
    assert!(sem.try_acquire());
}

#[test]
fn bounded_over_release_is_an_error_and_changes_nothing() {
    // CPython: BoundedSemaphoreTests.test_release_unacquired.
    let sem = BoundedSemaphore::new(2);
    assert!(matches!(sem.release(), Err(Error::OverRelease)));
    sem.acquire();
    sem.acquire();
    assert!(matches!(sem.release_n(3), Err(Error::OverRelease)));
    // Nothing was released by the failed call.
    assert!(!sem.try_acquire());
    assert!(sem.release().is_ok());
    assert!(sem.release().is_ok());
    assert!(matches!(sem.release(), Err(Error::OverRelease)));
    assert!(sem.try_acquire() && sem.try_acquire());
    assert!(!sem.try_acquire());
}

#[test]
fn bounded_release_hands_a_permit_to_a_waiter() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    sem.acquire();
    let s = sem.clone();
    let t = spawn(move || {
        s.acquire();
        s.release().unwrap();
    });
    wait_until("the waiter", || sem.n_waiting() == 1);
    sem.release().unwrap();
    join(&t);
    assert!(matches!(sem.release(), Err(Error::OverRelease)));
}

#[test]
fn stop_ends_a_timed_acquire_with_false() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || tx.send(s.acquire_timeout(Duration::from_secs(60))).unwrap());
    wait_until("the waiter", || sem.n_waiting() == 1);
    t.stop();
    join(&t);
    assert!(!rx.recv().unwrap());
    assert_eq!(sem.n_waiting(), 0);
    // The semaphore still works.
    sem.release();
    assert!(sem.try_acquire());
}

#[test]
fn a_stopped_thread_still_takes_a_free_permit_but_does_not_wait() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || {
        current_thread().stop();
        let first = s.acquire_timeout(Duration::from_secs(60));
        let second = s.acquire_timeout(Duration::from_secs(60));
        tx.send((first, second)).unwrap();
    });
    join(&t);
    assert_eq!(rx.recv().unwrap(), (true, false));
}

#[test]
fn stop_does_not_interrupt_a_plain_acquire() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || {
        s.acquire();
        let _g = s.access();
        tx.send(()).unwrap();
    });
    wait_until("the waiter", || sem.n_waiting() == 1);
    t.stop();
    std::thread::sleep(Duration::from_millis(50));
    assert!(t.is_alive(), "acquire() returned on a stop");
    assert_eq!(sem.n_waiting(), 1);
    sem.release_n(2);
    join(&t);
    assert!(rx.try_recv().is_ok());
}

#[test]
fn timeout_beyond_timeout_max_waits_forever_without_panic() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let s = sem.clone();
    let t = spawn(move || {
        let a = s.acquire_timeout(Duration::MAX);
        let b = s.acquire_timeout(TIMEOUT_MAX + Duration::from_secs(1));
        tx.send((a, b)).unwrap();
    });
    wait_until("the waiter", || sem.n_waiting() == 1);
    sem.release();
    wait_until("the second wait", || sem.n_waiting() == 1);
    sem.release();
    join(&t);
    assert_eq!(rx.recv().unwrap(), (true, true));
}

#[test]
fn debug_shows_the_value() {
    let s = format!("{:?}", Semaphore::new(3));
    assert!(s.contains("value: 3"), "{s}");
    let s = format!("{:?}", BoundedSemaphore::new(2));
    assert!(s.contains("bound: 2"), "{s}");
}

#[test]
fn stress_four_threads_keep_an_exact_count() {
    // 4 threads x N operations on a semaphore of 1 (so threads do park): never
    // more than 1 inside, and exactly 1 permit at the end.
    const THREADS: usize = 4;
    let ops = stress_count(100_000);
    let sem = Arc::new(Semaphore::new(1));
    let inside = Arc::new(AtomicUsize::new(0));
    let contended = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<Thread> = (0..THREADS)
        .map(|k| {
            let (sem, inside) = (sem.clone(), inside.clone());
            let (start, contended) = (start.clone(), contended.clone());
            spawn(move || {
                start.wait();
                for i in 0..ops {
                    if sem.n_waiting() > 0 {
                        contended.fetch_add(1, Ordering::Relaxed);
                    }
                    match (i + k) % 4 {
                        0 => sem.acquire(),
                        1 => {
                            if !sem.try_acquire() {
                                continue;
                            }
                        }
                        2 => assert!(sem.acquire_timeout(Duration::from_secs(30))),
                        _ => {
                            let _g = sem.access();
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            continue;
                        }
                    }
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    if i % 3 == 0 {
                        sem.release();
                    } else {
                        sem.release_n(1);
                    }
                }
            })
        })
        .collect();
    threads.iter().for_each(join);
    eprintln!(
        "saw waiters queued in {} of {} operations",
        contended.load(Ordering::Relaxed),
        THREADS * ops
    );
    assert_eq!(sem.n_waiting(), 0);
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());

    // The bounded semaphore keeps the same count and never over-releases.
    let bsem = Arc::new(BoundedSemaphore::new(2));
    let threads: Vec<Thread> = (0..THREADS)
        .map(|_| {
            let bsem = bsem.clone();
            spawn(move || {
                for _ in 0..ops / 4 {
                    bsem.acquire();
                    bsem.release().unwrap();
                }
            })
        })
        .collect();
    threads.iter().for_each(join);
    assert!(matches!(bsem.release(), Err(Error::OverRelease)));
    assert!(bsem.try_acquire() && bsem.try_acquire());
    assert!(!bsem.try_acquire());
}

#[test]
fn value_is_the_free_permits() {
    let sem = Semaphore::new(3);
    assert_eq!(sem.value(), 3);
    sem.acquire();
    assert!(sem.try_acquire());
    assert_eq!(sem.value(), 1);
    sem.release_n(4);
    assert_eq!(sem.value(), 5);
}

#[test]
fn bounded_value_is_the_free_permits_and_an_over_release_leaves_it() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.value(), 2);
    sem.acquire();
    assert_eq!(sem.value(), 1);
    assert!(sem.release_n(2).is_err());
    assert_eq!(sem.value(), 1);
    sem.release().unwrap();
    assert_eq!(sem.value(), 2);
}
