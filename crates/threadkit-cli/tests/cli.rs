//! The `threadkit` program, run as a child process: flags, the first stderr line,
//! log lines, signals, exit codes, limits seen from outside, and Python peers.
//!
//! Every server a test starts is a `Server` guard: killed when the test ends, however
//! it ends. Every client socket has a read timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{ChildStderr, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{client, read_line, run, run_with_input, serve_args, Server, BIN, THREADS};

#[test]
fn serve_prints_the_real_port_first_then_connect_and_disconnect_lines() {
    echo_line_and_events(&[]);
}

#[test]
fn threads_per_connection_serve_prints_connect_and_disconnect_lines() {
    echo_line_and_events(THREADS);
}

fn echo_line_and_events(extra: &[&str]) {
    let server = Server::start(&serve_args(extra, &["--bind", "127.0.0.1:0"]));
    assert_ne!(server.addr.port(), 0);
    let (mut s, mut r) = client(server.addr);
    let me = s.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("connect {me}"));
    s.write_all(b"hello\n").unwrap();
    assert_eq!(read_line(&mut r), "hello\n");
    drop((s, r));
    assert_eq!(server.next_line(), format!("disconnect {me} (closed)"));
}

#[test]
fn quiet_prints_only_the_first_line() {
    let mut server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--quiet"]);
    let (mut s, mut r) = client(server.addr);
    s.write_all(b"x\n").unwrap();
    assert_eq!(read_line(&mut r), "x\n");
    drop((s, r));
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(server.lines.try_iter().next().is_none());
}

#[test]
fn sigint_with_ten_clients_tells_them_and_exits_0_within_5_s() {
    sigint_with_ten_clients(&[]);
}

#[test]
fn threads_per_connection_sigint_with_ten_clients_exits_0_within_5_s() {
    sigint_with_ten_clients(THREADS);
}

fn sigint_with_ten_clients(extra: &[&str]) {
    let mut server = Server::start(&serve_args(extra, &["--bind", "127.0.0.1:0", "--quiet"]));
    let mut clients: Vec<_> = (0..10).map(|_| client(server.addr)).collect();
    for (s, r) in &mut clients {
        s.write_all(b"ping\n").unwrap();
        assert_eq!(read_line(r), "ping\n");
    }
    let start = Instant::now();
    server.signal("INT");
    for (_, r) in &mut clients {
        assert_eq!(read_line(r), "* server shutting down\n");
    }
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn sigusr1_dump_lists_the_scalable_workers_marked_internal() {
    // `dump_all()`: the event-loop workers are shown, marked internal; no thread
    // is named after a client.
    let server = Server::start(&["serve", "--bind", "127.0.0.1:0"]);
    let (s, _r) = client(server.addr);
    let me = s.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("connect {me}"));
    server.signal("USR1");
    let mut seen = vec![server.next_line()];
    // The table's rows come at once; stop when no line follows for a moment.
    while let Ok(line) = server.lines.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    let dump = seen.join("\n");
    assert!(dump.contains("IDENT") && dump.contains("WAITING"), "{dump}");
    assert!(dump.contains("MainThread"), "{dump}");
    assert!(
        seen.iter().any(|l| l.contains("tk-worker-0 (internal)")),
        "{dump}"
    );
    assert!(!dump.contains(&me.to_string()), "{dump}");
}

#[test]
fn threads_per_connection_sigusr1_dump_names_a_thread_after_the_client() {
    let server = Server::start(&serve_args(THREADS, &["--bind", "127.0.0.1:0"]));
    let (mut s, mut r) = client(server.addr);
    let me = s.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("connect {me}"));
    // An answer shows the client's thread runs (`connect` comes before it starts).
    s.write_all(b"hi\n").unwrap();
    assert_eq!(read_line(&mut r), "hi\n");
    server.signal("USR1");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let line = server.next_line();
        let done = line.contains(&me.to_string());
        seen.push(line);
        if done {
            break;
        }
    }
    let dump = seen.join("\n");
    assert!(dump.contains("IDENT"), "{dump}");
    assert!(dump.contains("MainThread"), "{dump}");
    assert!(
        dump.contains(&me.to_string()),
        "a thread named after the client: {dump}"
    );
}

