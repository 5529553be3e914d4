//! Scale figures for the echo servers, each in a child process of its own on
//! loopback (the same servers as `echo_load`, see `echo_common`):
//!
//! - **idle**: N connections (default 10,000) held open, connected in batches;
//!   the server's VmRSS (`/proc/PID/status`) before, with all N idle, and after
//!   each has echoed one line; its threads and open sockets too. A server that
//!   cannot hold N is reported as such (how many it accepted and answered).
//! - **burst**: N connects at once (default 1,500, from one tokio task each on a
//!   single-threaded runtime in this process, so every SYN leaves in one pass),
//!   each sending one 64-byte line and reading its echo: the time until all are
//!   served, and the p50/p99 of the per-connection completion times.
//!
//! Servers are started with a backlog of 4,096 and, for `threadkit serve`,
//! `--max-clients 20000 --idle-timeout 0`. This process raises its own
//! open-files limit to the hard one.
//!
//! ```text
//! cargo build --release
//! cargo bench --bench echo_scale | tee target/echo_scale.txt
//! cargo bench --bench echo_scale -- --figures burst --servers tokio,threadkit --rounds 3
//! ```
//!
//! Options (or environment variables): `--figures idle,burst`
//! (`ECHO_SCALE_FIGURES`), `--servers LIST` (`ECHO_SCALE_SERVERS`, default
//! `threadkit-scalable,threadkit-threads,tokio,std,python`), `--idle N`
//! (`ECHO_SCALE_IDLE`, default 10000), `--burst N` (`ECHO_SCALE_BURST`, default
//! 1500), `--rounds N` (`ECHO_SCALE_ROUNDS`, default 1: each figure repeated,
//! servers interleaved), `--python PATH` (`PYTHON`). Results also come as
//! `csv,idle,...` and `csv,burst,...` lines.

#[allow(dead_code)] // shared with the echo benches; this one uses a part
mod echo_common;

use std::env;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use echo_common::{
    parse_rounds, read_flags, server_command, server_list, Launch, ServerChild, LINE,
};

/// Connects per batch before waiting for the server to accept them.
const BATCH: usize = 500;
/// The most a batch waits for the server to catch up with its accepts.
const BATCH_WAIT: Duration = Duration::from_secs(10);
/// Any single connect, read or write gives up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole connect phase of the idle figure gives up after this.
const CONNECT_PHASE: Duration = Duration::from_secs(120);
/// The one-line-each check of the idle figure gives up after this.
const ECHO_PHASE: Duration = Duration::from_secs(60);
/// A burst gives up after this.
const BURST_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest N accepted for either figure.
const MAX_N: usize = 15_000;
/// The most rounds accepted.
const MAX_ROUNDS: usize = 10;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(code) = echo_common::serve_mode(&args) {
        return code;
    }
    echo_common::exit_code(
        "echo_scale",
        Options::parse(&args).and_then(|opts| run(&opts)),
    )
}

struct Options {
    idle: Option<usize>,
    burst: Option<usize>,
    servers: Vec<String>,
    rounds: usize,
    python: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let var = |k: &str, d: &str| env::var(k).unwrap_or_else(|_| d.into());
        let mut figures = var("ECHO_SCALE_FIGURES", "idle,burst");
        let mut servers = var(
            "ECHO_SCALE_SERVERS",
            "threadkit-scalable,threadkit-threads,tokio,std,python",
        );
        let mut idle = var("ECHO_SCALE_IDLE", "10000");
        let mut burst = var("ECHO_SCALE_BURST", "1500");
        let mut rounds = var("ECHO_SCALE_ROUNDS", "1");
        let mut python = var("PYTHON", "python3");
        read_flags(
            args,
            &mut [
                ("--figures", &mut figures),
                ("--servers", &mut servers),
                ("--idle", &mut idle),
                ("--burst", &mut burst),
                ("--rounds", &mut rounds),
                ("--python", &mut python),
            ],
        )?;
        let count = |text: &str, max: usize, what: &str| match text.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("bad {what} {text:?} (1..={max})")),
        };
        let mut want = (false, false);
        for f in figures.split(',').map(str::trim) {
            match f {
                "idle" => want.0 = true,
                "burst" => want.1 = true,
                other => return Err(format!("unknown figure {other:?} (idle, burst)")),
            }
        }
        Ok(Options {
            idle: want.0.then(|| count(&idle, MAX_N, "--idle")).transpose()?,
            burst: want
                .1
                .then(|| count(&burst, MAX_N, "--burst"))
                .transpose()?,
            servers: tcp_only(server_list(&servers)?)?,
            rounds: parse_rounds(&rounds, MAX_ROUNDS)?,
            python,
        })
    }
}

