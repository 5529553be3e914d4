//! `Barrier`: ported from CPython's `lock_tests.BarrierTests`, plus the action's
//! timing, stop requests and a cycling stress.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::threading::{current_thread, Barrier, Error, Thread};

/// Polls `cond` until it holds; panics after 10 s (so a bug fails, not hangs).
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Runs `f(i)` on `n` threadkit threads, joins them, returns the results in
/// thread order; a panic in one fails the test.
fn run_parallel<R: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let threads: Vec<Thread> = (0..n)
        .map(|i| {
            let (f, tx) = (f.clone(), tx.clone());
            Thread::builder()
                .target(move || tx.send((i, f(i))).unwrap())
                .spawn()
                .unwrap()
        })
        .collect();
    for t in &threads {
        assert!(
            t.join_timeout(Duration::from_secs(20)).unwrap(),
            "thread hung"
        );
        assert!(!t.panicked(), "a thread panicked");
    }
    let mut out: Vec<(usize, R)> = rx.try_iter().collect();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

const N: usize = 5;

#[test]
#[should_panic(expected = "at least one party")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}

#[test]
fn a_single_party_never_blocks() {
    // CPython: test_single_thread.
    let b = Barrier::new(1);
    for _ in 0..3 {
        assert_eq!(b.wait().unwrap(), 0);
    }
    assert_eq!(b.parties(), 1);
}

#[test]
fn indices_are_distinct_in_every_cycle() {
    // CPython: test_barrier, test_wait_return.
    const CYCLES: usize = 5;
    let b = Arc::new(Barrier::new(N));
    let bb = b.clone();
    let results = run_parallel(N, move |_| {
        (0..CYCLES)
            .map(|_| bb.wait().unwrap())
            .collect::<Vec<usize>>()
    });
    for cycle in 0..CYCLES {
        let indices: HashSet<usize> = results.iter().map(|r| r[cycle]).collect();
        assert_eq!(indices, (0..N).collect(), "cycle {cycle}");
    }
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());
}

#[test]
fn action_runs_once_per_cycle_before_anyone_leaves() {
    // CPython: test_action.
    const CYCLES: usize = 4;
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let b = Arc::new(Barrier::new(N).with_action(move || {
        // Give the waiters a chance to (wrongly) leave before the action ends.
        std::thread::sleep(Duration::from_millis(5));
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let (bb, rr) = (b.clone(), runs.clone());
    let seen = run_parallel(N, move |_| {
        (0..CYCLES)
            .map(|_| {
                bb.wait().unwrap();
                rr.load(Ordering::SeqCst)
            })
            .collect::<Vec<usize>>()
    });
    for (cycle, expected) in (1..=CYCLES).enumerate() {
        for s in &seen {
            assert_eq!(s[cycle], expected, "left before the action ended");
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), CYCLES);
}

#[test]
fn the_action_runs_on_the_last_thread_to_arrive() {
    let runner = Arc::new(Mutex::new(None));
    let r = runner.clone();
    let b = Arc::new(Barrier::new(3).with_action(move || {
        *r.lock().unwrap() = Some(current_thread());
    }));
    let bb = b.clone();
    let results = run_parallel(3, move |_| (bb.wait().unwrap(), current_thread()));
    let last = results.iter().find(|(i, _)| *i == 2).unwrap();
    assert_eq!(runner.lock().unwrap().as_ref(), Some(&last.1));
}

#[test]
fn a_panicking_action_breaks_the_barrier_and_panics_its_runner() {
    // CPython: test_abort (an exception in the action).
    let b = Arc::new(Barrier::new(3).with_action(|| panic!("action failed")));
    let (tx, rx) = mpsc::channel();
    let threads: Vec<Thread> = (0..3)
        .map(|_| {
            let (b, tx) = (b.clone(), tx.clone());
            Thread::builder()
                .target(move || {
                    let r = b.wait();
                    tx.send(r.map_err(|e| matches!(e, Error::BrokenBarrier)))
                        .unwrap();
                })
                .spawn()
                .unwrap()
        })
        .collect();
    for t in &threads {
        assert!(t.join_timeout(Duration::from_secs(20)).unwrap());
    }
    let results: Vec<_> = rx.try_iter().collect();
    // The runner panicked out of `wait`; the other two got BrokenBarrier.
    assert_eq!(threads.iter().filter(|t| t.panicked()).count(), 1);
    assert_eq!(results, vec![Err(true), Err(true)]);
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
    b.reset();
    assert!(!b.broken());
}

#[test]
fn abort_breaks_every_waiter_and_later_waits() {
    let b = Arc::new(Barrier::new(N));
    let bb = b.clone();
    let aborter = b.clone();
    let t = Thread::builder()
        .target(move || {
            wait_until("N - 1 waiters", || aborter.n_waiting() == N - 1);
            aborter.abort();
        })
        .spawn()
        .unwrap();
    let results = run_parallel(N - 1, move |_| bb.wait());
    t.join().unwrap();
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(Error::BrokenBarrier))));
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
}

