//! `Local`: a value per threadkit thread (ideas from CPython's
//! `test_threading_local.py`): per-thread values, lazy init, drop at thread end,
//! re-entrancy, and what dropping the `Local` does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use threadkit::threading::{Local, Thread};

fn spawn(f: impl FnOnce() + Send + 'static) -> Thread {
    Thread::builder().target(f).spawn().unwrap()
}

fn join(t: &Thread) {
    assert!(
        t.join_timeout(Duration::from_secs(10)).unwrap(),
        "thread hung"
    );
    assert!(!t.panicked());
}

/// Counts drops of its values.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn each_thread_has_its_own_value() {
    let local = Arc::new(Local::new(|| 0usize));
    let (tx, rx) = mpsc::channel();
    let threads: Vec<Thread> = (1..=4)
        .map(|k| {
            let (local, tx) = (local.clone(), tx.clone());
            spawn(move || {
                for _ in 0..k * 10 {
                    local.with_mut(|n| *n += 1);
                }
                tx.send((k, local.with(|n| *n))).unwrap();
            })
        })
        .collect();
    threads.iter().for_each(join);
    for (k, n) in rx.try_iter() {
        assert_eq!(n, k * 10, "thread {k} saw another thread's value");
    }
}

#[test]
fn init_runs_lazily_once_per_thread() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let local = Arc::new(Local::new(move || {
        i.fetch_add(1, Ordering::SeqCst);
        String::from("fresh")
    }));
    assert_eq!(inits.load(Ordering::SeqCst), 0, "init ran before first use");
    let threads: Vec<Thread> = (0..3)
        .map(|_| {
            let local = local.clone();
            spawn(move || {
                for _ in 0..5 {
                    assert_eq!(local.with(|s| s.clone()), "fresh");
                }
            })
        })
        .collect();
    threads.iter().for_each(join);
    assert_eq!(inits.load(Ordering::SeqCst), 3);
    // A thread that never touches it makes no value.
    let l = local.clone();
    let idle = spawn(move || drop(l));
    join(&idle);
    assert_eq!(inits.load(Ordering::SeqCst), 3);
}

#[test]
fn values_are_dropped_when_their_thread_ends() {
    // CPython: test_local_refs / _local_refs (values freed with the thread).
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || Counted(d.clone())));
    let threads: Vec<Thread> = (0..5)
        .map(|_| {
            let local = local.clone();
            spawn(move || local.with(|_| ()))
        })
        .collect();
    threads.iter().for_each(join);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(local);
    assert_eq!(drops.load(Ordering::SeqCst), 5, "dropped twice");
}

#[test]
fn a_foreign_threads_values_are_dropped_when_it_exits() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || Counted(d.clone())));
    let l = local.clone();
    std::thread::spawn(move || l.with(|_| ())).join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_the_local_drops_values_of_live_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let local = Arc::new(Local::new(move || Counted(d.clone())));
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let l = local.clone();
    let t = spawn(move || {
        l.with(|_| ());
        drop(l);
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    ready_rx.recv().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(local);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    go_tx.send(()).unwrap();
    join(&t);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped twice");
}

#[test]
fn two_locals_keep_separate_values() {
    let a = Local::new(|| 1);
    let b = Local::new(|| 2);
    a.with_mut(|v| *v = 10);
    assert_eq!(b.with(|v| *v), 2);
    assert_eq!(a.with(|v| *v), 10);
    // A new Local never sees an old one's value, even after it was dropped.
    drop(a);
    let c = Local::new(|| 3);
    assert_eq!(c.with(|v| *v), 3);
}

#[test]
fn other_locals_may_be_used_inside_with() {
    let a = Local::new(|| 1);
    let b = Local::new(|| 2);
    let sum = a.with(|x| b.with(|y| x + y));
    assert_eq!(sum, 3);
}

#[test]
fn reentrant_access_panics_and_leaves_the_value_intact() {
    let local = Arc::new(Local::new(|| 7));
    let (tx, rx) = mpsc::channel();
    let l = local.clone();
    let t = spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            l.with_mut(|v| {
                *v = 8;
                l.with(|_| ());
            })
        }));
        let payload = r.unwrap_err();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tx.send((msg, l.with(|v| *v))).unwrap();
    });
    join(&t);
    let (msg, value) = rx.recv().unwrap();
    assert!(msg.contains("already in use"), "{msg}");
    assert_eq!(value, 8, "the value survives the panic");
}

#[test]
fn using_the_local_from_its_own_init_panics() {
    let cell: Arc<std::sync::OnceLock<Arc<Local<u8>>>> = Arc::new(std::sync::OnceLock::new());
    let c = cell.clone();
    let local = Arc::new(Local::new(move || c.get().unwrap().with(|v| *v)));
    cell.set(local.clone()).unwrap();
    let l = local.clone();
    let t = spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.with(|v| *v)));
        assert!(r.is_err());
    });
    join(&t);
    // Break the Arc cycle.
    drop(cell);
}

#[test]
fn a_panicking_init_leaves_nothing_behind() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let local = Local::new(move || {
        if a.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("first init fails");
        }
        5
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| local.with(|v| *v)));
    assert!(r.is_err());
    assert_eq!(local.with(|v| *v), 5, "init is tried again");
}

#[test]
fn debug_does_not_need_t_debug() {
    struct Opaque;
    let s = format!("{:?}", Local::new(|| Opaque));
    assert!(s.starts_with("Local"), "{s}");
}
