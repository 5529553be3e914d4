//! `Thread`: lifecycle, names, idents, daemon flag, join, registry membership, stop.
//!
//! libtest runs each test on a thread threadkit did not start (a daemon `Dummy-N`
//! once it asks), in parallel: these tests assert on the threads they start.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use threadkit::threading::{
    self, current_thread, enumerate, get_ident, get_native_id, stop_requested, Error, Run, Thread,
};

/// The count a stress test uses: `THREADKIT_STRESS` if set, else `default`.
fn stress_count(default: usize) -> usize {
    std::env::var("THREADKIT_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A thread that runs until `release` is dropped or sent to.
fn blocked_thread() -> (Thread, mpsc::Sender<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let t = Thread::new(move || {
        let _ = rx.recv_timeout(Duration::from_secs(30));
    });
    (t, tx)
}

#[test]
fn join_timeout_never_returns_early_and_reports_false_while_running() {
    let (t, release) = blocked_thread();
    t.start().unwrap();
    for ms in [1u64, 20, 50] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!t.join_timeout(timeout).unwrap());
        assert!(
            start.elapsed() >= timeout,
            "returned after {:?}",
            start.elapsed()
        );
        assert!(t.is_alive());
    }
    drop(release);
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(!t.is_alive());
}

#[test]
fn join_timeout_above_timeout_max_waits_without_panicking() {
    let t = Thread::new(|| std::thread::sleep(Duration::from_millis(5)));
    t.start().unwrap();
    assert!(t
        .join_timeout(threading::TIMEOUT_MAX + Duration::from_secs(1))
        .unwrap());
    assert!(t.join_timeout(Duration::MAX).unwrap());
}

#[test]
fn thread_is_listed_right_after_start_and_not_after_it_ended() {
    let (t, release) = blocked_thread();
    assert!(!enumerate().contains(&t));
    t.start().unwrap();
    assert!(enumerate().contains(&t));
    assert!(threading::active_count() >= 2);
    drop(release);
    t.join().unwrap();
    assert!(!enumerate().contains(&t));
}

#[test]
fn enumerate_lists_in_start_order() {
    let (a, ra) = blocked_thread();
    let (b, rb) = blocked_thread();
    b.start().unwrap();
    a.start().unwrap();
    let listed = enumerate();
    let pos = |t: &Thread| listed.iter().position(|x| x == t).unwrap();
    assert!(pos(&b) < pos(&a));
    assert_eq!(listed[0].name(), "MainThread");
    drop((ra, rb));
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn current_thread_inside_a_thread_is_that_thread() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder()
        .name("inside")
        .target(move || {
            let me = current_thread();
            tx.send((me, get_ident(), get_native_id())).unwrap();
        })
        .build();
    t.start().unwrap();
    let (me, ident, native) = rx.recv().unwrap();
    t.join().unwrap();
    assert_eq!(me, t);
    assert_eq!(me.name(), "inside");
    assert_eq!(Some(ident), t.ident());
    assert_eq!(Some(native), t.native_id());
}

#[test]
fn foreign_threads_are_daemon_dummies_until_their_os_thread_exits() {
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let os = std::thread::Builder::new()
        .name("std-named".into())
        .spawn(move || {
            let before = get_ident();
            let me = current_thread();
            tx.send((me.clone(), before, current_thread() == me))
                .unwrap();
            let _ = go_rx.recv_timeout(Duration::from_secs(30));
        })
        .unwrap();
    let (dummy, ident_before, stable) = rx.recv().unwrap();
    assert!(dummy.name().starts_with("Dummy-"), "{}", dummy.name());
    assert!(dummy.is_daemon());
    assert!(dummy.is_alive());
    assert!(stable);
    assert_eq!(dummy.ident(), Some(ident_before));
    assert!(enumerate().contains(&dummy));
    drop(go_tx);
    os.join().unwrap();
    assert!(!enumerate().contains(&dummy));
    assert!(!dummy.is_alive());
}

