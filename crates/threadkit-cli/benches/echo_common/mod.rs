//! What the echo benchmarks (`echo_load`, `echo_scale`) share: the servers they
//! measure, each started as a child process and killed when its guard drops, and
//! the two echo servers written here (a plain std one and a tokio one), which run
//! when the bench binary is re-executed with `--serve-std-echo` or
//! `--serve-tokio-echo`.
//!
//! Server names (`--servers`): `std`, `tokio`, `python` (CPython's
//! `ThreadingTCPServer`, `benches/echo_server.py`), `threadkit-scalable`
//! (`threadkit serve`, default model), `threadkit-threads` (`threadkit serve
//! --threads-per-connection`); `threadkit` means both threadkit ones.
//! `threadkit-scalable-unix` and `threadkit-threads-unix` are the same two
//! over a Unix socket (`--bind unix:PATH`, in the temp dir); `threadkit-unix`
//! means both.

use std::env;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// A request: 63 bytes and `\n`.
pub const LINE: usize = 64;
/// How long a server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Our echo servers exit by themselves after this, should nobody stop them.
const SERVER_LIFETIME: Duration = Duration::from_secs(3600);
/// Every server name `--servers` knows.
pub const SERVER_NAMES: &str = "std, tokio, python, threadkit-scalable, threadkit-threads, \
     threadkit, threadkit-scalable-unix, threadkit-threads-unix, threadkit-unix";

/// If the arguments ask for one of our echo servers, runs it and returns its exit
/// code: `--serve-std-echo ADDR [--backlog N]`, `--serve-tokio-echo ADDR [--backlog N]`.
pub fn serve_mode(args: &[String]) -> Option<ExitCode> {
    let (i, kind) = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a.as_str() {
            "--serve-std-echo" => Some((i, "std")),
            "--serve-tokio-echo" => Some((i, "tokio")),
            _ => None,
        })?;
    let addr = args.get(i + 1).map_or("127.0.0.1:0", String::as_str);
    let backlog = args
        .iter()
        .position(|a| a == "--backlog")
        .and_then(|j| args.get(j + 1))
        .and_then(|b| b.parse().ok())
        .unwrap_or(1024);
    let result = addr
        .parse::<SocketAddr>()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad address {addr}")))
        .and_then(|addr| match kind {
            "std" => serve_std_echo(addr, backlog),
            _ => serve_tokio_echo(addr, backlog),
        });
    Some(exit_code(&format!("{kind} echo server"), result))
}

/// A bench's (or a server mode's) exit: success, or `WHAT: ERROR` on stderr and
/// failure.
pub fn exit_code(what: &str, result: Result<(), impl std::fmt::Display>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{what}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Splits a `--servers` list, `threadkit` standing for both threadkit models.
pub fn server_list(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "threadkit" | "threadkit-unix" => {
                let unix = name.strip_prefix("threadkit").unwrap_or("");
                out.push(format!("threadkit-scalable{unix}"));
                out.push(format!("threadkit-threads{unix}"));
            }
            "std"
            | "tokio"
            | "python"
            | "threadkit-scalable"
            | "threadkit-threads"
            | "threadkit-scalable-unix"
            | "threadkit-threads-unix" => out.push(name.to_owned()),
            other => return Err(format!("unknown server {other:?} ({SERVER_NAMES})")),
        }
    }
    Ok(out)
}

/// Reads `--NAME VALUE` flags into `slots` (each a flag and the string it sets),
/// skipping `--bench` and plain words (what `cargo bench` passes).
///
/// # Errors
///
/// An unknown flag, or a flag without its value.
pub fn read_flags(args: &[String], slots: &mut [(&str, &mut String)]) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--bench" || !arg.starts_with('-') {
            continue;
        }
        let slot = slots
            .iter_mut()
            .find(|(flag, _)| flag == arg)
            .ok_or_else(|| format!("unknown option {arg}"))?;
        *slot.1 = it
            .next()
            .ok_or_else(|| format!("{arg} needs a value"))?
            .clone();
    }
    Ok(())
}

/// Parses a comma-separated list of connection counts, each 1 to `max`.
pub fn parse_counts(list: &str, max: usize) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(|c| match c.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("bad connection count {c:?} (1..={max})")),
        })
        .collect()
}

