//! `threadkit::futures`: the executor, futures, `wait` and `as_completed`, with the
//! thread-pool parts of CPython's `test_concurrent_futures` as the checklist.
//! Tasks are sequenced with channels; sleeps only make an order likely, never
//! decide a result.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use threadkit::futures::{
    as_completed, wait, Future, FutureError, ReturnWhen, ThreadPoolExecutor, TimedOut,
};
use threadkit::threading::{self, current_thread, Error};

/// Every blocking wait in a test gives up after this, so a hang fails instead.
const GUARD: Duration = Duration::from_secs(30);

/// A gate a task blocks on until the test opens it (bounded by GUARD).
fn gate() -> (Sender<()>, impl FnOnce() -> bool + Send + 'static) {
    let (tx, rx): (Sender<()>, Receiver<()>) = mpsc::channel();
    (tx, move || rx.recv_timeout(GUARD).is_ok())
}

#[test]
fn submit_returns_the_value() {
    let pool = ThreadPoolExecutor::new(2);
    let f = pool.submit(|| 2 + 3).unwrap();
    assert_eq!(f.result(), Ok(5));
}

#[test]
fn a_panicking_task_is_caught_in_its_future_and_the_worker_goes_on() {
    let pool = ThreadPoolExecutor::new(1);
    let bad = pool.submit(|| -> String { panic!("task failed") }).unwrap();
    assert!(bad.wait_timeout(GUARD));
    assert_eq!(bad.exception().as_deref(), Some("task failed"));
    assert_eq!(
        bad.result(),
        Err(FutureError::Panicked("task failed".into()))
    );
    let name = pool.submit(|| current_thread().name()).unwrap();
    let name = name.result().unwrap();
    assert!(name.ends_with("_0"), "{name}");
}

#[test]
fn exception_is_none_until_done_and_for_a_value() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let f = pool
        .submit(move || -> () {
            blocked();
            panic!("late")
        })
        .unwrap();
    assert_eq!(f.exception(), None);
    assert!(!f.wait_timeout(Duration::from_millis(20)));
    open.send(()).unwrap();
    assert!(f.wait_timeout(GUARD));
    assert_eq!(f.exception().as_deref(), Some("late"));
    let ok = pool.submit(|| 1).unwrap();
    ok.wait();
    assert_eq!(ok.exception(), None);
}

#[test]
fn wait_timeout_waits_at_least_the_timeout() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let f = pool.submit(blocked).unwrap();
    let start = Instant::now();
    assert!(!f.wait_timeout(Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(f.running() && !f.done());
    open.send(()).unwrap();
    assert_eq!(f.result(), Ok(true));
}

#[test]
fn map_yields_results_in_input_order() {
    let pool = ThreadPoolExecutor::new(4);
    // Later items finish first.
    let out: Vec<_> = pool
        .map(
            |i: u64| {
                std::thread::sleep(Duration::from_millis(40 - 10 * i));
                i * i
            },
            0..4,
        )
        .unwrap()
        .collect();
    assert_eq!(out, vec![Ok(0), Ok(1), Ok(4), Ok(9)]);
}

#[test]
fn map_submits_every_item_before_it_returns() {
    let pool = ThreadPoolExecutor::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let results = pool
        .map(move |_: u8| r.fetch_add(1, Ordering::SeqCst), [0u8; 5])
        .unwrap();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 5);
    assert_eq!(results.count(), 5);
}

#[test]
fn map_results_outlive_the_executor() {
    let pool = ThreadPoolExecutor::new(2);
    let results = pool.map(|s: String| s.len(), ["a".to_string(), "bcd".to_string()]);
    drop(pool);
    let out: Vec<_> = results.unwrap().collect();
    assert_eq!(out, vec![Ok(1), Ok(3)]);
}

#[test]
fn map_reports_a_panic_in_place() {
    let pool = ThreadPoolExecutor::new(2);
    let out: Vec<_> = pool
        .map(|i: i32| if i == 1 { panic!("one") } else { i }, [0, 1, 2])
        .unwrap()
        .collect();
    assert_eq!(
        out,
        vec![Ok(0), Err(FutureError::Panicked("one".into())), Ok(2)]
    );
}

#[test]
fn map_timeout_yields_timed_out_once_then_ends() {
    let pool = ThreadPoolExecutor::new(2);
    let (open, blocked) = gate();
    let blocked = Mutex::new(Some(blocked));
    let start = Instant::now();
    let out: Vec<_> = pool
        .map_timeout(
            move |i: u32| match i {
                1 => blocked.lock().unwrap().take().is_some_and(|b| b()),
                _ => true,
            },
            [0, 1, 2],
            Duration::from_millis(100),
        )
        .unwrap()
        .collect();
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(out, vec![Ok(true), Err(FutureError::TimedOut)]);
    open.send(()).unwrap();
}