#[test]
fn daemon_flag_is_inherited_from_the_creating_thread() {
    // A test thread is a foreign (daemon) thread.
    assert!(Thread::new(|| {}).is_daemon());
    let (tx, rx) = mpsc::channel();
    for parent_daemon in [false, true] {
        let tx = tx.clone();
        let parent = Thread::builder()
            .daemon(parent_daemon)
            .target(move || {
                let child = Thread::new(|| {});
                tx.send((parent_daemon, child.is_daemon())).unwrap();
            })
            .spawn()
            .unwrap();
        parent.join().unwrap();
    }
    drop(tx);
    let seen: Vec<_> = rx.iter().collect();
    assert_eq!(seen, [(false, false), (true, true)]);
}

#[test]
fn misuse_is_an_error_value() {
    let t = Thread::new(|| {});
    assert!(matches!(t.join(), Err(Error::NotStarted)));
    assert!(matches!(
        t.join_timeout(Duration::from_millis(1)),
        Err(Error::NotStarted)
    ));
    t.set_daemon(true).unwrap();
    t.start().unwrap();
    assert!(matches!(t.start(), Err(Error::AlreadyStarted)));
    assert!(matches!(t.set_daemon(false), Err(Error::DaemonAfterStart)));
    t.join().unwrap();
    assert!(matches!(t.start(), Err(Error::AlreadyStarted)));

    let (tx, rx) = mpsc::channel();
    let me = Thread::new(move || {
        let err = current_thread().join().unwrap_err();
        let err2 = current_thread()
            .join_timeout(Duration::from_millis(1))
            .unwrap_err();
        tx.send((err.to_string(), matches!(err2, Error::JoinCurrentThread)))
            .unwrap();
    });
    me.start().unwrap();
    me.join().unwrap();
    let (msg, timed) = rx.recv().unwrap();
    assert_eq!(msg, "cannot join current thread");
    assert!(timed);
}

#[test]
fn invalid_builder_stack_size_fails_start_and_leaves_thread_unstarted() {
    let t = Thread::builder().stack_size(1024).target(|| {}).build();
    assert!(matches!(t.start(), Err(Error::InvalidStackSize)));
    assert!(!t.is_alive());
    assert_eq!(t.ident(), None);
    let ok = Thread::builder()
        .stack_size(64 * 1024)
        .target(|| {})
        .spawn()
        .unwrap();
    ok.join().unwrap();
}

#[test]
fn default_names_are_unique_thread_n() {
    let names: Vec<String> = (0..20).map(|_| Thread::new(|| {}).name()).collect();
    let unique: HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    for n in &names {
        let num = n.strip_prefix("Thread-").expect("Thread-N");
        assert!(num.parse::<u64>().unwrap() > 0);
    }
    let t = Thread::new(|| {});
    t.set_name("renamed");
    assert_eq!(t.name(), "renamed");
}

#[test]
fn long_and_unicode_names_are_kept_in_full() {
    let name = "スレッド-with-a-very-long-name-indeed";
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder()
        .name(name)
        .target(move || tx.send(current_thread().name()).unwrap())
        .spawn()
        .unwrap();
    t.join().unwrap();
    assert_eq!(rx.recv().unwrap(), name);
}

#[test]
fn idents_are_none_before_start_then_unique() {
    let threads: Vec<Thread> = (0..50).map(|_| Thread::new(|| {})).collect();
    assert!(threads
        .iter()
        .all(|t| t.ident().is_none() && t.native_id().is_none()));
    for t in &threads {
        t.start().unwrap();
    }
    let idents: HashSet<u64> = threads.iter().map(|t| t.ident().unwrap()).collect();
    assert_eq!(idents.len(), threads.len());
    for t in &threads {
        t.join().unwrap();
        assert!(t.native_id().is_some());
    }
}

