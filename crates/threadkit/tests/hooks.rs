//! Process-wide hooks and settings: excepthook, trace, profile, stack size.
//!
//! They are global, so every test here holds `SERIAL` for its whole body and puts the
//! defaults back before it ends.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use threadkit::threading::{
    clear_profile, clear_trace, restore_excepthook, set_excepthook, set_stack_size, setprofile,
    settrace, stack_size, Error, Thread, TraceEvent,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Puts every hook back to its default when dropped, even if the test fails.
struct Defaults;

impl Drop for Defaults {
    fn drop(&mut self) {
        restore_excepthook();
        clear_trace();
        clear_profile();
        let _ = set_stack_size(0);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Trace(TraceEvent),
    Except(String),
    Profile,
}

fn record(log: &Arc<Mutex<Vec<Seen>>>, name: &'static str) {
    let l = log.clone();
    settrace(move |t, ev| {
        if t.name() == name {
            l.lock().unwrap().push(Seen::Trace(ev));
        }
    });
    let l = log.clone();
    set_excepthook(move |args| {
        if args.thread.name() == name {
            l.lock().unwrap().push(Seen::Except(args.message.clone()));
        }
    });
    let l = log.clone();
    setprofile(move |t, _| {
        if t.name() == name {
            l.lock().unwrap().push(Seen::Profile);
        }
    });
}

#[test]
fn panic_reaches_excepthook_before_join_returns_in_the_documented_order() {
    let _serial = serial();
    let _defaults = Defaults;
    let log = Arc::new(Mutex::new(Vec::new()));
    record(&log, "panicker");
    let t = Thread::builder()
        .name("panicker")
        .target(|| panic!("boom {}", 42))
        .spawn()
        .unwrap();
    t.join().unwrap();
    assert!(t.panicked());
    assert!(!t.is_alive());
    assert_eq!(
        *log.lock().unwrap(),
        [
            Seen::Trace(TraceEvent::Start),
            Seen::Trace(TraceEvent::Panic),
            Seen::Except("boom 42".into()),
            Seen::Trace(TraceEvent::End),
            Seen::Profile,
        ]
    );
}

#[test]
fn a_panicking_thread_disturbs_nothing_else() {
    let _serial = serial();
    let _defaults = Defaults;
    set_excepthook(|_| {});
    let (tx, rx) = mpsc::channel();
    let calm = Thread::new(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send("still here").unwrap();
    });
    calm.start().unwrap();
    let bad = Thread::new(|| panic!("one bad thread"));
    bad.start().unwrap();
    bad.join().unwrap();
    calm.join().unwrap();
    assert_eq!(rx.recv().unwrap(), "still here");
    assert!(bad.panicked());
    assert!(!calm.panicked());
    // Threads keep starting afterwards.
    let after = Thread::new(|| {});
    after.start().unwrap();
    after.join().unwrap();
    assert!(!after.panicked());
}

#[test]
fn a_non_string_panic_payload_is_reported() {
    let _serial = serial();
    let _defaults = Defaults;
    let log = Arc::new(Mutex::new(Vec::new()));
    record(&log, "anypanic");
    let t = Thread::builder()
        .name("anypanic")
        .target(|| std::panic::panic_any(7u8))
        .spawn()
        .unwrap();
    t.join().unwrap();
    assert!(log
        .lock()
        .unwrap()
        .contains(&Seen::Except("Box<dyn Any>".into())));
}

#[test]
fn a_panicking_excepthook_does_not_break_the_thread_end() {
    let _serial = serial();
    let _defaults = Defaults;
    set_excepthook(|_| panic!("hook itself fails"));
    let t = Thread::new(|| panic!("first"));
    t.start().unwrap();
    assert!(t.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(t.panicked());
}

#[test]
fn trace_and_profile_apply_to_threads_started_afterwards_only() {
    let _serial = serial();
    let _defaults = Defaults;
    let (tx, rx) = mpsc::channel::<()>();
    let before = Thread::builder()
        .name("before-hooks")
        .target(move || {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        })
        .spawn()
        .unwrap();
    // Let it begin running (and read the absent hooks) before they are set.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while before.native_id().is_none() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(20));
    let log = Arc::new(Mutex::new(Vec::new()));
    record(&log, "before-hooks");
    drop(tx);
    before.join().unwrap();
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());

    let log2 = Arc::new(Mutex::new(Vec::new()));
    record(&log2, "after-hooks");
    let after = Thread::builder()
        .name("after-hooks")
        .target(|| {})
        .spawn()
        .unwrap();
    after.join().unwrap();
    assert_eq!(
        *log2.lock().unwrap(),
        [
            Seen::Trace(TraceEvent::Start),
            Seen::Trace(TraceEvent::End),
            Seen::Profile
        ]
    );
    let log3 = Arc::new(Mutex::new(Vec::new()));
    record(&log3, "after-clear");
    clear_trace();
    clear_profile();
    let quiet = Thread::builder()
        .name("after-clear")
        .target(|| {})
        .spawn()
        .unwrap();
    quiet.join().unwrap();
    assert!(log3.lock().unwrap().is_empty());
}

#[test]
fn profile_reports_wall_and_cpu_time_of_the_body() {
    let _serial = serial();
    let _defaults = Defaults;
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    setprofile(move |t, p| {
        if t.name() == "busy" {
            tx.lock().unwrap().send(*p).unwrap();
        }
    });
    let t = Thread::builder()
        .name("busy")
        .target(|| {
            let start = std::time::Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(30) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            std::thread::sleep(Duration::from_millis(30));
        })
        .spawn()
        .unwrap();
    t.join().unwrap();
    let p = rx.recv().unwrap();
    assert!(p.wall >= Duration::from_millis(60), "{p:?}");
    assert!(p.cpu >= Duration::from_millis(5), "{p:?}");
    assert!(p.cpu < p.wall, "{p:?}");
}

#[test]
fn stack_size_accepts_zero_or_at_least_32_kib() {
    let _serial = serial();
    let _defaults = Defaults;
    assert_eq!(stack_size(), 0);
    for bad in [1usize, 4096, 32 * 1024 - 1] {
        assert!(matches!(set_stack_size(bad), Err(Error::InvalidStackSize)));
        assert_eq!(stack_size(), 0, "a refused size changes nothing");
    }
    assert_eq!(set_stack_size(32 * 1024).unwrap(), 0);
    assert_eq!(set_stack_size(1 << 20).unwrap(), 32 * 1024);
    assert_eq!(stack_size(), 1 << 20);
    // Threads start with it.
    let t = Thread::new(|| {
        let buf = [1u8; 64 * 1024];
        std::hint::black_box(&buf);
    });
    t.start().unwrap();
    t.join().unwrap();
    assert!(!t.panicked());
    assert_eq!(set_stack_size(0).unwrap(), 1 << 20);
}

#[test]
fn a_panicking_timer_function_goes_to_the_excepthook_as_the_timer() {
    let _serial = serial();
    let _defaults = Defaults;
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    set_excepthook(move |args| {
        tx.lock()
            .unwrap()
            .send((args.thread.clone(), args.message.clone()))
            .unwrap();
    });
    let t = threadkit::threading::Timer::new(Duration::from_millis(1), || panic!("timer broke"));
    t.start().unwrap();
    t.join().unwrap();
    let (thread, message) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(&thread, t.thread());
    assert_eq!(message, "timer broke");
    assert!(t.panicked());
}