/// Parses a number of rounds, 1 to `max`.
pub fn parse_rounds(text: &str, max: usize) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("bad number of rounds {text:?} (1..={max})")),
    }
}

/// Parses seconds, 0 to an hour, fractions allowed.
pub fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("bad number of seconds {text:?}")),
    }
}

/// How a server is started beyond its name.
pub struct Launch<'a> {
    /// The Python interpreter for `python`.
    pub python: &'a str,
    /// The listen backlog; `None`: each server's default (1,024 for ours and for
    /// `echo_server.py`).
    pub backlog: Option<i32>,
    /// For `threadkit serve`: `--max-clients N --idle-timeout 0` (many clients
    /// held open); `None`: its defaults.
    pub max_clients: Option<usize>,
}

/// The command that starts server `name`; `Err` with a note when it cannot run
/// here (the threadkit binary is missing).
pub fn server_command(name: &str, launch: &Launch<'_>) -> Result<Command, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let backlog = launch.backlog.map(|b| b.to_string());
    let command = match name {
        "std" | "tokio" => {
            let exe = env::current_exe().map_err(|e| e.to_string())?;
            let mut c = Command::new(exe);
            c.arg(format!("--serve-{name}-echo")).arg("127.0.0.1:0");
            if let Some(b) = &backlog {
                c.args(["--backlog", b]);
            }
            c
        }
        "python" => {
            let mut c = Command::new(launch.python);
            c.arg(root.join("benches/echo_server.py"))
                .arg("127.0.0.1:0");
            if let Some(b) = &backlog {
                c.arg(b);
            }
            c
        }
        "threadkit-scalable"
        | "threadkit-threads"
        | "threadkit-scalable-unix"
        | "threadkit-threads-unix" => {
            let bin = threadkit_bin(root);
            if !bin.is_file() {
                return Err(format!(
                    "{} not found (set THREADKIT_BIN to the threadkit program)",
                    bin.display()
                ));
            }
            let bind = if name.ends_with("-unix") {
                format!("unix:{}", unix_path(name).display())
            } else {
                "127.0.0.1:0".to_owned()
            };
            let mut c = Command::new(bin);
            c.args(["serve", "--bind", &bind, "--quiet"]);
            if name.starts_with("threadkit-threads") {
                c.arg("--threads-per-connection");
            }
            if let Some(b) = &backlog {
                c.args(["--backlog", b]);
            }
            if let Some(m) = launch.max_clients {
                c.args(["--max-clients", &m.to_string(), "--idle-timeout", "0"]);
            }
            c
        }
        other => return Err(format!("unknown server {other:?} ({SERVER_NAMES})")),
    };
    Ok(command)
}

/// Where the Unix-socket server `name` listens: a file of this process's in the
/// temp dir (a killed server leaves it; [`ServerChild`] removes it).
fn unix_path(name: &str) -> PathBuf {
    env::temp_dir().join(format!(
        "threadkit-bench-{}-{name}.sock",
        std::process::id()
    ))
}