#[test]
fn a_busy_port_gives_one_clear_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["serve", "--bind", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&addr), "names the address: {stderr}");
}

#[test]
fn usage_errors_exit_2_and_version_and_help_work() {
    assert_eq!(
        run(&["serve", "--max-clients", "many"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    let v = run(&["--version"]);
    assert!(v.status.success());
    assert!(String::from_utf8_lossy(&v.stdout).contains(env!("CARGO_PKG_VERSION")));
    let h = run(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&h.stdout);
    for flag in [
        "--chat",
        "--bind",
        "--max-clients",
        "--max-line",
        "--idle-timeout",
        "--max-queue",
        "--backlog",
        "--busy-poll",
        "--workers",
        "--threads-per-connection",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn udp_serve_echoes_and_udp_send_prints_the_reply() {
    let server = Server::start(&["udp-serve", "--bind", "127.0.0.1:0"]);
    let out = run(&["udp-send", &server.addr.to_string(), "hello udp"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "hello udp");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock.send_to(b"raw", server.addr).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"raw");
    assert_eq!(from, server.addr);
}

#[test]
fn udp_send_with_no_server_says_so_and_exits_1() {
    let free = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let start = Instant::now();
    let out = run(&["udp-send", &addr, "anyone?", "--wait", "0.3"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no reply within 0.3 s"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn connect_talks_to_our_server_and_prints_the_rest_at_end_of_input() {
    let server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--quiet"]);
    let out = run_with_input(&["connect", &server.addr.to_string()], b"one\ntwo\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\n");
}

#[test]
fn connect_against_a_python_server() {
    let script = r#"
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b"py: " + line)
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.handle_request()
"#;
    let (mut py, port) = common::start_python(script, &[]);
    let addr = format!("127.0.0.1:{port}");
    let out = common::run_with_input(&["connect", &addr], b"hi\n");
    let _ = py.kill();
    let _ = py.wait();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "py: hi\n");
}

#[test]
fn connect_to_nothing_is_one_clear_line_and_exit_1() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let out = run(&["connect", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn a_python_client_chats_through_our_server() {
    let server = Server::start(&["serve", "--chat", "--bind", "127.0.0.1:0", "--quiet"]);
    let script = format!(
        r#"
import socket
a = socket.create_connection(("127.0.0.1", {port}), timeout=10)
fa = a.makefile("rb")
print(fa.readline().decode().strip())
b = socket.create_connection(("127.0.0.1", {port}), timeout=10)
fb = b.makefile("rb")
print(fb.readline().decode().strip())
print(fa.readline().decode().strip())
a.sendall(b"/nick alice\n")
print(fa.readline().decode().strip())
print(fb.readline().decode().strip())
a.sendall(b"hi bob\r\n")
print(fb.readline().decode().strip())
"#,
        port = server.addr.port()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "* welcome, you are guest-1\n* welcome, you are guest-2\n* guest-2 joined\n\
         * guest-1 is now alice\n* guest-1 is now alice\nalice: hi bob\n"
    );
}

#[test]
fn twenty_clients_sending_a_mebibyte_without_newline_do_not_grow_the_server() {
    twenty_mebibyte_senders(&[]);
}

#[test]
fn threads_per_connection_twenty_mebibyte_senders_do_not_grow_the_server() {
    twenty_mebibyte_senders(THREADS);
}

fn twenty_mebibyte_senders(extra: &[&str]) {
    let server = Server::start(&serve_args(extra, &["--bind", "127.0.0.1:0", "--quiet"]));
    let base = server.vm_rss_kib();
    let senders: Vec<_> = (0..20)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let (mut s, mut r) = client(addr);
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..16 {
                    if s.write_all(&chunk).is_err() {
                        break; // the server closed us: fine
                    }
                }
                let mut answer = String::new();
                let _ = r.read_to_string(&mut answer);
                answer
            })
        })
        .collect();
    // Meanwhile another client is served.
    let (mut s, mut r) = client(server.addr);
    for i in 0..50 {
        let line = format!("still served {i}\n");
        s.write_all(line.as_bytes()).unwrap();
        assert_eq!(read_line(&mut r), line);
    }
    for t in senders {
        let answer = t.join().unwrap();
        assert!(
            answer.is_empty() || answer.starts_with("* error: line too long (max 65536 bytes)"),
            "{answer:?}"
        );
    }
    let rss = server.vm_rss_kib();
    assert!(rss < 64 * 1024, "VmRSS {rss} KiB (started at {base} KiB)");
}

/// The OS threads of process `pid`.
fn os_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn scalable_serves_two_thousand_concurrent_clients_with_few_threads() {
    const N: usize = 2000;
    // The clients' descriptors are this process's: raise its limit too.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if limit < N as u64 + 256 {
        eprintln!("skipped: the open-files limit is {limit}");
        return;
    }
    let mut server = Server::start(&[
        "serve",
        "--max-clients",
        "4096",
        "--backlog",
        "4096",
        "--quiet",
        "--bind",
        "127.0.0.1:0",
    ]);
    let mut clients: Vec<_> = (0..N).map(|_| client(server.addr)).collect();
    // Every client is served at once: each writes, then each reads its answer.
    for (i, (s, _)) in clients.iter_mut().enumerate() {
        s.write_all(format!("client {i}\n").as_bytes()).unwrap();
    }
    for (i, (_, r)) in clients.iter_mut().enumerate() {
        assert_eq!(read_line(r), format!("client {i}\n"));
    }
    let threads = os_threads(server.child.id());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Main, signals, one worker per core, and little else; on a big machine
    // the workers alone may pass 16.
    let bound = 16.max(cores + 8);
    assert!(
        threads < bound,
        "{threads} OS threads serving {N} clients (fewer than {bound} wanted)"
    );
    eprintln!(
        "{N} clients: {threads} OS threads, VmRSS {} KiB",
        server.vm_rss_kib()
    );
    // Still answering, then a clean stop.
    let (s, r) = &mut clients[N / 2];
    s.write_all(b"again\n").unwrap();
    assert_eq!(read_line(r), "again\n");
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}

/// CPU time (user + system) the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

#[test]
fn accept_failures_are_logged_and_retried_without_spinning() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    for model in [&[][..], &["--threads-per-connection"][..]] {
        // 24 descriptors in all, soft and hard: 30 clients run the server out.
        let mut command = Command::new("prlimit");
        command
            .args(["--nofile=24", "--", BIN, "serve", "--bind", "127.0.0.1:0"])
            .args(model);
        let server = Server::start_with(&mut command);
        let clients: Vec<TcpStream> = (0..30)
            .filter_map(|_| TcpStream::connect(server.addr).ok())
            .collect();
        // The accept errors are reported (after the start-up warning and the
        // connect lines) ...
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "no accept error reported");
            if server
                .next_line()
                .contains("accept error: Too many open files")
            {
                break;
            }
        }
        // ... and retried after a back-off, not in a busy loop.
        let pid = server.child.id();
        let before = cpu_time(pid);
        std::thread::sleep(Duration::from_secs(1));
        let used = cpu_time(pid) - before;
        assert!(used < Duration::from_millis(300), "{used:?} of CPU in 1 s");
        // Once descriptors are free again, new clients are served.
        drop(clients);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut served = false;
        while !served && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            if let Ok(s) = TcpStream::connect(server.addr) {
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut s = s;
                if s.write_all(b"back\n").is_ok() {
                    let mut line = String::new();
                    served = r.read_line(&mut line).is_ok() && line == "back\n";
                }
            }
        }
        assert!(
            served,
            "a client was served after the descriptors came back"
        );
    }
}