fn run(opts: &Options) -> Result<(), String> {
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot raise the open-files limit: {e}"))?;
    println!(
        "echo_scale: servers in child processes on 127.0.0.1, backlog 4096; {} cores shared by this process and the server; open-files limit here {limit}",
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let launch = Launch {
        python: &opts.python,
        backlog: Some(4096),
        max_clients: Some(20_000),
    };
    // A server that cannot start is noted and left out of that figure.
    let start_or_skip = |name: &str, launch: &Launch<'_>| match server_command(name, launch)
        .and_then(|command| ServerChild::start(name, command))
    {
        Ok(s) => Some(s),
        Err(e) => {
            println!("note: skipping {name}: {e}");
            None
        }
    };
    let mut idle_rows = Vec::new();
    let mut burst_rows = Vec::new();
    for round in 1..=opts.rounds {
        if let Some(n) = opts.idle {
            println!("\nidle, round {round}: {n} connections held open");
            for name in &opts.servers {
                let Some(server) = start_or_skip(name, &launch) else {
                    continue;
                };
                let row = idle(&server, n, round);
                println!("  {}", row.describe());
                idle_rows.push(row);
            }
        }
        if let Some(n) = opts.burst {
            println!("\nburst, round {round}: {n} connects at once, one line each");
            for name in &opts.servers {
                let Some(server) = start_or_skip(name, &launch) else {
                    continue;
                };
                let row = burst(&server, n, round);
                println!("  {}", row.describe());
                burst_rows.push(row);
            }
        }
    }
    if !idle_rows.is_empty() {
        println!();
        println!("csv,idle,server,round,n,connected,accepted,echoed,rss_before_kib,rss_idle_kib,rss_echoed_kib,kib_per_conn,threads_idle,connect_s");
        for r in &idle_rows {
            println!(
                "csv,idle,{},{},{},{},{},{},{},{},{},{:.1},{},{:.3}",
                r.server,
                r.round,
                r.n,
                r.connected,
                r.accepted,
                r.echoed,
                r.rss_before,
                r.rss_idle,
                r.rss_echoed,
                r.per_conn_kib(),
                r.threads_idle,
                r.connect_time.as_secs_f64()
            );
        }
    }
    if !burst_rows.is_empty() {
        println!();
        println!("csv,burst,server,round,n,served,failed,all_served_ms,p50_ms,p99_ms");
        for r in &burst_rows {
            println!(
                "csv,burst,{},{},{},{},{},{:.1},{:.1},{:.1}",
                r.server,
                r.round,
                r.n,
                r.served,
                r.failed,
                millis(r.all),
                millis(r.p50),
                millis(r.p99)
            );
        }
    }
    Ok(())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sleeps in small steps until `done()` or `limit` has passed; whether it got done.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

struct IdleRow {
    server: String,
    round: usize,
    n: usize,
    /// Connections this process opened.
    connected: usize,
    /// Sockets the server gained (connections it accepted and kept).
    accepted: usize,
    /// Connections that echoed one line.
    echoed: usize,
    rss_before: u64,
    rss_idle: u64,
    rss_echoed: u64,
    threads_idle: u64,
    connect_time: Duration,
    notes: Vec<String>,
}

impl IdleRow {
    fn per_conn_kib(&self) -> f64 {
        self.rss_idle.saturating_sub(self.rss_before) as f64 / self.connected.max(1) as f64
    }

    fn describe(&self) -> String {
        format!(
            "{:<19} connected {}/{} in {:.2} s, accepted {}, echoed {}; VmRSS {:.1} -> {:.1} MiB idle ({:.1} KiB/conn) -> {:.1} MiB after one echo each; {} threads{}",
            self.server,
            self.connected,
            self.n,
            self.connect_time.as_secs_f64(),
            self.accepted,
            self.echoed,
            self.rss_before as f64 / 1024.0,
            self.rss_idle as f64 / 1024.0,
            self.per_conn_kib(),
            self.rss_echoed as f64 / 1024.0,
            self.threads_idle,
            if self.notes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", self.notes.join("; "))
            }
        )
    }
}

/// The idle figure against one server.
/// `servers`, refusing the Unix-socket ones: this bench counts TCP
/// connections.
fn tcp_only(servers: Vec<String>) -> Result<Vec<String>, String> {
    match servers.iter().find(|s| s.ends_with("-unix")) {
        Some(unix) => Err(format!("{unix}: echo_scale measures TCP servers only")),
        None => Ok(servers),
    }
}

fn idle(server: &ServerChild, n: usize, round: usize) -> IdleRow {
    let addr = server.addr().expect("TCP servers only (tcp_only)");
    let mut notes = Vec::new();
    // Let the server settle after its start before the first reading.
    thread::sleep(Duration::from_millis(300));
    let rss_before = server.status("VmRSS").unwrap_or(0);
    let base_sockets = open_sockets(server).unwrap_or(0);
    let sockets = || {
        open_sockets(server)
            .unwrap_or(0)
            .saturating_sub(base_sockets)
    };
    let mut streams: Vec<TcpStream> = Vec::with_capacity(n);
    let start = Instant::now();
    let mut failures = 0usize;
    let mut first_error = None;
    'batches: while streams.len() < n {
        let batch_end = (streams.len() + BATCH).min(n);
        while streams.len() < batch_end {
            if start.elapsed() > CONNECT_PHASE {
                notes.push(format!("connect phase over {CONNECT_PHASE:?}"));
                break 'batches;
            }
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(s) => streams.push(s),
                Err(e) => {
                    failures += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                    if failures >= 20 {
                        break 'batches;
                    }
                }
            }
        }
        let want = streams.len();
        if !wait_until(BATCH_WAIT, || sockets() >= want) {
            notes.push(format!(
                "server had accepted only {} of {want} after {BATCH_WAIT:?}",
                sockets()
            ));
            break;
        }
    }
    let connect_time = start.elapsed();
    if let Some(e) = first_error {
        notes.push(format!("{failures} connects failed, first: {e}"));
    }
    // Idle: let the server finish whatever accepting it does, then read.
    let connected = streams.len();
    wait_until(BATCH_WAIT, || sockets() >= connected);
    thread::sleep(Duration::from_millis(500));
    let rss_idle = server.status("VmRSS").unwrap_or(0);
    let threads_idle = server.status("Threads").unwrap_or(0);
    let accepted = sockets();
    if !server_alive(server) {
        notes.push("the server died".into());
    }
    let echoed = echo_each(&streams, &mut notes);
    thread::sleep(Duration::from_millis(300));
    let rss_echoed = server.status("VmRSS").unwrap_or(0);
    drop(streams);
    IdleRow {
        server: server.name.clone(),
        round,
        n,
        connected,
        accepted,
        echoed,
        rss_before,
        rss_idle,
        rss_echoed,
        threads_idle,
        connect_time,
        notes,
    }
}

