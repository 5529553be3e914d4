//! `Timer`: Python's semantics, the repeating timer, and the service's guarantees.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::threading::{current_thread, enumerate, get_ident, Error, Timer};

fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn fires_no_earlier_than_its_interval() {
    for ms in [0u64, 1, 30, 100] {
        let (tx, rx) = mpsc::channel();
        let interval = Duration::from_millis(ms);
        let t = Timer::new(interval, move || tx.send(Instant::now()).unwrap());
        let start = Instant::now();
        t.start().unwrap();
        let fired = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            fired - start >= interval,
            "{ms} ms fired after {:?}",
            fired - start
        );
        assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
        assert!(!t.is_alive());
    }
}

#[test]
fn cancel_before_start_means_it_never_runs_and_start_is_still_ok() {
    let ran = Arc::new(AtomicU32::new(0));
    let r = ran.clone();
    let t = Timer::new(Duration::from_millis(1), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert!(t.cancel());
    assert!(!t.cancel(), "already cancelled");
    t.start().unwrap();
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(!t.is_alive());
    assert!(!enumerate().contains(t.thread()));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_before_firing_means_it_never_runs() {
    let ran = Arc::new(AtomicU32::new(0));
    let r = ran.clone();
    let t = Timer::new(Duration::from_millis(200), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    assert!(t.is_alive());
    assert!(t.cancel());
    assert!(!t.is_alive(), "a cancelled timer has ended");
    assert!(t.join_timeout(Duration::from_secs(1)).unwrap());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(!t.cancel());
}

#[test]
fn cancel_after_it_fired_changes_nothing_and_returns_false() {
    let (tx, rx) = mpsc::channel();
    let t = Timer::new(Duration::from_millis(1), move || tx.send(()).unwrap());
    t.start().unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    t.join().unwrap();
    assert!(!t.cancel());
    assert!(matches!(t.start(), Err(Error::AlreadyStarted)));
}

#[test]
fn ten_thousand_timers_with_random_cancels_run_once_or_cancel_never_both() {
    let n = 10_000;
    let runs: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(0)).collect());
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let timers: Vec<Timer> = (0..n)
        .map(|i| {
            let runs = runs.clone();
            let t = Timer::new(Duration::from_micros(rand() % 50_000), move || {
                runs[i].fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            t
        })
        .collect();
    let mut cancelled = vec![false; n];
    for (i, t) in timers.iter().enumerate() {
        if rand() % 2 == 0 {
            cancelled[i] = t.cancel();
        }
    }
    for t in &timers {
        assert!(t.join_timeout(Duration::from_secs(30)).unwrap());
    }
    for i in 0..n {
        let ran = runs[i].load(Ordering::SeqCst);
        assert!(ran <= 1, "timer {i} ran {ran} times");
        assert!(
            (ran == 1) != cancelled[i],
            "timer {i}: ran {ran}, cancel returned {}",
            cancelled[i]
        );
    }
}

#[test]
fn pending_timers_are_listed_with_no_native_id() {
    let t = Timer::new(Duration::from_secs(3600), || {});
    t.set_name("pending-timer");
    assert_eq!(t.ident(), None);
    t.start().unwrap();
    assert!(t.ident().is_some());
    assert!(enumerate().contains(t.thread()));
    assert_eq!(t.native_id(), None);
    let row = threadkit::threading::dump()
        .into_iter()
        .find(|r| r.name == "pending-timer")
        .unwrap();
    assert_eq!(row.state, threadkit::threading::ThreadState::Pending);
    assert!(t.cancel());
    assert!(!enumerate().contains(t.thread()));
}

#[test]
fn the_function_runs_as_the_timer_thread() {
    let (tx, rx) = mpsc::channel();
    let t = Timer::new(Duration::from_millis(1), move || {
        let me = current_thread();
        tx.send((me.clone(), get_ident(), me.native_id())).unwrap();
    });
    t.start().unwrap();
    let (me, ident, native) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    t.join().unwrap();
    assert_eq!(&me, t.thread());
    assert_eq!(Some(ident), t.ident());
    assert!(native.is_some(), "running: it has an OS thread");
}

#[test]
fn internal_threads_are_not_listed() {
    let t = Timer::new(Duration::from_secs(3600), || {});
    t.start().unwrap();
    assert!(enumerate()
        .iter()
        .all(|th| !th.name().starts_with("tk-timer")));
    assert!(threadkit::threading::dump_all()
        .iter()
        .any(|i| i.internal && i.name == "tk-timer"));
    t.cancel();
}

/// The OS names (`/proc/self/task/*/comm`, cut at 15 bytes) of this process's threads.
fn os_thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_string())
        .collect()
}

#[test]
fn timer_threads_have_distinct_os_names() {
    // A pending timer keeps the service thread; a firing one runs on a pool thread,
    // which reads the names while both are alive.
    let pending = Timer::new(Duration::from_secs(3600), || {});
    pending.start().unwrap();
    let (tx, rx) = mpsc::channel();
    let firing = Timer::new(Duration::ZERO, move || tx.send(os_thread_names()).unwrap());
    firing.start().unwrap();
    let names = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    pending.cancel();
    firing.join().unwrap();
    assert!(names.iter().any(|n| n == "tk-timer"), "{names:?}");
    assert!(names.iter().any(|n| n == "tk-timer-pool"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("threadkit-")),
        "{names:?}"
    );
}

#[test]
fn repeat_calls_on_its_slots_and_none_after_cancel() {
    let interval = Duration::from_millis(200);
    let calls = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let c = calls.clone();
    let t = Timer::repeat(interval, move || c.lock().unwrap().push(Instant::now()));
    let start = Instant::now();
    t.start().unwrap();
    let k = 5u32;
    std::thread::sleep(interval * k + Duration::from_millis(50));
    assert!(t.cancel());
    let at_cancel = calls.lock().unwrap().len();
    t.join_timeout(Duration::from_secs(10)).unwrap();
    std::thread::sleep(interval * 2);
    let calls = calls.lock().unwrap().clone();
    assert!(calls.len() >= (k - 2) as usize, "{} calls", calls.len());
    // A call running when cancel returned may complete, no new one starts.
    assert!(calls.len() <= at_cancel + 1);
    // Slots only move forward (a late one is skipped), so call i is for slot i+1
    // or later, and never runs before that slot is due.
    for (i, at) in calls.iter().enumerate() {
        let slot = (i + 1) as u32;
        assert!(*at - start >= interval * slot, "call {i} before its slot");
    }
}

#[test]
fn repeat_can_cancel_itself_from_inside() {
    let count = Arc::new(AtomicU32::new(0));
    let c = count.clone();
    let me: Arc<Mutex<Option<Timer>>> = Arc::new(Mutex::new(None));
    let m = me.clone();
    let t = Timer::repeat(Duration::from_millis(2), move || {
        if c.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
            let cancelled = m.lock().unwrap().as_ref().unwrap().cancel();
            assert!(cancelled);
        }
    });
    let handle = t.thread().clone();
    *me.lock().unwrap() = Some(t);
    me.lock().unwrap().as_ref().unwrap().start().unwrap();
    assert!(handle.join_timeout(Duration::from_secs(10)).unwrap());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    me.lock().unwrap().take();
}