#[test]
fn reset_breaks_current_waiters_and_makes_the_barrier_usable() {
    // CPython: test_reset.
    let b = Arc::new(Barrier::new(N));
    let resetter = b.clone();
    let t = Thread::builder()
        .target(move || {
            wait_until("N - 1 waiters", || resetter.n_waiting() == N - 1);
            resetter.reset();
        })
        .spawn()
        .unwrap();
    let bb = b.clone();
    let results = run_parallel(N - 1, move |_| bb.wait());
    t.join().unwrap();
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(Error::BrokenBarrier))));
    assert!(!b.broken(), "reset leaves it usable");
    let bb = b.clone();
    let again = run_parallel(N, move |_| bb.wait().unwrap());
    assert_eq!(again.into_iter().collect::<HashSet<_>>(), (0..N).collect());
}

#[test]
fn abort_then_reset_makes_the_barrier_usable_again() {
    // CPython: test_abort_and_reset.
    let b = Arc::new(Barrier::new(3));
    b.abort();
    assert!(b.broken());
    assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
    b.reset();
    assert!(!b.broken());
    let bb = b.clone();
    let indices = run_parallel(3, move |_| bb.wait().unwrap());
    assert_eq!(
        indices.into_iter().collect::<HashSet<_>>(),
        (0..3).collect()
    );
}

#[test]
fn wait_timeout_breaks_the_barrier_never_early() {
    // CPython: test_timeout.
    let b = Arc::new(Barrier::new(3));
    let bb = b.clone();
    let results = run_parallel(2, move |i| {
        let start = Instant::now();
        let r = if i == 0 {
            bb.wait_timeout(Duration::from_millis(50))
        } else {
            bb.wait()
        };
        (
            r.map_err(|e| matches!(e, Error::BrokenBarrier)),
            start.elapsed(),
        )
    });
    assert_eq!(results[0].0, Err(true));
    assert!(results[0].1 >= Duration::from_millis(50));
    assert_eq!(
        results[1].0,
        Err(true),
        "a timeout breaks it for every waiter"
    );
    assert!(b.broken());
}

#[test]
fn the_default_timeout_breaks_the_barrier() {
    // CPython: test_default_timeout.
    let b = Barrier::new(2).with_timeout(Duration::from_millis(30));
    let start = Instant::now();
    assert!(matches!(b.wait(), Err(Error::BrokenBarrier)));
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(b.broken());
    b.reset();
    // An explicit timeout wins over the default.
    let b = Arc::new(b);
    let bb = b.clone();
    let t = Thread::builder()
        .target(move || {
            bb.wait_timeout(Duration::from_secs(30)).unwrap();
        })
        .spawn()
        .unwrap();
    wait_until("the waiter", || b.n_waiting() == 1);
    std::thread::sleep(Duration::from_millis(60));
    assert!(!b.broken(), "the default timeout was used");
    b.wait_timeout(Duration::from_secs(30)).unwrap();
    t.join().unwrap();
    assert!(!t.panicked());
}

