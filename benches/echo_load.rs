//! Load generator: request/response round trips of 64-byte lines against echo
//! servers running in processes of their own, on loopback.
//!
//! ```text
//! cargo bench --bench echo_load                           # every server, C = 1, 16, 256, 3 s each
//! cargo bench --bench echo_load -- --conns 1,16 --secs 1 --servers std,python
//! ```
//!
//! Servers, each a child process started and stopped by this program in the same
//! run:
//!
//! - `std`: a plain `std::net` echo with a thread per connection, written below
//!   (this binary re-executed with `--serve-std-echo ADDR`);
//! - `python`: CPython's `socketserver.ThreadingTCPServer` (`benches/echo_server.py`);
//! - `threadkit`: `threadkit serve --bind 127.0.0.1:0 --quiet`, from `$THREADKIT_BIN`
//!   (default `target/release/threadkit`), skipped with a note when missing.
//!
//! For each server and each connection count C, C client threads each send a
//! 64-byte line (63 bytes and `\n`), wait for it to come back, and repeat until the
//! time is up (after a short warm-up that is not counted). The result is a table,
//! plus one CSV line per result on stdout, prefixed `csv,`.
//!
//! Options (or environment variables): `--conns LIST` (`ECHO_LOAD_CONNS`, default
//! `1,16,256`), `--secs S` (`ECHO_LOAD_SECS`, default 3), `--warmup S`
//! (`ECHO_LOAD_WARMUP`, default 0.5), `--servers LIST` (`ECHO_LOAD_SERVERS`,
//! default `std,python,threadkit`), `--python PATH` (`PYTHON`, default `python3`).
//!
//! The generator and the server share the machine's cores: the figures compare
//! servers measured the same way in the same run, not absolute capacity.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A request: 63 bytes and `\n`.
const LINE: usize = 64;
/// How long a server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Any single read or write of a client gives up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The most round trips one connection makes in one run, whatever the time.
const MAX_ROUND_TRIPS: usize = 50_000_000;
/// The largest connection count accepted.
const MAX_CONNS: usize = 4096;
/// The std echo server exits by itself after this, should nobody stop it.
const SERVER_LIFETIME: Duration = Duration::from_secs(3600);

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-std-echo") {
        let addr = args.get(i + 1).map_or("127.0.0.1:0", String::as_str);
        return match serve_std_echo(addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("std echo server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match Options::parse(&args).and_then(|opts| run(&opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_load: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    conns: Vec<usize>,
    secs: Duration,
    warmup: Duration,
    servers: Vec<String>,
    python: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut conns = env::var("ECHO_LOAD_CONNS").unwrap_or_else(|_| "1,16,256".into());
        let mut secs = env::var("ECHO_LOAD_SECS").unwrap_or_else(|_| "3".into());
        let mut warmup = env::var("ECHO_LOAD_WARMUP").unwrap_or_else(|_| "0.5".into());
        let mut servers =
            env::var("ECHO_LOAD_SERVERS").unwrap_or_else(|_| "std,python,threadkit".into());
        let mut python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let slot = match arg.as_str() {
                "--conns" => &mut conns,
                "--secs" => &mut secs,
                "--warmup" => &mut warmup,
                "--servers" => &mut servers,
                "--python" => &mut python,
                // `cargo bench` passes `--bench`; a filter may follow it.
                "--bench" => continue,
                other if other.starts_with('-') => return Err(format!("unknown option {other}")),
                _ => continue,
            };
            *slot = it
                .next()
                .ok_or_else(|| format!("{arg} needs a value"))?
                .clone();
        }
        let conns = conns
            .split(',')
            .map(|c| match c.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_CONNS).contains(&n) => Ok(n),
                _ => Err(format!("bad connection count {c:?} (1..={MAX_CONNS})")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Options {
            conns,
            secs: seconds(&secs)?,
            warmup: seconds(&warmup)?,
            servers: servers.split(',').map(|s| s.trim().to_owned()).collect(),
            python,
        })
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("bad number of seconds {text:?}")),
    }
}

