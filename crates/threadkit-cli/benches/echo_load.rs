//! Load generator: request/response round trips of 64-byte lines against echo
//! servers running in processes of their own, on loopback.
//!
//! ```text
//! cargo bench --bench echo_load | tee target/echo_load.txt   # every server, C = 1, 16, 256, 3 s each
//! cargo bench --bench echo_load -- --conns 1,16 --secs 1 --servers std,tokio --rounds 2
//! python3 crates/threadkit-cli/benches/chart.py target/echo_load.txt   # docs/echo_load.svg
//! ```
//!
//! Servers, each a child process started and stopped by this program in the same
//! run (see `echo_common`):
//!
//! - `std`: a plain `std::net` echo with a thread per connection
//!   (this binary re-executed with `--serve-std-echo ADDR`);
//! - `tokio`: a tokio echo, multi-thread runtime with 2 workers, a task per
//!   connection (this binary re-executed with `--serve-tokio-echo ADDR`);
//! - `threadkit-scalable`: `threadkit serve --bind 127.0.0.1:0 --quiet` (its
//!   default model), from `$THREADKIT_BIN` (default: the program cargo built for the bench),
//!   skipped with a note when missing;
//! - `threadkit-threads`: the same with `--threads-per-connection` (Python's model);
//! - `threadkit-scalable-unix`, `threadkit-threads-unix`: the same two with
//!   `--bind unix:PATH` (a file in the temp dir), against which the goals compare
//!   the same server over TCP;
//! - `python`: CPython's `socketserver.ThreadingTCPServer` (`benches/echo_server.py`).
//!
//! For each server and each connection count C, C client threads each send a
//! 64-byte line (63 bytes and `\n`), wait for it to come back, and repeat until the
//! time is up (after a short warm-up that is not counted). The result is a table,
//! the ratios the issue sets goals for, and one CSV line per result on stdout,
//! prefixed `csv,` (what `benches/chart.py` reads).
//!
//! Options (or environment variables): `--conns LIST` (`ECHO_LOAD_CONNS`, default
//! `1,16,256`), `--secs S` (`ECHO_LOAD_SECS`, default 3), `--warmup S`
//! (`ECHO_LOAD_WARMUP`, default 0.5), `--servers LIST` (`ECHO_LOAD_SERVERS`,
//! default `std,tokio,threadkit-scalable,threadkit-threads,threadkit-unix,python`;
//! `threadkit` means both threadkit models, `threadkit-unix` both over a Unix
//! socket), `--rounds N` (`ECHO_LOAD_ROUNDS`, default 1:
//! the whole list again, servers interleaved, so drift on a shared machine hits
//! them alike), `--python PATH` (`PYTHON`, default `python3`), `--client KIND`
//! (`ECHO_LOAD_CLIENT`: `threads`, the default, a std thread per connection; or
//! `async`, every connection a task on one current-thread tokio runtime, so the
//! generator takes at most one of the cores).
//!
//! The generator and the server share the machine's cores: the figures compare
//! servers measured the same way in the same run, not absolute capacity.

mod echo_common;

use std::collections::BTreeMap;
use std::env;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use echo_common::{
    parse_counts, parse_rounds, read_flags, seconds, server_command, server_list, Launch,
    ServerChild, Target, LINE,
};

/// Any single read or write of a client gives up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The most round trips one connection makes in one run, whatever the time.
const MAX_ROUND_TRIPS: usize = 50_000_000;
/// The largest connection count accepted.
const MAX_CONNS: usize = 4096;
/// The most rounds accepted.
const MAX_ROUNDS: usize = 20;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(code) = echo_common::serve_mode(&args) {
        return code;
    }
    echo_common::exit_code(
        "echo_load",
        Options::parse(&args).and_then(|opts| run(&opts)),
    )
}