#[test]
fn n_waiting_counts_threads_in_the_current_cycle() {
    let b = Arc::new(Barrier::new(3));
    let bb = b.clone();
    let waiter = b.clone();
    let t = Thread::builder()
        .target(move || {
            waiter.wait().unwrap();
        })
        .spawn()
        .unwrap();
    wait_until("one waiter", || b.n_waiting() == 1);
    let t2 = Thread::builder()
        .target(move || {
            bb.wait().unwrap();
        })
        .spawn()
        .unwrap();
    wait_until("two waiters", || b.n_waiting() == 2);
    b.wait().unwrap();
    t.join().unwrap();
    t2.join().unwrap();
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn a_stop_request_breaks_the_barrier() {
    let b = Arc::new(Barrier::new(3));
    let (tx, rx) = mpsc::channel();
    let threads: Vec<Thread> = (0..2)
        .map(|_| {
            let (b, tx) = (b.clone(), tx.clone());
            Thread::builder()
                .target(move || {
                    tx.send(matches!(b.wait(), Err(Error::BrokenBarrier)))
                        .unwrap()
                })
                .spawn()
                .unwrap()
        })
        .collect();
    wait_until("two waiters", || b.n_waiting() == 2);
    threads[0].stop();
    for t in &threads {
        assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
        assert!(!t.panicked());
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![true, true]);
    assert!(b.broken());
}

#[test]
fn a_stopped_thread_that_arrives_last_still_trips_the_barrier() {
    let b = Arc::new(Barrier::new(2));
    let bb = b.clone();
    let t = Thread::builder()
        .target(move || {
            bb.wait().unwrap();
        })
        .spawn()
        .unwrap();
    wait_until("the waiter", || b.n_waiting() == 1);
    let bb = b.clone();
    let last = Thread::builder()
        .target(move || {
            current_thread().stop();
            assert_eq!(bb.wait().unwrap(), 1);
        })
        .spawn()
        .unwrap();
    for t in [&t, &last] {
        assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
        assert!(!t.panicked());
    }
    assert!(!b.broken());
}

#[test]
fn abort_from_inside_the_action_breaks_the_whole_cycle() {
    let slot: Arc<Mutex<Option<Arc<Barrier>>>> = Arc::new(Mutex::new(None));
    let s = slot.clone();
    let b = Arc::new(Barrier::new(3).with_action(move || {
        s.lock().unwrap().as_ref().unwrap().abort();
    }));
    *slot.lock().unwrap() = Some(b.clone());
    let bb = b.clone();
    let results = run_parallel(3, move |_| matches!(bb.wait(), Err(Error::BrokenBarrier)));
    assert_eq!(results, vec![true; 3]);
    assert!(b.broken());
    slot.lock().unwrap().take();
}

#[test]
fn debug_shows_parties() {
    let s = format!("{:?}", Barrier::new(4));
    assert!(s.contains("parties: 4"), "{s}");
}

#[test]
fn stress_many_cycles_with_an_action() {
    let cycles = std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .map_or(2_000, |n| n / 10);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let b = Arc::new(Barrier::new(3).with_action(move || {
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let (bb, rr) = (b.clone(), runs.clone());
    let ok = run_parallel(3, move |_| {
        (0..cycles).all(|c| {
            let i = bb.wait().unwrap();
            i < 3 && rr.load(Ordering::SeqCst) > c
        })
    });
    assert_eq!(ok, vec![true; 3]);
    assert_eq!(runs.load(Ordering::SeqCst), cycles);
}

#[test]
fn a_timeout_beyond_timeout_max_waits_forever_without_panic() {
    let b = Arc::new(Barrier::new(2).with_timeout(Duration::MAX));
    let bb = b.clone();
    let results = run_parallel(2, move |i| {
        if i == 0 {
            bb.wait_timeout(threadkit::threading::TIMEOUT_MAX + Duration::from_secs(1))
                .is_ok()
        } else {
            bb.wait().is_ok()
        }
    });
    assert_eq!(results, vec![true, true]);
}