#[test]
fn cancel_before_start_never_runs_the_task() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let busy = pool.submit(blocked).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let queued = pool
        .submit(move || {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    assert!(!queued.running() && !queued.done());
    assert!(queued.cancel());
    assert!(queued.cancel(), "cancelling twice still says cancelled");
    assert!(queued.cancelled() && queued.done());
    open.send(()).unwrap();
    assert!(busy.wait_timeout(GUARD));
    assert!(!busy.cancel(), "a finished future cannot be cancelled");
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(queued.result(), Err(FutureError::Cancelled));
}

#[test]
fn a_running_future_cannot_be_cancelled() {
    let pool = ThreadPoolExecutor::new(1);
    let (started_tx, started_rx) = mpsc::channel();
    let (open, blocked) = gate();
    let f = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            blocked()
        })
        .unwrap();
    started_rx.recv_timeout(GUARD).unwrap();
    assert!(f.running());
    assert!(!f.cancel());
    assert!(!f.cancelled());
    open.send(()).unwrap();
    assert_eq!(f.result(), Ok(true));
}

#[test]
fn shutdown_with_cancel_futures_cancels_the_pending_ones() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let (started_tx, started_rx) = mpsc::channel();
    let busy = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            blocked()
        })
        .unwrap();
    let pending: Vec<_> = (0..5).map(|i| pool.submit(move || i).unwrap()).collect();
    // Running, so only the queued ones are cancelled.
    started_rx.recv_timeout(GUARD).unwrap();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        open.send(()).unwrap();
    });
    pool.shutdown(true, true);
    opener.join().unwrap();
    assert_eq!(busy.result(), Ok(true));
    for f in pending {
        assert!(f.cancelled());
        assert_eq!(f.result(), Err(FutureError::Cancelled));
    }
}

#[test]
fn shutdown_without_wait_still_runs_what_was_submitted() {
    let pool = ThreadPoolExecutor::new(2);
    let fs: Vec<_> = (0..4)
        .map(|i| {
            pool.submit(move || {
                std::thread::sleep(Duration::from_millis(10));
                i
            })
            .unwrap()
        })
        .collect();
    pool.shutdown(false, false);
    assert!(matches!(pool.submit(|| 0), Err(Error::ExecutorShutdown)));
    let out: Vec<_> = fs.into_iter().map(Future::result).collect();
    assert_eq!(out, vec![Ok(0), Ok(1), Ok(2), Ok(3)]);
}

#[test]
fn submit_after_shutdown_is_executor_shutdown() {
    let pool = ThreadPoolExecutor::new(1);
    pool.shutdown(true, false);
    let err = pool.submit(|| ()).unwrap_err();
    assert!(matches!(err, Error::ExecutorShutdown));
    assert_eq!(
        err.to_string(),
        "cannot schedule new futures after shutdown"
    );
    assert!(matches!(
        pool.map(|x: u8| x, [1]),
        Err(Error::ExecutorShutdown)
    ));
}

#[test]
fn as_completed_yields_in_completion_order() {
    let pool = ThreadPoolExecutor::new(3);
    let mut opens = Vec::new();
    let mut fs = Vec::new();
    for i in 0..3usize {
        let (open, blocked) = gate();
        opens.push(open);
        fs.push(pool.submit(move || (i, blocked())).unwrap());
    }
    // Finished before the call, in the order 2, 0.
    for i in [2, 0] {
        opens[i].send(()).unwrap();
        assert!(fs[i].wait_timeout(GUARD));
    }
    let mut it = as_completed(&fs, Some(GUARD));
    assert_eq!(it.next(), Some(Ok(2)));
    assert_eq!(it.next(), Some(Ok(0)));
    // One that finishes while the iterator waits.
    opens[1].send(()).unwrap();
    assert_eq!(it.next(), Some(Ok(1)));
    assert_eq!(it.next(), None);
}

#[test]
fn as_completed_ends_with_timed_out_when_the_timeout_passes() {
    let pool = ThreadPoolExecutor::new(2);
    let (open, blocked) = gate();
    let fs = vec![pool.submit(|| true).unwrap(), pool.submit(blocked).unwrap()];
    assert!(fs[0].wait_timeout(GUARD));
    let start = Instant::now();
    let out: Vec<_> = as_completed(&fs, Some(Duration::from_millis(80))).collect();
    assert!(start.elapsed() >= Duration::from_millis(80));
    assert_eq!(out, vec![Ok(0), Err(TimedOut)]);
    open.send(()).unwrap();
}

