//! `Event`: ported from CPython's `lock_tests.EventTests`, plus threadkit's stop
//! and fast-path contract.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::threading::{Event, Thread, TIMEOUT_MAX};

/// Polls `cond` until it holds; panics after 10 s (so a bug fails, not hangs).
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Starts `n` threadkit threads, each sending `f`'s result on the channel.
fn spawn_waiters<R: Send + 'static>(
    n: usize,
    f: impl Fn() -> R + Send + Sync + 'static,
) -> (Vec<Thread>, mpsc::Receiver<R>) {
    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let threads = (0..n)
        .map(|_| {
            let (f, tx) = (f.clone(), tx.clone());
            Thread::builder()
                .target(move || tx.send(f()).unwrap())
                .spawn()
                .unwrap()
        })
        .collect();
    (threads, rx)
}

fn join_all(threads: &[Thread]) {
    for t in threads {
        assert!(
            t.join_timeout(Duration::from_secs(10)).unwrap(),
            "thread hung"
        );
        assert!(!t.panicked());
    }
}

#[test]
fn new_event_is_not_set_and_default_matches() {
    assert!(!Event::new().is_set());
    assert!(!Event::default().is_set());
}

#[test]
fn is_set_follows_set_and_clear() {
    // CPython: test_is_set.
    let ev = Event::new();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
    ev.clear();
    assert!(!ev.is_set());
}

#[test]
fn wait_returns_true_at_once_when_set() {
    let ev = Event::new();
    ev.set();
    assert!(ev.wait());
    assert!(ev.wait_timeout(Duration::ZERO));
    assert!(ev.wait_timeout(Duration::from_secs(3600)));
}

#[test]
fn wait_timeout_returns_false_when_never_set() {
    // CPython: test_timeout.
    let ev = Event::new();
    for ms in [0, 1, 20, 50] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!ev.wait_timeout(timeout));
        assert!(start.elapsed() >= timeout, "returned early for {ms} ms");
    }
    assert_eq!(ev.n_waiting(), 0, "a timed-out waiter left the queue");
}

#[test]
fn wait_timeout_in_other_threads_never_returns_early() {
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(4, move || {
        let start = Instant::now();
        let got = e.wait_timeout(Duration::from_millis(30));
        (got, start.elapsed())
    });
    join_all(&threads);
    for (got, elapsed) in rx.try_iter() {
        assert!(!got);
        assert!(elapsed >= Duration::from_millis(30));
    }
}

#[test]
fn set_wakes_every_waiter() {
    // CPython: test_notify.
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(5, move || (e.wait(), e.is_set()));
    wait_until("5 waiters", || ev.n_waiting() == 5);
    ev.set();
    join_all(&threads);
    let results: Vec<_> = rx.try_iter().collect();
    assert_eq!(results, vec![(true, true); 5]);
    assert_eq!(ev.n_waiting(), 0);
}

#[test]
fn set_then_clear_at_once_still_wakes_every_waiter_true() {
    // CPython: test_set_and_clear.
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(5, move || e.wait_timeout(Duration::from_secs(30)));
    wait_until("5 waiters", || ev.n_waiting() == 5);
    ev.set();
    ev.clear();
    join_all(&threads);
    let results: Vec<bool> = rx.try_iter().collect();
    assert_eq!(results, vec![true; 5]);
    assert!(!ev.is_set());
}

#[test]
fn waits_after_clear_block_until_the_next_set() {
    let ev = Arc::new(Event::new());
    ev.set();
    ev.clear();
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(1, move || e.wait());
    wait_until("the waiter", || ev.n_waiting() == 1);
    assert!(rx.try_recv().is_err(), "returned without a set");
    ev.set();
    join_all(&threads);
    assert!(rx.recv().unwrap());
}

#[test]
fn n_waiting_counts_blocked_threads() {
    let ev = Arc::new(Event::new());
    assert_eq!(ev.n_waiting(), 0);
    let e = ev.clone();
    let (threads, _rx) = spawn_waiters(3, move || e.wait());
    wait_until("3 waiters", || ev.n_waiting() == 3);
    ev.set();
    join_all(&threads);
    assert_eq!(ev.n_waiting(), 0);
}

#[test]
fn timeout_beyond_timeout_max_waits_forever_without_panic() {
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(2, move || {
        (
            e.wait_timeout(Duration::MAX),
            e.wait_timeout(TIMEOUT_MAX + Duration::from_secs(1)),
        )
    });
    wait_until("a waiter", || ev.n_waiting() >= 1);
    ev.set();
    join_all(&threads);
    assert!(rx.try_iter().all(|r| r == (true, true)));
}

#[test]
fn stop_ends_a_wait_with_false() {
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(1, move || e.wait());
    wait_until("the waiter", || ev.n_waiting() == 1);
    threads[0].stop();
    join_all(&threads);
    assert!(!rx.recv().unwrap());
    assert_eq!(ev.n_waiting(), 0);
    assert!(!ev.is_set());
}

#[test]
fn stop_ends_a_timed_wait_early_with_false() {
    let ev = Arc::new(Event::new());
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(1, move || e.wait_timeout(Duration::from_secs(60)));
    wait_until("the waiter", || ev.n_waiting() == 1);
    let start = Instant::now();
    threads[0].stop();
    join_all(&threads);
    assert!(!rx.recv().unwrap());
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_stopped_thread_still_sees_a_set_event() {
    let ev = Arc::new(Event::new());
    ev.set();
    let e = ev.clone();
    let (threads, rx) = spawn_waiters(1, move || {
        threadkit::threading::current_thread().stop();
        let unset = Event::new();
        (
            e.wait(),
            e.wait_timeout(Duration::from_secs(60)),
            unset.wait(),
            unset.wait_timeout(Duration::from_secs(60)),
        )
    });
    join_all(&threads);
    assert_eq!(rx.recv().unwrap(), (true, true, false, false));
}

#[test]
fn debug_shows_the_flag() {
    let ev = Event::new();
    ev.set();
    let s = format!("{ev:?}");
    assert!(s.contains("Event") && s.contains("is_set: true"), "{s}");
}

fn stress_rounds(default: usize) -> usize {
    std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn stress_set_clear_rounds_wake_every_queued_waiter() {
    // Each round: every waiter queues, the setter sees them all queued, sets and
    // clears at once; every waiter must still return true.
    const WAITERS: usize = 3;
    let rounds = stress_rounds(10_000);
    let ev = Arc::new(Event::new());
    // Rounds are separated by a std barrier so that no waiter re-enters `wait`
    // before the setter cleared the event.
    let round = Arc::new(std::sync::Barrier::new(WAITERS + 1));
    let (e, r) = (ev.clone(), round.clone());
    let (threads, rx) = spawn_waiters(WAITERS, move || {
        let mut all_true = true;
        for _ in 0..rounds {
            r.wait();
            all_true &= e.wait_timeout(Duration::from_secs(30));
        }
        all_true
    });
    for i in 0..rounds {
        round.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ev.n_waiting() < WAITERS {
            assert!(Instant::now() < deadline, "round {i}: waiters never queued");
            std::thread::yield_now();
        }
        ev.set();
        ev.clear();
    }
    join_all(&threads);
    let results: Vec<bool> = rx.try_iter().collect();
    assert_eq!(results, vec![true; WAITERS]);
}
