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
        default_excepthook_prints_the_thread_location_and_message,
        default_excepthook_prints_the_backtrace_when_rust_backtrace_asks,
        a_panic_hook_installed_before_threadkit_still_sees_other_threads,
        current_thread_in_a_tls_destructor_is_mainthread_or_a_dummy,
        current_thread_in_an_atexit_handler_is_mainthread,
        current_thread_in_an_atexit_handler_of_a_foreign_exit_is_a_dummy,
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
    run_child_with(scenario, &[])
}

/// As `run_child`, with `RUST_BACKTRACE` / `RUST_LIB_BACKTRACE` cleared and then
/// `env` set.
fn run_child_with(scenario: &str, env: &[(&str, &str)]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg(scenario)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(env.iter().copied())
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

/// Runs `scenario`, checks that it exited 0, and returns its stdout.
fn stdout_of_successful_child(scenario: &str) -> String {
    let (out, _) = run_child(scenario);
    assert!(out.status.success(), "{out:?}");
    text(&out.stdout)
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
    let stdout = stdout_of_successful_child("child-exit-chain");
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

/// Runs `child-panic` with `env`; returns its stderr and what follows
/// `panicked at ` in the report on the thread `crasher`.
fn crasher_report(env: &[(&str, &str)]) -> (String, String) {
    let (out, _) = run_child_with("child-panic", env);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    let report = stderr
        .split_once("Exception in thread crasher:\npanicked at ")
        .unwrap_or_else(|| panic!("{stderr}"))
        .1
        .to_string();
    (stderr, report)
}

fn default_excepthook_prints_the_thread_location_and_message() {
    let (stderr, report) = crasher_report(&[]);
    // `FILE:LINE:COL:` then the message.
    let (location, rest) = report
        .split_once(":\n")
        .unwrap_or_else(|| panic!("{stderr}"));
    let mut parts = location.rsplitn(3, ':');
    let (col, line, file) = (parts.next(), parts.next(), parts.next());
    assert!(col.is_some_and(|c| c.parse::<u32>().is_ok()), "{stderr}");
    assert!(line.is_some_and(|l| l.parse::<u32>().is_ok()), "{stderr}");
    assert!(
        file.is_some_and(|f| f.ends_with("main_thread.rs")),
        "{stderr}"
    );
    assert!(rest.starts_with("it broke\n"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    // std's own message would name the thread: `thread 'crasher' ... panicked at`.
    assert!(!stderr.contains("'crasher'"), "{stderr}");
    // threadkit's report, and std's for the panic outside threadkit threads.
    assert_eq!(stderr.matches("panicked at").count(), 2, "{stderr}");
    assert!(stderr.contains("plain std panic"), "{stderr}");
}

fn default_excepthook_prints_the_backtrace_when_rust_backtrace_asks() {
    let (stderr, report) = crasher_report(&[("RUST_BACKTRACE", "1")]);
    let (_, rest) = report
        .split_once("it broke\nstack backtrace:\n")
        .unwrap_or_else(|| panic!("{stderr}"));
    // The frames name the panicking closure of this test binary.
    assert!(rest.contains("main_thread::"), "{stderr}");
}

fn a_panic_hook_installed_before_threadkit_still_sees_other_threads() {
    let (out, _) = run_child("child-prior-hook");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert!(stderr.contains("user hook: std boom"), "{stderr}");
    assert!(!stderr.contains("user hook: tk boom"), "{stderr}");
    assert!(
        stderr.contains("Exception in thread tk:\npanicked at "),
        "{stderr}"
    );
}

fn current_thread_in_a_tls_destructor_is_mainthread_or_a_dummy() {
    let stdout = stdout_of_successful_child("child-tls-destructor");
    assert!(stdout.contains("foreign tls drop: Dummy-"), "{stdout}");
    assert!(stdout.contains("main tls drop: MainThread\n"), "{stdout}");
}

fn current_thread_in_an_atexit_handler_is_mainthread() {
    let stdout = stdout_of_successful_child("child-atexit");
    assert!(stdout.contains("atexit: MainThread\n"), "{stdout}");
}

fn current_thread_in_an_atexit_handler_of_a_foreign_exit_is_a_dummy() {
    let stdout = stdout_of_successful_child("child-atexit-foreign");
    assert!(stdout.contains("atexit: Dummy-"), "{stdout}");
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
        "child-panic" => panic_in_threadkit_then_std("crasher", "it broke", "plain std panic"),
        "child-prior-hook" => {
            std::panic::set_hook(Box::new(|info| {
                eprintln!("user hook: {}", threading_message(info.payload()));
            }));
            panic_in_threadkit_then_std("tk", "tk boom", "std boom");
        }
        "child-tls-destructor" => {
            // Touched before threadkit's first use: destroyed after threadkit's own
            // thread-locals.
            USER_TLS.with(|_| {});
            std::thread::spawn(|| {
                USER_TLS.with(|_| {});
                let _ = current_thread();
            })
            .join()
            .unwrap();
            let _ = current_thread();
        }
        "child-atexit" => {
            // Registered before threadkit's exit hook: runs after it, when the main
            // thread's thread-locals are gone.
            register_atexit();
            let _ = current_thread();
            Thread::new(|| {}).start().unwrap();
        }
        "child-atexit-foreign" => {
            register_atexit();
            Thread::new(|| {}).start().unwrap();
            let t = std::thread::spawn(|| {
                let _ = current_thread();
                std::process::exit(0);
            });
            let _ = t.join();
            std::thread::sleep(Duration::from_secs(30));
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

/// Panics with `tk` in a threadkit thread named `name`, then with `std` in a
/// `std::thread`.
fn panic_in_threadkit_then_std(name: &str, tk: &'static str, std: &'static str) {
    let t = Thread::builder()
        .name(name)
        .target(move || panic!("{tk}"))
        .spawn()
        .unwrap();
    t.join().unwrap();
    let _ = std::thread::spawn(move || panic!("{std}")).join();
}

/// The text of a panic payload, for the user hook of `child-prior-hook`.
fn threading_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// A thread-local whose destructor asks for the current thread.
struct AsksOnDrop;

impl Drop for AsksOnDrop {
    fn drop(&mut self) {
        let who = if threading::get_native_id() == u64::from(std::process::id()) {
            "main"
        } else {
            "foreign"
        };
        println!("{who} tls drop: {}", current_thread().name());
    }
}

thread_local! {
    static USER_TLS: AsksOnDrop = const { AsksOnDrop };
}

extern "C" fn print_current_thread_at_exit() {
    println!("atexit: {}", current_thread().name());
}

/// Registers `print_current_thread_at_exit` as a process exit hook.
fn register_atexit() {
    // SAFETY: the hook is a plain `extern "C" fn()` that lives for the whole process,
    // as `atexit` requires.
    let r = unsafe { libc::atexit(print_current_thread_at_exit) };
    assert_eq!(r, 0);
}