#[test]
fn thousand_threads_each_run_exactly_once() {
    let n = stress_count(1_000);
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
    let mut threads = Vec::with_capacity(n);
    for i in 0..n {
        let runs = runs.clone();
        let t = Thread::new(move || {
            runs[i].fetch_add(1, Ordering::SeqCst);
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in &threads {
        t.join().unwrap();
    }
    assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
    assert!(threads.iter().all(|t| !enumerate().contains(t)));
}

struct Collect {
    input: Vec<u32>,
    sum: u32,
}

impl Run for Collect {
    fn run(&mut self) {
        self.sum = self.input.iter().sum();
    }
}

struct Other;

impl Run for Other {
    fn run(&mut self) {}
}

#[test]
fn take_run_gives_the_value_back_once_after_the_end() {
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    struct Gated(Arc<Barrier>);
    impl Run for Gated {
        fn run(&mut self) {
            self.0.wait();
        }
    }
    let waiting = Thread::from_run(Gated(g));
    waiting.start().unwrap();
    assert!(waiting.take_run::<Gated>().is_none(), "not ended yet");
    gate.wait();
    waiting.join().unwrap();

    let t = Thread::builder()
        .runnable(Collect {
            input: vec![1, 2, 3],
            sum: 0,
        })
        .build();
    t.start().unwrap();
    t.join().unwrap();
    assert!(t.take_run::<Other>().is_none(), "another type");
    assert_eq!(t.take_run::<Collect>().unwrap().sum, 6);
    assert!(t.take_run::<Collect>().is_none(), "taken already");
    let closure = Thread::new(|| {});
    closure.start().unwrap();
    closure.join().unwrap();
    assert!(closure.take_run::<Other>().is_none());
}

#[test]
fn stop_is_seen_by_stop_requested_and_is_sticky() {
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let t = Thread::new(move || {
        let before = stop_requested();
        let _ = go_rx.recv_timeout(Duration::from_secs(30));
        tx.send((before, stop_requested(), stop_requested()))
            .unwrap();
    });
    t.start().unwrap();
    t.stop();
    go_tx.send(()).unwrap();
    t.join().unwrap();
    let (_before, after, again) = rx.recv().unwrap();
    assert!(after && again);
    assert!(!stop_requested(), "the test thread was not stopped");
}

#[test]
fn stop_ends_a_join_timeout_of_the_stopped_thread() {
    let (blocker, release) = blocked_thread();
    blocker.start().unwrap();
    let b = blocker.clone();
    let (tx, rx) = mpsc::channel();
    let joiner = Thread::new(move || {
        let start = Instant::now();
        let r = b.join_timeout(Duration::from_secs(3600)).unwrap();
        tx.send((r, start.elapsed())).unwrap();
    });
    joiner.start().unwrap();
    joiner.stop();
    let (ended, took) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!ended);
    assert!(took < Duration::from_secs(3600));
    joiner.join().unwrap();
    drop(release);
    blocker.join().unwrap();
}

#[test]
fn several_threads_can_join_the_same_thread() {
    let (t, release) = blocked_thread();
    t.start().unwrap();
    let joiners: Vec<Thread> = (0..4)
        .map(|_| {
            let t = t.clone();
            Thread::builder()
                .target(move || t.join().unwrap())
                .spawn()
                .unwrap()
        })
        .collect();
    drop(release);
    for j in joiners {
        assert!(j.join_timeout(Duration::from_secs(10)).unwrap());
    }
}

#[test]
// `Thread` has interior mutability, but hashes and compares by identity only.
#[allow(clippy::mutable_key_type)]
fn threads_are_equal_by_identity_and_debug_shows_the_name() {
    let a = Thread::builder().name("dbg").target(|| {}).build();
    let b = Thread::builder().name("dbg").target(|| {}).build();
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    let set: HashSet<Thread> = [a.clone(), a.clone(), b].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert!(format!("{a:?}").contains("\"dbg\""));
}

#[test]
fn dump_shows_a_running_thread() {
    let (t, release) = blocked_thread();
    t.set_name("dumped-thread");
    t.start().unwrap();
    let rows = threading::dump();
    let row = rows.iter().find(|r| r.name == "dumped-thread").unwrap();
    assert_eq!(Some(row.ident), t.ident());
    assert_eq!(row.state, threading::ThreadState::Running);
    let table = threading::ThreadInfo::table(&rows).to_string();
    assert!(table
        .lines()
        .next()
        .unwrap()
        .trim_start()
        .starts_with("IDENT"));
    assert!(table.contains("dumped-thread"));
    drop(release);
    t.join().unwrap();
    assert!(threading::dump().iter().all(|r| r.name != "dumped-thread"));
}

#[test]
fn native_id_is_some_right_after_start_returns() {
    // CPython's start() waits until the thread runs: no sleep between the two.
    for _ in 0..1_000 {
        let t = Thread::new(|| {});
        t.start().unwrap();
        let id = t.native_id();
        assert!(id.is_some());
        t.join().unwrap();
        assert_eq!(t.native_id(), id, "kept after the end");
    }
}

#[test]
fn native_id_from_another_thread_while_starting_is_the_thread_tid() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(get_native_id()).unwrap());
    t.start().unwrap();
    let seen = t.clone();
    let from_other = std::thread::spawn(move || seen.native_id()).join().unwrap();
    t.join().unwrap();
    assert_eq!(from_other, Some(rx.recv().unwrap()));
}

