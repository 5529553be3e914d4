//! What needs the real main thread, exact counts or a whole process: a
//! `harness = false` target. Scenarios that end the process (the exit rule, the
//! default excepthook's output) run in a child: this same binary, started again with
//! the scenario's name as its argument.

use std::process::{Command, ExitCode, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::threading::{
    self, active_count, current_thread, enumerate, get_ident, main_thread, Thread,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(scenario) = args.get(1).filter(|a| a.starts_with("child-")) {
        return child(scenario);
    }
    macro_rules! tests {
        ($($name:ident),* $(,)?) => { &[$((stringify!($name), $name as fn())),*] };
    }
    let tests: &[(&str, fn())] = tests![
        main_thread_is_mainthread_and_listed_first,
        active_count_equals_enumerate_len_when_quiet,
        threads_started_by_main_are_not_daemon,
        shutdown_waits_for_non_daemon_threads_and_main_goes_on,
        exit_waits_for_non_daemon_threads_and_cuts_daemons_off,
        exit_waits_for_threads_started_while_exiting,
        process_exit_on_main_also_waits,
        main_is_not_alive_while_the_exit_rule_waits,
        default_excepthook_prints_only_the_thread_and_message,
        ten_thousand_pending_timers_hold_few_os_threads,
        exit_waits_for_a_non_daemon_timer_not_a_daemon_one,
    ];
    let mut failed = 0;
    for (name, test) in tests {
        match std::panic::catch_unwind(test) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out\n",
        if failed == 0 { "ok" } else { "FAILED" },
        tests.len() - failed,
        failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs this binary as `scenario`, bounded in time; returns its output.
fn run_child(scenario: &str) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg(scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = start + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child {scenario} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (out, start.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn main_thread_is_mainthread_and_listed_first() {
    let main = main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(!main.is_daemon());
    assert!(main.is_alive());
    assert_eq!(main.native_id(), Some(std::process::id() as u64));
    assert_eq!(current_thread(), main);
    assert_eq!(main.ident(), Some(get_ident()));
    assert_eq!(enumerate()[0], main);
}

fn active_count_equals_enumerate_len_when_quiet() {
    assert_eq!(active_count(), 1);
    assert_eq!(enumerate().len(), 1);
    let (tx, rx) = mpsc::channel::<()>();
    let t = Thread::new(move || {
        let _ = rx.recv_timeout(Duration::from_secs(30));
    });
    t.start().unwrap();
    assert_eq!(active_count(), 2);
    assert_eq!(enumerate(), vec![main_thread(), t.clone()]);
    drop(tx);
    t.join().unwrap();
    assert_eq!(active_count(), 1);
    assert_eq!(threading::dump().len(), 1);
}

fn threads_started_by_main_are_not_daemon() {
    let t = Thread::new(|| {});
    assert!(!t.is_daemon());
    t.start().unwrap();
    t.join().unwrap();
}

fn shutdown_waits_for_non_daemon_threads_and_main_goes_on() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        std::thread::sleep(Duration::from_millis(50));
        tx.send(()).unwrap();
    });
    t.start().unwrap();
    threading::shutdown();
    assert!(!t.is_alive());
    assert!(rx.try_recv().is_ok());
    assert!(main_thread().is_alive());
}

fn exit_waits_for_non_daemon_threads_and_cuts_daemons_off() {
    let (out, took) = run_child("child-exit-rule");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("main returns"), "{stdout}");
    assert!(stdout.contains("non-daemon done"), "{stdout}");
    assert!(!stdout.lines().any(|l| l == "daemon done"), "{stdout}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

fn exit_waits_for_threads_started_while_exiting() {
    let (out, _) = run_child("child-exit-chain");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("second done"), "{stdout}");
}

fn process_exit_on_main_also_waits() {
    let (out, _) = run_child("child-process-exit");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(stdout.contains("worker done"), "{stdout}");
}

fn main_is_not_alive_while_the_exit_rule_waits() {
    let (out, _) = run_child("child-main-alive");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("main alive during exit: false"), "{stdout}");
}

fn default_excepthook_prints_only_the_thread_and_message() {
    let (out, _) = run_child("child-panic");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stderr.contains("Exception in thread crasher:\nit broke\n"),
        "{stderr}"
    );
    // std's own message would name the thread: `thread 'crasher' ... panicked at`.
    assert!(!stderr.contains("'crasher'"), "{stderr}");
    assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
    // A panic outside threadkit threads still gets std's message.
    assert!(stderr.contains("plain std panic"), "{stderr}");
}

fn ten_thousand_pending_timers_hold_few_os_threads() {
    let (out, _) = run_child("child-many-timers");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let threads: usize = stdout
        .trim()
        .strip_prefix("os threads: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        threads < 64,
        "{threads} OS threads for 10,000 pending timers"
    );
}

fn exit_waits_for_a_non_daemon_timer_not_a_daemon_one() {
    let (out, took) = run_child("child-timer-exit");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("non-daemon timer fired"), "{stdout}");
    assert!(
        stdout.lines().all(|l| l != "daemon timer fired"),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// OS threads of this process, from /proc.
fn os_threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn child(scenario: &str) -> ExitCode {
    match scenario {
        "child-exit-rule" => {
            Thread::builder()
                .daemon(false)
                .target(|| {
                    std::thread::sleep(Duration::from_millis(300));
                    println!("non-daemon done");
                })
                .spawn()
                .unwrap();
            Thread::builder()
                .daemon(true)
                .target(|| {
                    std::thread::sleep(Duration::from_secs(30));
                    println!("daemon done");
                })
                .spawn()
                .unwrap();
            println!("main returns");
        }
        "child-exit-chain" => {
            Thread::new(|| {
                std::thread::sleep(Duration::from_millis(100));
                Thread::new(|| {
                    std::thread::sleep(Duration::from_millis(100));
                    println!("second done");
                })
                .start()
                .unwrap();
            })
            .start()
            .unwrap();
        }
        "child-process-exit" => {
            Thread::new(|| {
                std::thread::sleep(Duration::from_millis(100));
                println!("worker done");
            })
            .start()
            .unwrap();
            std::process::exit(3);
        }
        "child-main-alive" => {
            Thread::new(|| {
                std::thread::sleep(Duration::from_millis(100));
                println!("main alive during exit: {}", main_thread().is_alive());
            })
            .start()
            .unwrap();
        }
        "child-panic" => {
            let t = Thread::builder()
                .name("crasher")
                .target(|| panic!("it broke"))
                .spawn()
                .unwrap();
            t.join().unwrap();
            let _ = std::thread::spawn(|| panic!("plain std panic")).join();
        }
        "child-many-timers" => {
            let timers: Vec<threading::Timer> = (0..10_000)
                .map(|i| {
                    let t = threading::Timer::new(Duration::from_secs(60 + i % 60), || {});
                    t.set_daemon(true).unwrap();
                    t.start().unwrap();
                    t
                })
                .collect();
            assert_eq!(enumerate().len(), 10_001);
            println!("os threads: {}", os_threads());
            drop(timers);
        }
        "child-timer-exit" => {
            let fired = threading::Timer::new(Duration::from_millis(300), || {
                println!("non-daemon timer fired");
            });
            fired.start().unwrap();
            let cut = threading::Timer::new(Duration::from_secs(30), || {
                println!("daemon timer fired");
            });
            cut.set_daemon(true).unwrap();
            cut.start().unwrap();
        }
        other => {
            eprintln!("unknown scenario {other}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