#[test]
fn a_bind_that_is_not_host_port_is_a_usage_error_naming_it() {
    for cmd in ["serve", "udp-serve"] {
        for bad in [
            "nonsense",
            "127.0.0.1",
            "127.0.0.1:70000",
            "::1:80",
            "unix:",
        ] {
            let out = run(&[cmd, "--bind", bad]);
            assert_eq!(out.status.code(), Some(2), "{cmd} --bind {bad}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&format!("'{bad}'")) && stderr.contains("HOST:PORT"),
                "{cmd} --bind {bad}: {stderr}"
            );
        }
    }
}

/// Runs `serve --bind 127.0.0.1:0` with `extra` and checks that it is a usage
/// error (exit 2) whose message names `flag` and says `why`.
fn assert_serve_usage_error(extra: &[&str], flag: &str, why: &str) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2), "{extra:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(flag) && stderr.contains(why),
        "{extra:?}: {stderr}"
    );
}

#[test]
fn counts_below_one_are_usage_errors() {
    for flag in ["--max-clients", "--max-line", "--max-queue", "--backlog"] {
        for bad in ["0", "-1", "many"] {
            assert_serve_usage_error(&[&format!("{flag}={bad}")], flag, "at least 1");
        }
    }
}

#[test]
fn busy_poll_over_a_second_or_not_whole_micros_is_a_usage_error() {
    for (bad, why) in [
        ("1000001", "at most 1000000"),
        ("0.5", "whole number of microseconds"),
        ("-1", "whole number of microseconds"),
    ] {
        assert_serve_usage_error(&[&format!("--busy-poll={bad}")], "--busy-poll", why);
    }
}