/// One measurement: a server at one connection count.
struct Outcome {
    server: String,
    conns: usize,
    elapsed: Duration,
    requests: usize,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

fn run(opts: &Options) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!(
        "echo_load: 64-byte lines, C = {:?}, {:.1} s each after {:.1} s warm-up; servers in child processes on 127.0.0.1",
        opts.conns,
        opts.secs.as_secs_f64(),
        opts.warmup.as_secs_f64()
    );
    let mut outcomes = Vec::new();
    for name in &opts.servers {
        let command = match name.as_str() {
            "std" => {
                let exe = env::current_exe().map_err(|e| e.to_string())?;
                let mut c = Command::new(exe);
                c.args(["--serve-std-echo", "127.0.0.1:0"]);
                c
            }
            "python" => {
                let mut c = Command::new(&opts.python);
                c.arg(root.join("benches/echo_server.py"))
                    .arg("127.0.0.1:0");
                c
            }
            "threadkit" => {
                let bin = threadkit_bin(root);
                if !bin.is_file() {
                    println!(
                        "note: skipping threadkit: {} not found (cargo build --release, or set THREADKIT_BIN)",
                        bin.display()
                    );
                    continue;
                }
                let mut c = Command::new(bin);
                c.args(["serve", "--bind", "127.0.0.1:0", "--quiet"]);
                c
            }
            other => return Err(format!("unknown server {other:?} (std, python, threadkit)")),
        };
        let server = match ServerChild::start(name, command) {
            Ok(s) => s,
            Err(e) => {
                println!("note: skipping {name}: {e}");
                continue;
            }
        };
        for &c in &opts.conns {
            match measure(&server, c, opts.warmup, opts.secs) {
                Ok(o) => {
                    print_row(&o);
                    outcomes.push(o);
                }
                Err(e) => println!("note: {name} with C = {c} failed: {e}"),
            }
        }
        drop(server); // killed and reaped here, before the next one starts
    }

    println!();
    println!(
        "{:<10} {:>6} {:>11} {:>11} {:>9} {:>9} {:>7}",
        "server", "conns", "requests", "req/s", "p50 us", "p99 us", "errors"
    );
    for o in &outcomes {
        println!(
            "{:<10} {:>6} {:>11} {:>11.0} {:>9.1} {:>9.1} {:>7}",
            o.server,
            o.conns,
            o.requests,
            rate(o),
            micros(o.p50),
            micros(o.p99),
            o.errors
        );
    }
    println!();
    println!("csv,server,conns,secs,requests,req_per_s,p50_us,p99_us,errors");
    for o in &outcomes {
        println!(
            "csv,{},{},{:.3},{},{:.0},{:.1},{:.1},{}",
            o.server,
            o.conns,
            o.elapsed.as_secs_f64(),
            o.requests,
            rate(o),
            micros(o.p50),
            micros(o.p99),
            o.errors
        );
    }
    Ok(())
}

fn print_row(o: &Outcome) {
    println!(
        "  {:<10} C = {:<4} {:>10.0} req/s  p50 {:>8.1} us  p99 {:>8.1} us{}",
        o.server,
        o.conns,
        rate(o),
        micros(o.p50),
        micros(o.p99),
        if o.errors > 0 {
            format!("  ({} connections failed)", o.errors)
        } else {
            String::new()
        }
    );
}