#[test]
fn as_completed_counts_a_cancelled_future_as_done_at_once() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let fs = vec![pool.submit(blocked).unwrap(), pool.submit(|| true).unwrap()];
    assert!(fs[1].cancel());
    assert_eq!(
        as_completed(&fs, Some(Duration::ZERO)).collect::<Vec<_>>(),
        vec![Ok(1), Err(TimedOut)]
    );
    open.send(()).unwrap();
}

#[test]
fn wait_first_completed_returns_when_one_is_done() {
    let pool = ThreadPoolExecutor::new(2);
    let (open, blocked) = gate();
    let fs = vec![pool.submit(blocked).unwrap(), pool.submit(|| true).unwrap()];
    let (done, not_done) = wait(&fs, Some(GUARD), ReturnWhen::FirstCompleted);
    assert_eq!((done, not_done), (vec![1], vec![0]));
    open.send(()).unwrap();
}

#[test]
fn wait_first_exception_returns_at_the_first_panic() {
    let pool = ThreadPoolExecutor::new(3);
    let (open, blocked) = gate();
    let fs = vec![
        pool.submit(blocked).unwrap(),
        pool.submit(|| true).unwrap(),
        pool.submit(|| -> bool { panic!("x") }).unwrap(),
    ];
    let (done, not_done) = wait(&fs, Some(GUARD), ReturnWhen::FirstException);
    assert_eq!(not_done, vec![0]);
    assert!(done.contains(&2));
    open.send(()).unwrap();
    // Without any panic, FirstException waits for all.
    let fs = vec![
        pool.submit(|| true).unwrap(),
        pool.submit(|| false).unwrap(),
    ];
    let (done, not_done) = wait(&fs, Some(GUARD), ReturnWhen::FirstException);
    assert_eq!((done, not_done), (vec![0, 1], vec![]));
}

#[test]
fn wait_all_completed_returns_when_all_are_done() {
    let pool = ThreadPoolExecutor::new(4);
    let fs: Vec<_> = (0..4u64)
        .map(|i| {
            pool.submit(move || std::thread::sleep(Duration::from_millis(10 * i)))
                .unwrap()
        })
        .collect();
    let (done, not_done) = wait(&fs, None, ReturnWhen::AllCompleted);
    assert_eq!((done, not_done), (vec![0, 1, 2, 3], vec![]));
    assert!(fs.iter().all(Future::done));
}

#[test]
fn wait_returns_the_undone_ones_after_the_timeout() {
    let pool = ThreadPoolExecutor::new(2);
    let (open, blocked) = gate();
    let fs = vec![pool.submit(|| true).unwrap(), pool.submit(blocked).unwrap()];
    assert!(fs[0].wait_timeout(GUARD));
    let start = Instant::now();
    let (done, not_done) = wait(
        &fs,
        Some(Duration::from_millis(60)),
        ReturnWhen::AllCompleted,
    );
    assert!(start.elapsed() >= Duration::from_millis(60));
    assert_eq!((done, not_done), (vec![0], vec![1]));
    open.send(()).unwrap();
}

#[test]
fn workers_are_named_as_cpython_names_them_and_listed() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("SpecialPool")
        .build();
    let (started_tx, started_rx) = mpsc::channel();
    let (open, blocked) = gate();
    let blocked = Arc::new(Mutex::new(Some(blocked)));
    for _ in 0..3 {
        let started = started_tx.clone();
        let blocked = blocked.clone();
        pool.submit(move || {
            let me = current_thread();
            let listed = threading::enumerate().contains(&me);
            started.send((me.name(), me.is_daemon(), listed)).unwrap();
            // Busy until all three run, so each runs on a worker of its own.
            if let Some(b) = blocked.lock().unwrap().take() {
                b();
            }
        })
        .unwrap();
    }
    let got: HashSet<_> = (0..3)
        .map(|_| started_rx.recv_timeout(GUARD).unwrap())
        .collect();
    open.send(()).unwrap();
    let want: HashSet<_> = (0..3)
        .map(|i| (format!("SpecialPool_{i}"), false, true))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn default_worker_names_are_thread_pool_executor_k_n() {
    let pool = ThreadPoolExecutor::new(1);
    let name = pool
        .submit(|| current_thread().name())
        .unwrap()
        .result()
        .unwrap();
    let rest = name.strip_prefix("ThreadPoolExecutor-").expect(&name);
    let (k, n) = rest.split_once('_').expect(&name);
    assert!(k.parse::<usize>().is_ok(), "{name}");
    assert_eq!(n, "0");
}