#[test]
fn an_empty_name_gives_a_default_thread_n_name() {
    let t = Thread::builder().name("").target(|| {}).build();
    let n = t.name();
    let num = n.strip_prefix("Thread-").unwrap_or_else(|| panic!("{n}"));
    assert!(num.parse::<u64>().is_ok(), "{n}");
}

#[test]
fn many_threads_asking_native_id_of_a_starting_thread_all_get_its_tid() {
    // Stress for the hand-off in `native_id()`: observers queue while the OS thread
    // is being created and are all woken by it. Bounded: 200 rounds of 4 observers.
    let rounds = stress_count(200);
    for _ in 0..rounds {
        let (tx, rx) = mpsc::channel();
        let t = Thread::new(move || tx.send(get_native_id()).unwrap());
        let go = Arc::new(Barrier::new(5));
        let observers: Vec<_> = (0..4)
            .map(|_| {
                let (t, go) = (t.clone(), go.clone());
                std::thread::spawn(move || {
                    go.wait();
                    t.native_id()
                })
            })
            .collect();
        go.wait();
        t.start().unwrap();
        let seen: Vec<Option<u64>> = observers.into_iter().map(|o| o.join().unwrap()).collect();
        t.join().unwrap();
        let tid = rx.recv().unwrap();
        // An observer that asked before start() saw None; every other one the tid.
        assert!(
            seen.iter().all(|s| *s == Some(tid) || s.is_none()),
            "{seen:?}"
        );
        assert_eq!(t.native_id(), Some(tid));
    }
}

#[test]
fn join_waits_for_the_os_thread_to_exit_as_std_join_does() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DROPPED: AtomicBool = AtomicBool::new(false);
    struct SetOnDrop;
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            // Runs after the body, as the OS thread exits.
            std::thread::sleep(std::time::Duration::from_millis(50));
            DROPPED.store(true, Ordering::SeqCst);
        }
    }
    thread_local!(static GUARD: SetOnDrop = const { SetOnDrop });
    let t = Thread::new(|| GUARD.with(|_| {}));
    t.start().unwrap();
    t.join().unwrap();
    assert!(
        DROPPED.load(Ordering::SeqCst),
        "join returned before the thread's thread-locals were destroyed"
    );
    assert!(!t.is_alive());
}

#[test]
fn several_threads_joining_one_all_return() {
    let go = std::sync::Arc::new(threadkit::threading::Event::new());
    let g = go.clone();
    let t = Thread::new(move || {
        g.wait();
    });
    t.start().unwrap();
    let joiners: Vec<_> = (0..8)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || t.join().unwrap())
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    go.set();
    for j in joiners {
        j.join().unwrap();
    }
    t.join().unwrap();
    assert!(!t.is_alive());
}