#[test]
fn stopping_a_repeating_timer_ends_it() {
    let count = Arc::new(AtomicU32::new(0));
    let c = count.clone();
    let t = Timer::repeat(Duration::from_millis(2), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    wait_until("two ticks", Duration::from_secs(10), || {
        count.load(Ordering::SeqCst) >= 2
    });
    t.stop();
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
    let after = count.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(count.load(Ordering::SeqCst), after);
}

#[test]
fn a_blocking_function_does_not_delay_another_timer() {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let blocked_done = Arc::new(AtomicUsize::new(0));
    let b = blocked_done.clone();
    let first = Timer::new(Duration::from_millis(1), move || {
        // Blocks until the second timer's function signals.
        if rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .is_ok()
        {
            b.store(1, Ordering::SeqCst);
        }
    });
    let second = Timer::new(Duration::from_millis(20), move || tx.send(()).unwrap());
    first.start().unwrap();
    second.start().unwrap();
    assert!(first.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(second.join_timeout(Duration::from_secs(10)).unwrap());
    assert_eq!(blocked_done.load(Ordering::SeqCst), 1);
}

#[test]
fn set_daemon_after_start_is_an_error() {
    let t = Timer::new(Duration::from_secs(3600), || {});
    t.set_daemon(true).unwrap();
    assert!(t.is_daemon());
    t.start().unwrap();
    assert!(matches!(t.set_daemon(false), Err(Error::DaemonAfterStart)));
    t.cancel();
}

#[test]
fn a_panicking_repeat_ends_and_is_marked_panicked() {
    let count = Arc::new(AtomicU32::new(0));
    let c = count.clone();
    let t = Timer::repeat(Duration::from_millis(2), move || {
        c.fetch_add(1, Ordering::SeqCst);
        panic!("tick failed");
    });
    t.start().unwrap();
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(t.panicked());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn local_values_of_a_timer_call_are_dropped_when_the_call_ends() {
    use threadkit::threading::Local;
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || Counted(d.clone())));
    let calls = Arc::new(AtomicU32::new(0));
    let (l, c) = (local.clone(), calls.clone());
    let t = Timer::repeat(Duration::from_millis(2), move || {
        l.with(|_| {});
        c.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    wait_until("three calls", Duration::from_secs(10), || {
        calls.load(Ordering::SeqCst) >= 3
    });
    t.cancel();
    t.join().unwrap();
    // One value per call, each dropped when its call ended.
    assert_eq!(
        drops.load(Ordering::SeqCst),
        calls.load(Ordering::SeqCst) as usize
    );
}

#[test]
fn the_daemon_flag_is_inherited_like_any_thread() {
    // Made on a test (foreign, daemon) thread.
    assert!(Timer::new(Duration::from_secs(1), || {}).is_daemon());
}

#[test]
fn interval_is_what_the_timer_was_made_with() {
    let once = Timer::new(Duration::from_millis(1500), || {});
    assert_eq!(once.interval(), Duration::from_millis(1500));
    let every = Timer::repeat(Duration::from_millis(250), || {});
    assert_eq!(every.interval(), Duration::from_millis(250));
    let huge = Timer::new(Duration::MAX, || {});
    assert!(huge.interval() >= Duration::from_secs(500 * 365 * 24 * 3600));
}

/// How many pending timers the scale test holds: 1,000,000, or `THREADKIT_STRESS`.
fn scale() -> usize {
    std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

#[test]
fn a_million_pending_timers_cancelled_from_inside_and_outside_never_run() {
    let n = scale();
    let ran = Arc::new(AtomicUsize::new(0));
    let pending: Arc<Vec<Timer>> = Arc::new(
        (0..n)
            .map(|i| {
                let ran = ran.clone();
                let t = Timer::new(Duration::from_secs(3600 + (i % 1000) as u64), move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
                t.start().unwrap();
                t
            })
            .collect(),
    );
    // Pending timers are listed, by the timer service rather than the registry.
    let listed = enumerate();
    for t in [&pending[0], &pending[n / 2], &pending[n - 1]] {
        assert!(listed.contains(t.thread()));
        assert_eq!(t.native_id(), None);
    }
    drop(listed);
    // Eight short timers each cancel every eighth timer of the first half from
    // inside their function; the rest are cancelled from outside.
    let inside = Arc::new(AtomicUsize::new(0));
    let cancellers: Vec<Timer> = (0..8)
        .map(|k| {
            let (pending, inside) = (pending.clone(), inside.clone());
            Timer::new(Duration::from_millis(1), move || {
                let mine = (k..n / 2).step_by(8).filter(|&i| pending[i].cancel());
                inside.fetch_add(mine.count(), Ordering::SeqCst);
            })
        })
        .collect();
    for c in &cancellers {
        c.start().unwrap();
    }
    for c in &cancellers {
        assert!(c.join_timeout(Duration::from_secs(120)).unwrap());
    }
    let outside = pending.iter().filter(|t| t.cancel()).count();
    assert_eq!(inside.load(Ordering::SeqCst), n / 2);
    assert_eq!(outside, n - n / 2);
    assert!(pending.iter().all(|t| !t.is_alive()));
    assert!(
        !pending.iter().any(|t| t.cancel()),
        "a second cancel stops nothing"
    );
    assert!(pending[n - 1]
        .join_timeout(Duration::from_secs(10))
        .unwrap());
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn inside_a_call_current_thread_enumerate_and_locals_are_the_timers() {
    use threadkit::threading::Local;
    let local = Arc::new(Local::new(|| 0u32));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (l, s) = (local.clone(), seen.clone());
    let t = Arc::new(Timer::repeat(Duration::from_millis(2), move || {
        let me = current_thread();
        let listed = enumerate().contains(&me);
        // A fresh value each call: the last call's value was dropped with it.
        let before = l.with_mut(|v| {
            let before = *v;
            *v += 1;
            before
        });
        s.lock().unwrap().push((me, listed, before));
    }));
    // Renamed while pending: the name it runs under is the new one.
    t.set_name("renamed-repeat");
    t.start().unwrap();
    // Generous: `enumerate()` walks the million timers of the test beside it.
    wait_until("three calls", Duration::from_secs(120), || {
        seen.lock().unwrap().len() >= 3
    });
    assert!(t.cancel());
    t.join().unwrap();
    for (me, listed, before) in seen.lock().unwrap().iter() {
        assert_eq!(me, t.thread());
        assert_eq!(me.name(), "renamed-repeat");
        assert!(listed, "a running timer is listed");
        assert_eq!(*before, 0, "a Local value lives for one call");
    }
    // The caller's own value is its own.
    assert_eq!(local.with(|v| *v), 0);
}

#[test]
fn a_repeat_of_an_absurd_interval_is_pending_until_cancelled() {
    let t = Timer::repeat(Duration::MAX, || unreachable!("slot 1 is never due"));
    t.start().unwrap();
    assert!(t.is_alive());
    assert_eq!(t.interval(), Duration::from_nanos(u64::MAX));
    assert!(t.cancel());
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
}
