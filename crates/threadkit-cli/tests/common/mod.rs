//! What the program's tests share: a `threadkit` child that is always
//! killed, a client with read timeouts, and the flags of the two models.

#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_threadkit");

/// A `threadkit` child; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// stderr lines after the first, as they come.
    pub lines: mpsc::Receiver<String>,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::start_with(Command::new(BIN).args(args))
    }

    /// Starts `command` (which runs `threadkit`, perhaps through a wrapper).
    pub fn start_with(command: &mut Command) -> Server {
        let (child, addr, stderr) = Server::start_unread(command);
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, addr, lines }
    }

    /// Starts `command` and reads the first stderr line (`listening on ADDR`)
    /// only; the rest of stderr is left to the caller.
    pub fn start_unread(command: &mut Command) -> (Child, SocketAddr, BufReader<ChildStderr>) {
        let (child, listening, stderr) = start_listening(command);
        (child, listening.parse().unwrap(), stderr)
    }

    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a stderr line within 10 s")
    }

    pub fn signal(&self, sig: &str) {
        signal(&self.child, sig);
    }

    /// Waits (bounded) for the process to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        wait_exit(&mut self.child, limit)
    }

    pub fn vm_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client(addr: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

pub fn read_line(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line
}

/// Starts `command` (a server) and reads its first stderr line, `listening on
/// ADDR`: the child, ADDR as printed, and the rest of stderr.
pub fn start_listening(command: &mut Command) -> (Child, String, BufReader<ChildStderr>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run threadkit");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let listening = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first stderr line: {first:?}"))
        .to_string();
    (child, listening, stderr)
}

/// Sends `sig` (`TERM`, `USR1`...) to `child`.
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Waits (bounded) for `child` to exit; its exit code.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `threadkit ARGS` to its end; one that is still running after 30 s (a
/// server that should have refused its flags, say) is killed and fails the test.
pub fn run(args: &[&str]) -> std::process::Output {
    run_with_input(args, b"")
}

/// Runs `threadkit ARGS` with `input` on stdin (then its end) to its end,
/// bounded as [`run`] is.
pub fn run_with_input(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A program that exits without reading closes the pipe: not an error here.
    std::thread::spawn(move || stdin.write_all(&input));
    let pid = child.id().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("threadkit {args:?} still running after 30 s");
        }
    }
}

/// `serve` with `extra` flags after the subcommand.
pub fn serve_args<'a>(extra: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["serve"];
    all.extend_from_slice(extra);
    all.extend_from_slice(args);
    all
}

/// The flag that selects Python's model; the default is the scalable one.
pub const THREADS: &[&str] = &["--threads-per-connection"];

/// Starts `python3 -c script ARGS`, a server that prints its port as its first
/// stdout line; the child (the caller kills it) and the port.
pub fn start_python(script: &str, args: &[&str]) -> (Child, u16) {
    let mut py = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut port = String::new();
    BufReader::new(py.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    (py, port.trim().parse().expect("a port on the first line"))
}