#[test]
fn bad_workers_or_workers_with_threads_per_connection_are_usage_errors() {
    let cases: [(&[&str], &str); 4] = [
        (&["--workers", "0"], "at least 1"),
        (&["--workers", "1025"], "at most 1024"),
        (&["--workers", "many"], "whole number"),
        (
            &["--workers", "4", "--threads-per-connection"],
            "cannot be used with",
        ),
    ];
    for (extra, why) in cases {
        assert_serve_usage_error(extra, "--workers", why);
    }
}

#[test]
fn workers_sets_the_number_of_event_loop_threads() {
    for n in [1, 5] {
        let workers = n.to_string();
        let server = Server::start(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--quiet",
            "--workers",
            &workers,
        ]);
        // Answers on more connections than workers show every one serves.
        let mut clients: Vec<_> = (0..8).map(|_| client(server.addr)).collect();
        for (i, (s, r)) in clients.iter_mut().enumerate() {
            let line = format!("client {i}\n");
            s.write_all(line.as_bytes()).unwrap();
            assert_eq!(read_line(r), line);
        }
        let names = os_thread_names(server.child.id());
        let mut running: Vec<_> = names
            .iter()
            .filter(|n| n.starts_with("tk-worker-"))
            .collect();
        running.sort();
        let expected: Vec<String> = (0..n).map(|i| format!("tk-worker-{i}")).collect();
        assert_eq!(running, expected.iter().collect::<Vec<_>>(), "{names:?}");
    }
}

#[test]
fn times_over_a_year_negative_or_nan_are_usage_errors() {
    let cases: [(&[&str], &str); 3] = [
        (&["serve", "--bind", "127.0.0.1:0"], "--idle-timeout"),
        (&["connect", "127.0.0.1:9"], "--timeout"),
        (&["udp-send", "127.0.0.1:9", "x"], "--wait"),
    ];
    for (args, flag) in cases {
        for (bad, why) in [
            ("31536000.5", "at most one year"),
            ("1e19", "at most one year"),
            ("inf", "at most one year"),
            ("-1", "0 or more"),
            ("NaN", "0 or more"),
            ("soon", "number of seconds"),
        ] {
            let arg = format!("{flag}={bad}");
            let mut all = args.to_vec();
            all.push(&arg);
            let out = run(&all);
            assert_eq!(out.status.code(), Some(2), "{all:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(flag) && stderr.contains(why),
                "{all:?}: {stderr}"
            );
        }
    }
}

#[test]
fn an_idle_timeout_of_one_year_is_accepted_and_serves() {
    for extra in [&[][..], THREADS] {
        let mut server = Server::start(&serve_args(
            extra,
            &[
                "--bind",
                "127.0.0.1:0",
                "--quiet",
                "--idle-timeout",
                "31536000",
            ],
        ));
        for _ in 0..2 {
            let (mut s, mut r) = client(server.addr);
            s.write_all(b"still here\n").unwrap();
            assert_eq!(read_line(&mut r), "still here\n", "{extra:?}");
        }
        server.signal("TERM");
        assert_eq!(
            server.wait_exit(Duration::from_secs(10)),
            Some(0),
            "{extra:?}"
        );
    }
}