fn rate(o: &Outcome) -> f64 {
    o.requests as f64 / o.elapsed.as_secs_f64().max(1e-9)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn threadkit_bin(root: &Path) -> PathBuf {
    let bin = PathBuf::from(
        env::var("THREADKIT_BIN").unwrap_or_else(|_| "target/release/threadkit".into()),
    );
    if bin.is_absolute() {
        bin
    } else {
        root.join(bin)
    }
}

/// A server child process: killed and reaped when dropped, whatever happened.
struct ServerChild {
    child: Child,
    name: String,
    addr: SocketAddr,
}

impl ServerChild {
    /// Starts `command` and reads `listening on ADDR` from its first stderr line.
    fn start(name: &str, mut command: Command) -> Result<ServerChild, String> {
        let child = command
            .stdin(Stdio::piped()) // its end-of-file tells our servers to exit
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut guard = ServerChild {
            child,
            name: name.to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let stderr = guard.child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        // Reads the first line, then drains the rest so the child never blocks on
        // a full pipe; ends when the child's stderr closes.
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr);
            let mut first = String::new();
            let _ = lines.read_line(&mut first);
            let _ = tx.send(first);
            let _ = io::copy(&mut lines, &mut io::sink());
        });
        let first = rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| format!("{name} printed no first line within {START_TIMEOUT:?}"))?;
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| match first.trim() {
                "" => format!("{name} ended without printing `listening on ADDR`"),
                said => format!("{name} said {said:?}, not `listening on ADDR`"),
            })?;
        guard.addr = addr;
        Ok(guard)
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs C connections against `server` for `warmup` + `secs`.
fn measure(
    server: &ServerChild,
    conns: usize,
    warmup: Duration,
    secs: Duration,
) -> Result<Outcome, String> {
    // Connect first, one after another, so the measured time is round trips only.
    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        let s = TcpStream::connect_timeout(&server.addr, IO_TIMEOUT)
            .map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        streams.push(s);
    }
    // One schedule for every connection: warm-up (which also covers starting the
    // threads), then the measured window. A round trip counts when it starts
    // inside the window, so the rate is counted requests / window.
    let warm_end = Instant::now() + warmup;
    let end = warm_end + secs;
    let abort = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(conns);
    let mut spawn_error = None;
    for (i, stream) in streams.into_iter().enumerate() {
        let (w_abort, w_errors) = (Arc::clone(&abort), Arc::clone(&errors));
        let worker = thread::Builder::new()
            .name(format!("load-{i}"))
            .stack_size(128 * 1024)
            .spawn(
                move || match round_trips(stream, i, warm_end, end, &w_abort) {
                    Ok(samples) => samples,
                    Err(_) => {
                        w_errors.fetch_add(1, Ordering::Relaxed);
                        Vec::new()
                    }
                },
            );
        match worker {
            Ok(w) => workers.push(w),
            Err(e) => {
                spawn_error = Some(format!("cannot start client thread {i}: {e}"));
                abort.store(true, Ordering::Relaxed);
                break;
            }
        }
    }
    let mut samples: Vec<Duration> = Vec::new();
    for w in workers {
        samples.extend(
            w.join()
                .map_err(|_| "a client thread panicked".to_string())?,
        );
    }
    if let Some(e) = spawn_error {
        return Err(e);
    }
    if samples.is_empty() {
        return Err("no round trip completed".into());
    }
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Ok(Outcome {
        server: server.name.clone(),
        conns,
        elapsed: secs,
        requests: samples.len(),
        p50: pick(0.50),
        p99: pick(0.99),
        errors: errors.load(Ordering::Relaxed),
    })
}

/// One connection's loop: send a line, read it back, check it, until `end`;
/// returns the latencies measured after `warm_end`.
fn round_trips(
    mut stream: TcpStream,
    id: usize,
    warm_end: Instant,
    end: Instant,
    abort: &AtomicBool,
) -> io::Result<Vec<Duration>> {
    let mut request = [b'x'; LINE];
    let tag = format!("{id:08}");
    request[..tag.len()].copy_from_slice(tag.as_bytes());
    request[LINE - 1] = b'\n';
    let mut reply = [0u8; LINE];
    let mut samples = Vec::with_capacity(1 << 16);
    for _ in 0..MAX_ROUND_TRIPS {
        let t = Instant::now();
        if t >= end || abort.load(Ordering::Relaxed) {
            break;
        }
        stream.write_all(&request)?;
        stream.read_exact(&mut reply)?;
        if reply != request {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "echo differs"));
        }
        if t >= warm_end {
            samples.push(t.elapsed());
        }
    }
    Ok(samples)
}

/// The `std` server: a thread per connection echoing lines, until killed, until
/// its stdin ends (the load generator is gone) or after `SERVER_LIFETIME`.
fn serve_std_echo(addr: &str) -> io::Result<()> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad address {addr}")))?;
    // socket2 for a large backlog: 256 clients connect at once.
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    let listener = TcpListener::from(sock);
    eprintln!("listening on {}", listener.local_addr()?);
    thread::spawn(|| {
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        std::process::exit(0);
    });
    thread::spawn(|| {
        thread::sleep(SERVER_LIFETIME);
        std::process::exit(0);
    });
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
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let mut line = Vec::with_capacity(LINE);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            return Ok(()); // closed; an unterminated last line is dropped
        }
        writer.write_all(&line)?;
    }
}