struct Options {
    conns: Vec<usize>,
    secs: Duration,
    warmup: Duration,
    servers: Vec<String>,
    rounds: usize,
    python: String,
    /// How the generator's connections run: `threads` (a std thread each) or
    /// `async` (tasks on one tokio current-thread runtime: one core's worth of
    /// load, leaving the other to the server).
    client: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut conns = env::var("ECHO_LOAD_CONNS").unwrap_or_else(|_| "1,16,256".into());
        let mut secs = env::var("ECHO_LOAD_SECS").unwrap_or_else(|_| "3".into());
        let mut warmup = env::var("ECHO_LOAD_WARMUP").unwrap_or_else(|_| "0.5".into());
        let mut servers = env::var("ECHO_LOAD_SERVERS").unwrap_or_else(|_| {
            "std,tokio,threadkit-scalable,threadkit-threads,threadkit-unix,python".into()
        });
        let mut rounds = env::var("ECHO_LOAD_ROUNDS").unwrap_or_else(|_| "1".into());
        let mut python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let mut client = env::var("ECHO_LOAD_CLIENT").unwrap_or_else(|_| "threads".into());
        read_flags(
            args,
            &mut [
                ("--conns", &mut conns),
                ("--secs", &mut secs),
                ("--warmup", &mut warmup),
                ("--servers", &mut servers),
                ("--rounds", &mut rounds),
                ("--python", &mut python),
                ("--client", &mut client),
            ],
        )?;
        let conns = parse_counts(&conns, MAX_CONNS)?;
        let rounds = parse_rounds(&rounds, MAX_ROUNDS)?;
        Ok(Options {
            conns,
            secs: seconds(&secs)?,
            warmup: seconds(&warmup)?,
            servers: server_list(&servers)?,
            rounds,
            python,
            client: match client.as_str() {
                "threads" | "async" => client,
                other => return Err(format!("bad --client {other:?} (threads or async)")),
            },
        })
    }
}