/// Where a server listens, as its `listening on` line says.
#[derive(Debug, Clone)]
pub enum Target {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// `$THREADKIT_BIN` (relative to the workspace root), else the program cargo
/// built for this bench run.
pub fn threadkit_bin(root: &Path) -> PathBuf {
    match env::var_os("THREADKIT_BIN").map(PathBuf::from) {
        Some(bin) if bin.is_relative() => root.join("../..").join(bin),
        Some(bin) => bin,
        None => PathBuf::from(env!("CARGO_BIN_EXE_threadkit")),
    }
}

/// A server child process: killed and reaped when dropped, whatever happened.
pub struct ServerChild {
    child: Child,
    pub name: String,
    pub target: Target,
}

impl ServerChild {
    /// Starts `command` and reads `listening on ADDR` from its first stderr line.
    pub fn start(name: &str, mut command: Command) -> Result<ServerChild, String> {
        let child = command
            .stdin(Stdio::piped()) // its end-of-file tells our servers to exit
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut guard = ServerChild {
            child,
            name: name.to_owned(),
            target: Target::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))),
        };
        let stderr = guard.child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        // Reads the first line, then passes on warnings (`threadkit serve` warns
        // when --max-clients does not fit the open-files limit) so the child
        // never blocks on a full pipe; ends when the child's stderr closes.
        let who = name.to_owned();
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr);
            let mut first = String::new();
            let _ = lines.read_line(&mut first);
            let _ = tx.send(first);
            // Never stop reading before the child ends: a closed pipe would kill
            // it at its next write to stderr.
            for (i, line) in lines.lines().map_while(Result::ok).enumerate() {
                if i < 20 {
                    eprintln!("  [{who}] {line}");
                } else if i == 20 {
                    eprintln!("  [{who}] (more lines not shown)");
                }
            }
        });
        let first = rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| format!("{name} printed no first line within {START_TIMEOUT:?}"))?;
        let target = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| match a.strip_prefix("unix:") {
                Some(path) => Some(Target::Unix(path.into())),
                None => a.parse().ok().map(Target::Tcp),
            })
            .ok_or_else(|| match first.trim() {
                "" => format!("{name} ended without printing `listening on ADDR`"),
                said => format!("{name} said {said:?}, not `listening on ADDR`"),
            })?;
        guard.target = target;
        Ok(guard)
    }

    /// The TCP address, for the benches that only speak TCP.
    #[allow(dead_code)] // echo_load, which speaks both, matches on `target`
    pub fn addr(&self) -> Result<SocketAddr, String> {
        match &self.target {
            Target::Tcp(addr) => Ok(*addr),
            Target::Unix(_) => Err(format!("{} listens on a Unix socket", self.name)),
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/PID/status` field as a number (`VmRSS`, `VmHWM` in KiB, `Threads`).
    pub fn status(&self, key: &str) -> Option<u64> {
        let text = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Target::Unix(path) = &self.target {
            let _ = fs::remove_file(path);
        }
    }
}

/// Exits the process when stdin ends (the load generator is gone) or after
/// `SERVER_LIFETIME`, whichever comes first.
pub fn exit_with_parent() {
    thread::spawn(|| {
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        std::process::exit(0);
    });
    thread::spawn(|| {
        thread::sleep(SERVER_LIFETIME);
        std::process::exit(0);
    });
}

/// The `std` server: a plain `std::net` echo, a thread (128 KiB stack) per
/// connection, until killed or its parent is gone.
fn serve_std_echo(addr: SocketAddr, backlog: i32) -> io::Result<()> {
    // socket2 for a large backlog: many clients connect at once.
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    let listener = TcpListener::from(sock);
    eprintln!("listening on {}", listener.local_addr()?);
    exit_with_parent();
    loop {
        let (conn, _) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Out of descriptors or the like: say so, keep serving the rest.
                eprintln!("accept: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = conn.set_nodelay(true);
        let spawned = thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let _ = echo_lines(conn);
            });
        if let Err(e) = spawned {
            eprintln!("spawn: {e}");
        }
    }
}

fn echo_lines(conn: TcpStream) -> io::Result<()> {
    // `&TcpStream` reads and writes: one descriptor per client, no `try_clone`.
    let mut writer = &conn;
    let mut reader = BufReader::new(&conn);
    let mut line = Vec::with_capacity(LINE);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            return Ok(()); // closed; an unterminated last line is dropped
        }
        writer.write_all(&line)?;
    }
}

/// The `tokio` server: a multi-thread runtime with 2 workers, a task per
/// connection reading lines through `tokio::io::BufReader` and writing each back,
/// until killed or its parent is gone.
fn serve_tokio_echo(addr: SocketAddr, backlog: i32) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let sock = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        sock.set_reuseaddr(true)?;
        sock.bind(addr)?;
        let listener = sock.listen(backlog.max(1) as u32)?;
        eprintln!("listening on {}", listener.local_addr()?);
        exit_with_parent();
        loop {
            match listener.accept().await {
                Ok((conn, _)) => {
                    let _ = conn.set_nodelay(true);
                    tokio::spawn(tokio_echo_lines(conn));
                }
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

async fn tokio_echo_lines(mut conn: tokio::net::TcpStream) -> io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (reader, mut writer) = conn.split();
    let mut reader = tokio::io::BufReader::new(reader);
    let mut line = Vec::with_capacity(LINE);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 || line.last() != Some(&b'\n') {
            return Ok(()); // closed; an unterminated last line is dropped
        }
        writer.write_all(&line).await?;
    }
}