/// How many sockets the server has open: distinct `socket:[INODE]` targets in
/// `/proc/PID/fd`, so a descriptor and its dup (the std server's `try_clone`)
/// count once.
fn open_sockets(server: &ServerChild) -> Option<usize> {
    let mut inodes = std::collections::HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{}/fd", server.pid())).ok()? {
        let Ok(target) = entry.and_then(|e| std::fs::read_link(e.path())) else {
            continue; // closed meanwhile
        };
        if let Some(inode) = target.to_str().and_then(|t| t.strip_prefix("socket:")) {
            inodes.insert(inode.to_owned());
        }
    }
    Some(inodes.len())
}

fn server_alive(server: &ServerChild) -> bool {
    server.status("VmRSS").is_some()
}

/// Sends one line on every connection, then reads every echo; how many came
/// back right. Bounded by `ECHO_PHASE` as a whole and `IO_TIMEOUT` per read.
fn echo_each(streams: &[TcpStream], notes: &mut Vec<String>) -> usize {
    let deadline = Instant::now() + ECHO_PHASE;
    let line = |i: usize| {
        let mut l = [b'i'; LINE];
        let tag = format!("{i:08}");
        l[..tag.len()].copy_from_slice(tag.as_bytes());
        l[LINE - 1] = b'\n';
        l
    };
    let mut sent = vec![false; streams.len()];
    for (i, mut s) in streams.iter().enumerate() {
        if Instant::now() >= deadline {
            break;
        }
        let _ = s.set_write_timeout(Some(IO_TIMEOUT));
        sent[i] = s.write_all(&line(i)).is_ok();
    }
    let mut ok = 0;
    let mut first_error = None;
    let mut reply = [0u8; LINE];
    for (i, mut s) in streams.iter().enumerate() {
        if !sent[i] {
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            notes.push(format!("echo check over {ECHO_PHASE:?}"));
            break;
        }
        let _ = s.set_read_timeout(Some(left.min(IO_TIMEOUT)));
        match s.read_exact(&mut reply) {
            Ok(()) if reply == line(i) => ok += 1,
            Ok(()) => {
                first_error.get_or_insert_with(|| {
                    format!(
                        "a reply differs: {:?}",
                        String::from_utf8_lossy(&reply).trim_end()
                    )
                });
            }
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    if let Some(e) = first_error {
        notes.push(format!("echo check: {e}"));
    }
    ok
}

struct BurstRow {
    server: String,
    round: usize,
    n: usize,
    served: usize,
    failed: usize,
    all: Duration,
    p50: Duration,
    p99: Duration,
    first_error: Option<String>,
}

impl BurstRow {
    fn describe(&self) -> String {
        format!(
            "{:<19} {}/{} served, all within {:.1} ms (p50 {:.1} ms, p99 {:.1} ms){}{}",
            self.server,
            self.served,
            self.n,
            millis(self.all),
            millis(self.p50),
            millis(self.p99),
            if self.failed > 0 {
                format!("; {} failed", self.failed)
            } else {
                String::new()
            },
            self.first_error
                .as_ref()
                .map_or(String::new(), |e| format!(", first: {e}"))
        )
    }
}

/// The burst figure against one server: `n` tasks connect at once, send a line,
/// read its echo.
fn burst(server: &ServerChild, n: usize, round: usize) -> BurstRow {
    thread::sleep(Duration::from_millis(300));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let addr = server.addr().expect("TCP servers only (tcp_only)");
    let (times, errors) = runtime.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                tokio::spawn(tokio::time::timeout(
                    BURST_TIMEOUT,
                    one_line(addr, i, start),
                ))
            })
            .collect();
        let mut times = Vec::with_capacity(n);
        let mut errors = Vec::new();
        for t in tasks {
            match t.await {
                Ok(Ok(Ok(d))) => times.push(d),
                Ok(Ok(Err(e))) => errors.push(e.to_string()),
                Ok(Err(_)) => errors.push(format!("no echo within {BURST_TIMEOUT:?}")),
                Err(e) => errors.push(e.to_string()),
            }
        }
        (times, errors)
    });
    drop(runtime);
    let mut sorted = times.clone();
    sorted.sort_unstable();
    let pick = |q: f64| {
        if sorted.is_empty() {
            Duration::ZERO
        } else {
            sorted[((sorted.len() - 1) as f64 * q).round() as usize]
        }
    };
    BurstRow {
        server: server.name.clone(),
        round,
        n,
        served: times.len(),
        failed: errors.len(),
        all: sorted.last().copied().unwrap_or_default(),
        p50: pick(0.5),
        p99: pick(0.99),
        first_error: errors.into_iter().next(),
    }
}

/// One burst connection: connect, send a line, read it back; the time from the
/// burst's start until then.
async fn one_line(addr: SocketAddr, i: usize, start: Instant) -> std::io::Result<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut line = [b'b'; LINE];
    let tag = format!("{i:08}");
    line[..tag.len()].copy_from_slice(tag.as_bytes());
    line[LINE - 1] = b'\n';
    s.write_all(&line).await?;
    let mut reply = [0u8; LINE];
    s.read_exact(&mut reply).await?;
    if reply != line {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "echo differs",
        ));
    }
    Ok(start.elapsed())
}