/// One measurement: a server at one connection count in one round.
struct Outcome {
    server: String,
    conns: usize,
    round: usize,
    elapsed: Duration,
    requests: usize,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

fn run(opts: &Options) -> Result<(), String> {
    println!(
        "echo_load: 64-byte lines, C = {:?}, {:.1} s each after {:.1} s warm-up, {} round(s); servers in child processes on 127.0.0.1; {} cores shared by generator and server",
        opts.conns,
        opts.secs.as_secs_f64(),
        opts.warmup.as_secs_f64(),
        opts.rounds,
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let launch = Launch {
        python: &opts.python,
        backlog: None,
        max_clients: None,
    };
    let mut outcomes = Vec::new();
    let mut skipped = Vec::new();
    for round in 1..=opts.rounds {
        for name in &opts.servers {
            if skipped.contains(name) {
                continue;
            }
            let server = match server_command(name, &launch)
                .and_then(|command| ServerChild::start(name, command))
            {
                Ok(s) => s,
                Err(e) => {
                    println!("note: skipping {name}: {e}");
                    skipped.push(name.clone());
                    continue;
                }
            };
            for &c in &opts.conns {
                let measured = if opts.client == "async" {
                    measure_async(&server, c, opts.warmup, opts.secs)
                } else {
                    measure(&server, c, opts.warmup, opts.secs)
                };
                match measured {
                    Ok(mut o) => {
                        o.round = round;
                        print_row(&o);
                        outcomes.push(o);
                    }
                    Err(e) => println!("note: {name} with C = {c} failed: {e}"),
                }
            }
            if let (Some(hwm), Some(threads)) = (server.status("VmHWM"), server.status("Threads")) {
                println!(
                    "  {name}: peak RSS {:.1} MiB, {threads} threads at the end",
                    hwm as f64 / 1024.0
                );
            }
            drop(server); // killed and reaped here, before the next one starts
        }
    }

    println!();
    println!(
        "{:<23} {:>6} {:>5} {:>11} {:>11} {:>9} {:>9} {:>7}",
        "server", "conns", "round", "requests", "req/s", "p50 us", "p99 us", "errors"
    );
    for o in &outcomes {
        println!(
            "{:<23} {:>6} {:>5} {:>11} {:>11.0} {:>9.1} {:>9.1} {:>7}",
            o.server,
            o.conns,
            o.round,
            o.requests,
            rate(o),
            micros(o.p50),
            micros(o.p99),
            o.errors
        );
    }
    print_goals(&outcomes, &opts.conns);
    println!();
    println!("csv,server,conns,secs,requests,req_per_s,p50_us,p99_us,errors,round");
    for o in &outcomes {
        println!(
            "csv,{},{},{:.3},{},{:.0},{:.1},{:.1},{},{}",
            o.server,
            o.conns,
            o.elapsed.as_secs_f64(),
            o.requests,
            rate(o),
            micros(o.p50),
            micros(o.p99),
            o.errors,
            o.round
        );
    }
    Ok(())
}

/// The ratios the issue sets goals for, from the median over rounds of req/s
/// and of p99: scalable ≥ 0.9× tokio with p99 no worse; scalable ≥ 5× python at
/// C = 16 and 256; threads ≥ 0.95× std.
fn print_goals(outcomes: &[Outcome], conns: &[usize]) {
    // (server, C) -> (req/s of each round, p99 of each round)
    type Samples = (Vec<f64>, Vec<f64>);
    let mut by: BTreeMap<(&str, usize), Samples> = BTreeMap::new();
    for o in outcomes {
        let e = by.entry((o.server.as_str(), o.conns)).or_default();
        e.0.push(rate(o));
        e.1.push(micros(o.p99));
    }
    let med = |server: &str, c: usize| -> Option<(f64, f64)> {
        let (r, p) = by.get(&(server, c))?;
        Some((median(r), median(p)))
    };
    let checks: [(&str, &str, f64, &[usize]); 5] = [
        ("threadkit-scalable", "tokio", 0.9, &[]),
        ("threadkit-scalable", "python", 5.0, &[16, 256]),
        ("threadkit-threads", "std", 0.95, &[]),
        // The same server over a Unix socket and over TCP.
        ("threadkit-scalable-unix", "threadkit-scalable", 1.0, &[]),
        ("threadkit-threads-unix", "threadkit-threads", 1.0, &[]),
    ];
    let mut lines = Vec::new();
    for (ours, peer, goal, only) in checks {
        for &c in conns {
            if !only.is_empty() && !only.contains(&c) {
                continue;
            }
            let (Some((r1, p1)), Some((r2, p2))) = (med(ours, c), med(peer, c)) else {
                continue;
            };
            let ratio = r1 / r2.max(1e-9);
            let met = |ok: bool| if ok { "met" } else { "NOT met" };
            lines.push(format!(
                "  {ours} / {peer} at C = {c}: {ratio:.2}x req/s (goal >= {goal}x: {}), p99 {p1:.0} vs {p2:.0} us{}",
                met(ratio >= goal),
                if peer == "tokio" {
                    format!(" (goal no worse: {})", met(p1 <= p2))
                } else {
                    String::new()
                }
            ));
        }
    }
    if !lines.is_empty() {
        println!();
        println!("goals (medians over rounds):");
        for l in lines {
            println!("{l}");
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn print_row(o: &Outcome) {
    println!(
        "  {:<23} C = {:<4} {:>10.0} req/s  p50 {:>8.1} us  p99 {:>8.1} us{}",
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

/// Runs C connections against `server` for `warmup` + `secs`.
fn measure(
    server: &ServerChild,
    conns: usize,
    warmup: Duration,
    secs: Duration,
) -> Result<Outcome, String> {
    match &server.target {
        Target::Tcp(addr) => {
            let connect = || {
                let s = TcpStream::connect_timeout(addr, IO_TIMEOUT)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                Ok(s)
            };
            measure_on(server, conns, warmup, secs, connect)
        }
        Target::Unix(path) => {
            let connect = || {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                Ok(s)
            };
            measure_on(server, conns, warmup, secs, connect)
        }
    }
}

/// [`measure`] over the streams `connect` makes.
fn measure_on<S: Read + Write + Send + 'static>(
    server: &ServerChild,
    conns: usize,
    warmup: Duration,
    secs: Duration,
    connect: impl Fn() -> io::Result<S>,
) -> Result<Outcome, String> {
    // Connect first, one after another, so the measured time is round trips only.
    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        streams.push(connect().map_err(|e| format!("connect: {e}"))?);
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
    outcome(server, conns, secs, samples, errors.load(Ordering::Relaxed))
}

/// The measurement from every round trip's latency.
fn outcome(
    server: &ServerChild,
    conns: usize,
    secs: Duration,
    mut samples: Vec<Duration>,
    errors: usize,
) -> Result<Outcome, String> {
    if samples.is_empty() {
        return Err("no round trip completed".into());
    }
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Ok(Outcome {
        server: server.name.clone(),
        conns,
        round: 0,
        elapsed: secs,
        requests: samples.len(),
        p50: pick(0.50),
        p99: pick(0.99),
        errors,
    })
}

/// Like [`measure`], with every connection a task on one current-thread tokio
/// runtime: the generator then uses at most one core.
fn measure_async(
    server: &ServerChild,
    conns: usize,
    warmup: Duration,
    secs: Duration,
) -> Result<Outcome, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (samples, errors) = match &server.target {
        Target::Tcp(addr) => rt.block_on(round_trips_async(conns, warmup, secs, || async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok(s)
        })),
        Target::Unix(path) => rt.block_on(round_trips_async(conns, warmup, secs, || {
            tokio::net::UnixStream::connect(path)
        })),
    }?;
    outcome(server, conns, secs, samples, errors)
}

/// The async generator's round trips over the streams `connect` makes: every
/// latency after the warm-up, and how many connections failed.
async fn round_trips_async<S, F, C>(
    conns: usize,
    warmup: Duration,
    secs: Duration,
    connect: C,
) -> Result<(Vec<Duration>, usize), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: std::future::Future<Output = io::Result<S>>,
    C: Fn() -> F,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    {
        let mut streams = Vec::with_capacity(conns);
        for _ in 0..conns {
            let s = tokio::time::timeout(IO_TIMEOUT, connect())
                .await
                .map_err(|_| "connect: timed out".to_string())?
                .map_err(|e| format!("connect: {e}"))?;
            streams.push(s);
        }
        let warm_end = Instant::now() + warmup;
        let end = warm_end + secs;
        let mut tasks = Vec::with_capacity(conns);
        for (id, mut stream) in streams.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut request = [b'x'; LINE];
                let tag = format!("{id:08}");
                request[..tag.len()].copy_from_slice(tag.as_bytes());
                request[LINE - 1] = b'\n';
                let mut reply = [0u8; LINE];
                let mut samples = Vec::with_capacity(1 << 14);
                for _ in 0..MAX_ROUND_TRIPS {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let trip = async {
                        stream.write_all(&request).await?;
                        stream.read_exact(&mut reply).await
                    };
                    match tokio::time::timeout(IO_TIMEOUT, trip).await {
                        Ok(Ok(_)) if reply == request => {}
                        _ => return Err(()),
                    }
                    if t >= warm_end {
                        samples.push(t.elapsed());
                    }
                }
                Ok(samples)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            match t.await {
                Ok(Ok(samples)) => all.extend(samples),
                _ => errors += 1,
            }
        }
        Ok((all, errors))
    }
}

/// One connection's loop: send a line, read it back, check it, until `end`;
/// returns the latencies measured after `warm_end`.
fn round_trips(
    mut stream: impl Read + Write,
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
