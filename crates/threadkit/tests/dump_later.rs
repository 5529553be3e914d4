//! `dump_later`: the dump reaches stderr after the delay, and nothing is written
//! when it is cancelled. Each case runs in a child process (this test binary run
//! again with one test selected), so its stderr is its own.

use std::process::Command;
use std::time::Duration;

use threadkit::threading::{dump_later, Event, Thread};

/// Set in the child: which case to run.
const CHILD: &str = "THREADKIT_DUMP_LATER_CHILD";

/// Runs this binary's `child` test with `case`, and returns its stderr.
fn child_stderr(case: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads", "1"])
        .env(CHILD, case)
        .output()
        .expect("run the child");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn child() {
    let Ok(case) = std::env::var(CHILD) else {
        return; // run only as a child
    };
    let ev = Event::new().with_name("never");
    let t = Thread::builder()
        .name("stuck-worker")
        .daemon(true)
        .target(move || {
            let _ = ev.wait_timeout(Duration::from_millis(1500));
        })
        .spawn()
        .unwrap();
    let pending = dump_later(Duration::from_millis(300), false);
    if case == "cancel" {
        pending.cancel();
    }
    t.join().unwrap();
}

#[test]
fn the_dump_is_written_after_the_delay_with_waits() {
    let err = child_stderr("dump");
    assert!(err.contains("WAITING"), "{err}");
    assert!(err.contains("stuck-worker"), "{err}");
    assert!(err.contains("Event \"never\""), "{err}");
    assert!(err.contains("dump-later (internal)"), "{err}");
}

#[test]
fn nothing_is_written_when_cancelled() {
    let err = child_stderr("cancel");
    assert!(!err.contains("WAITING"), "{err}");
}