#[test]
fn signals_sent_as_soon_as_listening_is_read_are_handled() {
    // The handlers are installed before the first line: a SIGTERM right after it
    // exits 0, a SIGUSR1 prints the dump (before, the default action killed the
    // server in about one start of three).
    for i in 0..20 {
        let mut server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--quiet"]);
        server.signal("TERM");
        assert_eq!(
            server.wait_exit(Duration::from_secs(10)),
            Some(0),
            "start {i}"
        );
    }
    for i in 0..20 {
        let mut server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--quiet"]);
        server.signal("USR1");
        assert!(server.next_line().contains("IDENT"), "start {i}");
        server.signal("TERM");
        assert_eq!(
            server.wait_exit(Duration::from_secs(10)),
            Some(0),
            "start {i}"
        );
    }
}

/// The OS names (`comm`, cut at 15 bytes) of process `pid`'s threads.
fn os_thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_string())
        .collect()
}

#[test]
fn internal_threads_have_distinct_os_names() {
    let server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--quiet"]);
    // An answer shows the workers run.
    let (mut s, mut r) = client(server.addr);
    s.write_all(b"up\n").unwrap();
    assert_eq!(read_line(&mut r), "up\n");
    let names = os_thread_names(server.child.id());
    let workers: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with("tk-worker-"))
        .collect();
    assert!(names.iter().any(|n| n == "tk-worker-0"), "{names:?}");
    let mut distinct = workers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), workers.len(), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("threadkit-")),
        "{names:?}"
    );
}

/// A server whose stderr is read for its first line, then not at all, after
/// `clients` clients were served one by one (each connects, sends a line, reads
/// the echo, closes); and its unread stderr.
fn serve_with_unread_stderr(clients: usize) -> (Server, BufReader<ChildStderr>) {
    let (child, addr, stderr) =
        Server::start_unread(Command::new(BIN).args(["serve", "--bind", "127.0.0.1:0"]));
    let server = Server {
        child,
        addr,
        lines: mpsc::channel().1,
    };
    let start = Instant::now();
    for i in 0..clients {
        let (mut s, mut r) = client(server.addr);
        s.write_all(b"ping\n").unwrap();
        assert_eq!(read_line(&mut r), "ping\n", "client {i}");
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{i} clients in 300 s"
        );
    }
    (server, stderr)
}

#[test]
fn a_stderr_pipe_nobody_reads_never_stalls_serving() {
    // Two log lines per client: 5,000 clients log 300 KB, far more than the pipe
    // (64 KiB) and the log's buffer hold. Before, serving froze after ~2,000.
    let (mut server, _unread) = serve_with_unread_stderr(5_000);
    let start = Instant::now();
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn lines_dropped_while_stderr_was_not_read_are_counted_once_it_is() {
    let (mut server, stderr) = serve_with_unread_stderr(5_000);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let dropped = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a `(N log lines dropped)` line");
        if let Some(n) = line
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(" log lines dropped)"))
        {
            break n.parse::<u64>().unwrap();
        }
    };
    assert!(dropped > 0);
    // Logging works again: a new client's lines come through.
    let (s, _r) = client(server.addr);
    let me = s.local_addr().unwrap();
    let connect = format!("connect {me}");
    while rx
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect(&connect)
        != connect
    {}
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn monitor_serves_the_thread_page_and_the_server_counters() {
    let mut server = Server::start(&["serve", "--bind", "127.0.0.1:0", "--monitor", "0"]);
    let line = server.next_line();
    let page: SocketAddr = line
        .strip_prefix("monitor on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap();
    // A port alone means loopback.
    assert_eq!(page.ip().to_string(), "127.0.0.1");
    let (mut s, mut r) = client(server.addr);
    s.write_all(b"hi\n").unwrap();
    assert_eq!(read_line(&mut r), "hi\n");
    let get = |path: &str| {
        let mut c = TcpStream::connect(page).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(c, "GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        answer
    };
    let counters = get("/server.json");
    assert!(counters.starts_with("HTTP/1.1 200"), "{counters}");
    assert!(
        counters.contains("\"clients\":1") && counters.contains("\"lines_in\":1"),
        "{counters}"
    );
    assert!(get("/threads.json").contains("\"MainThread\""));
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}