#[test]
fn default_max_workers_is_cpythons() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(
        ThreadPoolExecutor::new(0).max_workers(),
        (cores + 4).min(32)
    );
    assert_eq!(ThreadPoolExecutor::new(7).max_workers(), 7);
}

#[test]
fn an_idle_worker_is_reused_before_a_new_one_starts() {
    let pool = ThreadPoolExecutor::new(5);
    let mut names = HashSet::new();
    for _ in 0..10 {
        names.insert(
            pool.submit(|| current_thread().name())
                .unwrap()
                .result()
                .unwrap(),
        );
    }
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn workers_start_on_demand_up_to_max_workers() {
    let pool = ThreadPoolExecutor::new(3);
    let (started_tx, started_rx) = mpsc::channel();
    let mut opens = Vec::new();
    for _ in 0..6 {
        let (open, blocked) = gate();
        opens.push(open);
        let started = started_tx.clone();
        pool.submit(move || {
            started.send(current_thread().name()).unwrap();
            blocked();
        })
        .unwrap();
    }
    // Three run at once, the other three wait for a free worker.
    let first: HashSet<_> = (0..3)
        .map(|_| started_rx.recv_timeout(GUARD).unwrap())
        .collect();
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(started_rx.recv_timeout(Duration::from_millis(50)).is_err());
    for o in opens {
        o.send(()).unwrap();
    }
    let rest: HashSet<_> = (0..3)
        .map(|_| started_rx.recv_timeout(GUARD).unwrap())
        .collect();
    assert!(rest.is_subset(&first), "{rest:?} beyond {first:?}");
}

#[test]
fn the_initializer_runs_once_per_worker() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    let (open, blocked) = gate();
    let a = pool.submit(blocked).unwrap();
    let b = pool.submit(|| true).unwrap();
    assert_eq!(b.result(), Ok(true));
    open.send(()).unwrap();
    assert_eq!(a.result(), Ok(true));
    pool.shutdown(true, false);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_initializer_breaks_the_pool() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(|| panic!("init failed"))
        .build();
    let fs: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
    for f in fs {
        // Each submit either went in (then it fails Broken) or saw the pool broken.
        match f {
            Ok(f) => assert_eq!(f.result(), Err(FutureError::Broken)),
            Err(e) => assert!(matches!(e, Error::BrokenExecutor)),
        }
    }
    assert!(matches!(pool.submit(|| 0), Err(Error::BrokenExecutor)));
}

#[test]
fn callbacks_run_in_order_with_the_outcome() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let f = pool.submit(move || if blocked() { 7 } else { 0 }).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for tag in 0..3 {
        let seen = seen.clone();
        f.add_done_callback(move |r| seen.lock().unwrap().push((tag, r.clone())));
    }
    open.send(()).unwrap();
    f.wait();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(0, Ok(7)), (1, Ok(7)), (2, Ok(7))]
    );
}

#[test]
fn a_callback_on_a_done_future_runs_at_once_in_the_caller() {
    let pool = ThreadPoolExecutor::new(1);
    let f = pool.submit(|| -> u8 { panic!("bad") }).unwrap();
    f.wait();
    let (tx, rx) = mpsc::channel();
    let me = current_thread();
    f.add_done_callback(move |r| tx.send((current_thread() == me, r.clone())).unwrap());
    assert_eq!(
        rx.try_recv().unwrap(),
        (true, Err(FutureError::Panicked("bad".into())))
    );
}

#[test]
fn cancel_runs_the_callbacks_before_it_returns() {
    let pool = ThreadPoolExecutor::new(1);
    let (open, blocked) = gate();
    let _busy = pool.submit(blocked).unwrap();
    let f = pool.submit(|| 1).unwrap();
    let (tx, rx) = mpsc::channel();
    f.add_done_callback(move |r| tx.send(r.clone()).unwrap());
    assert!(f.cancel());
    assert_eq!(rx.try_recv().unwrap(), Err(FutureError::Cancelled));
    open.send(()).unwrap();
}

/// The excepthook is process-wide: the tests that set it take this lock.
static HOOK: Mutex<()> = Mutex::new(());

fn capture_excepthook() -> Arc<Mutex<Vec<(String, String)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    threading::set_excepthook(move |args| {
        s.lock()
            .unwrap()
            .push((args.thread.name(), args.message.clone()))
    });
    seen
}

