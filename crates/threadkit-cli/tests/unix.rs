//! The program over Unix-domain sockets: `serve --bind unix:PATH` (both
//! models), `connect unix:PATH`, `udp-serve --bind unix:PATH`, `udp-send
//! unix:PATH`, and the socket file's life (a live one refused, a regular file
//! left alone, the file removed at exit).

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command};
use std::time::Duration;

use common::{run, run_with_input, BIN};

/// A directory of its own under the system's temp dir, removed on drop.
fn temp_dir(name: &str) -> tempfile::TempDir {
    let prefix = format!("tk-cli-unix-{name}-");
    tempfile::Builder::new().prefix(&prefix).tempdir().unwrap()
}

/// A `threadkit` server child on a Unix socket; killed on drop.
struct Served {
    child: Child,
    stderr: BufReader<ChildStderr>,
}

impl Served {
    /// Runs `threadkit ARGS` and checks its first line is `listening on unix:PATH`.
    fn start(args: &[&str], path: &Path) -> Served {
        let (child, listening, stderr) = common::start_listening(Command::new(BIN).args(args));
        assert_eq!(listening, format!("unix:{}", path.display()));
        Served { child, stderr }
    }

    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stderr.read_line(&mut line).unwrap();
        line.trim_end().to_string()
    }

    /// SIGTERM, then the exit code (bounded wait).
    fn terminate(&mut self) -> Option<i32> {
        common::signal(&self.child, "TERM");
        common::wait_exit(&mut self.child, Duration::from_secs(10))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `threadkit connect ADDR` with `input` on stdin; its stdout.
fn connect(addr: &str, input: &str) -> String {
    let out = run_with_input(&["connect", addr], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn serve_and_connect_over_a_unix_socket_in_both_models() {
    for extra in [&[][..], common::THREADS] {
        let dir = temp_dir(if extra.is_empty() {
            "scalable"
        } else {
            "threads"
        });
        let path = dir.path().join("echo.sock");
        let bind = format!("unix:{}", path.display());
        let mut args = vec!["serve", "--bind", &bind];
        args.extend_from_slice(extra);
        let mut server = Served::start(&args, &path);
        assert_eq!(
            connect(&bind, "hello\nworld\n"),
            "hello\nworld\n",
            "{extra:?}"
        );
        assert_eq!(server.next_line(), "connect unix:#1");
        assert_eq!(server.next_line(), "disconnect unix:#1 (closed)");
        assert_eq!(server.terminate(), Some(0));
        assert!(
            !path.exists(),
            "{extra:?}: the socket file is removed at exit"
        );
    }
}

#[test]
fn chat_clients_over_a_unix_socket_hear_each_other() {
    let dir = temp_dir("chat");
    let path = dir.path().join("chat.sock");
    let bind = format!("unix:{}", path.display());
    let mut server = Served::start(&["serve", "--chat", "--quiet", "--bind", &bind], &path);
    let open = || {
        let s = UnixStream::connect(&path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let r = BufReader::new(s.try_clone().unwrap());
        (s, r)
    };
    let line = |r: &mut BufReader<UnixStream>| {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        l
    };
    let (_a, mut ar) = open();
    assert_eq!(line(&mut ar), "* welcome, you are guest-1\n");
    let (mut b, mut br) = open();
    assert_eq!(line(&mut br), "* welcome, you are guest-2\n");
    assert_eq!(line(&mut ar), "* guest-2 joined\n");
    b.write_all(b"hi\n").unwrap();
    assert_eq!(line(&mut ar), "guest-2: hi\n");
    assert_eq!(server.terminate(), Some(0));
    // Perhaps `* guest-1 left` first, as the other one closes.
    let told = (0..3).any(|_| line(&mut br) == "* server shutting down\n");
    assert!(told, "bob was told the server is shutting down");
}

#[test]
fn a_live_socket_path_is_refused_and_a_regular_file_left_alone() {
    let dir = temp_dir("refused");
    let path = dir.path().join("live.sock");
    let bind = format!("unix:{}", path.display());
    let mut server = Served::start(&["serve", "--quiet", "--bind", &bind], &path);
    for cmd in ["serve", "udp-serve"] {
        let out = run(&[cmd, "--bind", &bind]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("threadkit: cannot bind {bind}: ")),
            "{cmd}: {stderr}"
        );
    }
    // The refused ones did not take the live server's file away.
    assert_eq!(connect(&bind, "still\n"), "still\n");
    assert_eq!(server.terminate(), Some(0));

    let file = dir.path().join("notes.txt");
    fs::write(&file, "keep").unwrap();
    let out = run(&["serve", "--bind", &format!("unix:{}", file.display())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("something other than a socket"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
}

#[test]
fn a_stale_socket_file_is_replaced_by_serve() {
    let dir = temp_dir("stale");
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let bind = format!("unix:{}", path.display());
    let mut server = Served::start(&["serve", "--quiet", "--bind", &bind], &path);
    assert_eq!(connect(&bind, "again\n"), "again\n");
    assert_eq!(server.terminate(), Some(0));
}

#[test]
fn udp_serve_and_udp_send_over_a_unix_socket() {
    let dir = temp_dir("udp");
    let path = dir.path().join("udp.sock");
    let bind = format!("unix:{}", path.display());
    let mut server = Served::start(&["udp-serve", "--bind", &bind], &path);
    let out = run(&["udp-send", &bind, "ping"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ping\n");
    assert_eq!(server.terminate(), Some(0));
    assert!(!path.exists());
    // Nothing there now: refused at once, and said so.
    let out = run(&["udp-send", &bind, "ping"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn connect_to_a_missing_unix_path_names_it() {
    let dir = temp_dir("missing");
    let addr = format!("unix:{}", dir.path().join("nobody.sock").display());
    let out = run(&["connect", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn help_shows_unix_paths() {
    for cmd in ["serve", "connect", "udp-serve", "udp-send"] {
        let out = run(&[cmd, "--help"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("unix:PATH"),
            "{cmd}"
        );
    }
}