#[test]
fn a_panicking_callback_goes_to_the_excepthook_and_disturbs_nothing() {
    let _hook = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let seen = capture_excepthook();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("cbpool")
        .build();
    let (open, blocked) = gate();
    let f = pool.submit(blocked).unwrap();
    let after = Arc::new(AtomicUsize::new(0));
    f.add_done_callback(|_| panic!("callback broke"));
    let a = after.clone();
    f.add_done_callback(move |_| {
        a.fetch_add(1, Ordering::SeqCst);
    });
    open.send(()).unwrap();
    f.wait();
    // The worker goes on, the later callback ran, the future kept its value.
    assert_eq!(pool.submit(|| 5).unwrap().result(), Ok(5));
    assert_eq!(after.load(Ordering::SeqCst), 1);
    // Already done: runs in the caller, reported with the caller's thread.
    f.add_done_callback(|_| panic!("in caller"));
    assert_eq!(f.result(), Ok(true));
    threading::restore_excepthook();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("cbpool_0".to_string(), "callback broke".to_string()),
            (current_thread().name(), "in caller".to_string()),
        ]
    );
}

#[test]
fn a_panicking_task_does_not_reach_the_excepthook() {
    let _hook = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let seen = capture_excepthook();
    let pool = ThreadPoolExecutor::new(1);
    let f = pool.submit(|| -> () { panic!("quiet") }).unwrap();
    assert!(f.result().is_err());
    pool.shutdown(true, false);
    threading::restore_excepthook();
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_task_can_submit_to_its_own_pool() {
    let pool = Arc::new(ThreadPoolExecutor::new(2));
    let p = pool.clone();
    let outer = pool
        .submit(move || p.submit(|| 40).unwrap().result().unwrap() + 2)
        .unwrap();
    assert_eq!(outer.result(), Ok(42));
}

#[test]
fn stress_many_submitters_lose_no_result() {
    let per: usize = std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let pool = Arc::new(ThreadPoolExecutor::new(4));
    let submitters: Vec<_> = (0..4)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let fs: Vec<_> = (0..per)
                    .map(|i| pool.submit(move || t * per + i).unwrap())
                    .collect();
                fs.into_iter().map(|f| f.result().unwrap()).sum::<usize>()
            })
        })
        .collect();
    let total: usize = submitters.into_iter().map(|s| s.join().unwrap()).sum();
    let n = 4 * per;
    assert_eq!(total, n * (n - 1) / 2);
}

/// Runs this test binary again as a child that does `mode`, and returns its
/// output and how long it took.
/// A child still running after GUARD is killed (its output then fails the test).
fn run_child(mode: &str) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("THREADKIT_FUTURES_CHILD", mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() && start.elapsed() < GUARD {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    let _ = child.kill();
    (child.wait_with_output().unwrap(), took)
}

/// The child's side of the child-process tests (a no-op in a normal run).
#[test]
fn child() {
    static POOL: OnceLock<ThreadPoolExecutor> = OnceLock::new();
    match std::env::var("THREADKIT_FUTURES_CHILD").as_deref() {
        Ok("exit") => {
            // Left alive at exit: the exit rule must run what was submitted, refuse
            // later submits, and not be held by idle workers.
            let pool = POOL.get_or_init(|| ThreadPoolExecutor::new(2));
            for i in 0..4 {
                pool.submit(move || {
                    std::thread::sleep(Duration::from_millis(100));
                    println!("task {i} done");
                })
                .unwrap();
            }
            pool.submit(|| {
                let start = Instant::now();
                while threading::main_thread().is_alive() && start.elapsed() < GUARD {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let late = POOL.get().unwrap().submit(|| ());
                println!("late submit: {}", late.unwrap_err());
            })
            .unwrap();
            // An idle executor too.
            std::mem::forget(ThreadPoolExecutor::new(3).submit(|| ()).unwrap().result());
        }
        Ok("callback") => {
            let pool = ThreadPoolExecutor::new(1);
            let f = pool.submit(|| 1).unwrap();
            f.wait();
            f.add_done_callback(|_| panic!("callback in caller"));
        }
        _ => {}
    }
}

#[test]
fn at_exit_a_live_executor_finishes_its_work_then_the_process_ends() {
    let (out, took) = run_child("exit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for i in 0..4 {
        assert!(stdout.contains(&format!("task {i} done")), "{stdout}");
    }
    assert!(
        stdout.contains("late submit: cannot schedule new futures after shutdown"),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_panicking_callback_in_the_caller_is_printed_once() {
    let (out, _) = run_child("callback");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("callback in caller").count(), 1, "{stderr}");
    assert!(stderr.contains("Exception in thread "), "{stderr}");
    assert!(out.status.success(), "{out:?}");
}
