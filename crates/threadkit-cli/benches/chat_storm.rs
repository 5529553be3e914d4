//! Chat storm: many chat clients all talking at once, against chat servers
//! running in processes of their own, on loopback.
//!
//! ```text
//! cargo bench --bench chat_storm                      # 200 clients x 50 messages, every server
//! cargo bench --bench chat_storm -- --clients 50 --messages 20 --servers tokio,threadkit-threads
//! ```
//!
//! Servers, each a child process started and stopped by this program in the same
//! run:
//!
//! - `threadkit-scalable`: `threadkit serve --chat` (its default model), from
//!   `$THREADKIT_BIN` (default: the program cargo built for the bench);
//! - `threadkit-threads`: the same with `--threads-per-connection`;
//! - `tokio`: a tokio chat room written the obvious way (this binary re-executed
//!   with `--serve-tokio-chat ADDR`): a multi-thread runtime with 2 workers, a
//!   task per client, one `tokio::sync::broadcast` channel for the room (room
//!   for 65,536 lines, so that no client lags in this bench), the names in a
//!   `Mutex`.
//!
//! Two measurements per server:
//!
//! 1. **storm**: N clients join (each has its welcome before anyone talks), then
//!    each sends M messages, and the time is taken until every client has the
//!    `(N - 1) * M` messages of the others.
//! 2. **`/who` under a flood**: in a room of N, one client floods short lines as
//!    fast as the server takes them, every other client but one reads and throws
//!    away what comes, and the last asks `/who` again and again (one at a time);
//!    the p50 and p99 of its answer times (over what came within 15 s).
//!
//! Options (or environment variables): `--clients N` (`CHAT_STORM_CLIENTS`,
//! default 200), `--messages M` (`CHAT_STORM_MESSAGES`, default 50),
//! `--samples S` (`CHAT_STORM_SAMPLES`, `/who` round trips, default 100),
//! `--servers LIST` (`CHAT_STORM_SERVERS`, default
//! `threadkit-scalable,threadkit-threads,tokio`; `threadkit` means both).
//! Every wait is bounded (`TIMEOUT`): a server that does not deliver is reported,
//! not waited for.
//!
//! The generator and the server share the machine's cores: the figures compare
//! servers measured the same way in the same run, not absolute capacity.

#[allow(dead_code)] // shared with the echo benches; this one uses a part
mod echo_common;

use std::collections::BTreeMap;
use std::env;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use echo_common::{exit_with_parent, read_flags, threadkit_bin, ServerChild};

/// The longest the storm may take; a read gives up after this.
const TIMEOUT: Duration = Duration::from_secs(40);
/// The longest the `/who` measurement goes on: past it, the answers so far.
const WHO_LIMIT: Duration = Duration::from_secs(15);
/// The most clients accepted (each is a thread of this program).
const MAX_CLIENTS: usize = 1000;
/// The most messages per client accepted.
const MAX_MESSAGES: usize = 10_000;
/// The lines of one flood write: short ones, 64 KiB at a time.
const FLOOD_WRITE: usize = 64 * 1024;
/// How many lines the tokio room holds for a slow reader.
const TOKIO_ROOM: usize = 65_536;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-tokio-chat") {
        let addr = args.get(i + 1).map_or("127.0.0.1:0", String::as_str);
        return echo_common::exit_code(
            "tokio chat server",
            addr.parse()
                .map_err(io::Error::other)
                .and_then(serve_tokio_chat),
        );
    }
    echo_common::exit_code(
        "chat_storm",
        Options::parse(&args).and_then(|opts| run(&opts)),
    )
}

struct Options {
    clients: usize,
    messages: usize,
    samples: usize,
    servers: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let var = |name: &str, default: &str| env::var(name).unwrap_or_else(|_| default.into());
        let mut clients = var("CHAT_STORM_CLIENTS", "200");
        let mut messages = var("CHAT_STORM_MESSAGES", "50");
        let mut samples = var("CHAT_STORM_SAMPLES", "100");
        let mut servers = var(
            "CHAT_STORM_SERVERS",
            "threadkit-scalable,threadkit-threads,tokio",
        );
        read_flags(
            args,
            &mut [
                ("--clients", &mut clients),
                ("--messages", &mut messages),
                ("--samples", &mut samples),
                ("--servers", &mut servers),
            ],
        )?;
        let count = |text: &str, what: &str, range: std::ops::RangeInclusive<usize>| {
            text.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| format!("bad {what} {text:?} ({range:?})"))
        };
        let mut list = Vec::new();
        for name in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "threadkit" => {
                    list.extend(["threadkit-scalable".into(), "threadkit-threads".into()])
                }
                "threadkit-scalable" | "threadkit-threads" | "tokio" => list.push(name.to_owned()),
                other => return Err(format!("unknown server {other:?}")),
            }
        }
        Ok(Options {
            clients: count(&clients, "client count", 3..=MAX_CLIENTS)?,
            messages: count(&messages, "message count", 1..=MAX_MESSAGES)?,
            samples: count(&samples, "sample count", 1..=100_000)?,
            servers: list,
        })
    }
}

/// The command that starts chat server `name`.
fn chat_command(name: &str, clients: usize) -> Result<Command, String> {
    if name == "tokio" {
        let mut c = Command::new(env::current_exe().map_err(|e| e.to_string())?);
        c.args(["--serve-tokio-chat", "127.0.0.1:0"]);
        return Ok(c);
    }
    let bin = threadkit_bin(Path::new(env!("CARGO_MANIFEST_DIR")));
    if !bin.is_file() {
        return Err(format!("{} not found (set THREADKIT_BIN)", bin.display()));
    }
    let mut c = Command::new(bin);
    c.args(["serve", "--chat", "--bind", "127.0.0.1:0", "--quiet"]);
    c.args([
        "--max-clients",
        &(clients + 8).to_string(),
        "--idle-timeout",
        "0",
    ]);
    if name == "threadkit-threads" {
        c.arg("--threads-per-connection");
    }
    Ok(c)
}

fn run(opts: &Options) -> Result<(), String> {
    println!(
        "chat_storm: {} clients x {} messages, /who p99 over {} round trips during a flood; servers in child processes on 127.0.0.1; {} cores shared by generator and server",
        opts.clients,
        opts.messages,
        opts.samples,
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut storms: BTreeMap<String, Duration> = BTreeMap::new();
    for name in &opts.servers {
        let start = chat_command(name, opts.clients).and_then(|c| ServerChild::start(name, c));
        let server = match start {
            Ok(s) => s,
            Err(e) => {
                println!("note: skipping {name}: {e}");
                continue;
            }
        };
        match server
            .addr()
            .and_then(|addr| storm(addr, opts.clients, opts.messages))
        {
            Ok(took) => {
                let lines = opts.clients * (opts.clients - 1) * opts.messages;
                println!(
                    "  {name:<19} storm: {:>8.3} s, {:>10.0} lines delivered/s",
                    took.as_secs_f64(),
                    lines as f64 / took.as_secs_f64()
                );
                storms.insert(name.clone(), took);
            }
            Err(e) => println!("  {name:<19} storm: failed: {e}"),
        }
        drop(server);
        // A fresh server for the second measurement: nothing left of the first.
        let start = chat_command(name, opts.clients).and_then(|c| ServerChild::start(name, c));
        match start.and_then(|server| who_under_flood(server.addr()?, opts.clients, opts.samples)) {
            Ok(w) => println!(
                "  {name:<19} /who during a flood: p50 {:>8.1} ms, p99 {:>8.1} ms, max {:>8.1} ms ({} answers, {} flood lines sent)",
                millis(w.p50),
                millis(w.p99),
                millis(w.max),
                w.samples,
                w.flood_lines
            ),
            Err(e) => println!("  {name:<19} /who during a flood: failed: {e}"),
        }
    }
    let ratio =
        |a: &str, b: &str| Some(storms.get(a)?.as_secs_f64() / storms.get(b)?.as_secs_f64());
    println!();
    println!("goals (storm time, lower is better):");
    for peer in ["threadkit-threads", "tokio"] {
        if let Some(r) = ratio("threadkit-scalable", peer) {
            println!(
                "  threadkit-scalable / {peer}: {r:.2}x the time (goal <= 1.0x: {})",
                if r <= 1.0 { "met" } else { "NOT met" }
            );
        }
    }
    Ok(())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A chat client: the stream (for writing) and a line reader over it.
struct Member {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Member {
    /// Connects and reads the welcome: then the server has it in the room.
    fn join(addr: SocketAddr) -> io::Result<Member> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        let mut member = Member {
            reader: BufReader::new(stream.try_clone()?),
            stream,
        };
        let welcome = member.line()?;
        if !welcome.starts_with("* welcome") {
            return Err(io::Error::other(format!("no welcome but {welcome:?}")));
        }
        Ok(member)
    }

    /// The next line, `\n` stripped; end of input is an error.
    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        line.pop();
        Ok(line)
    }
}

fn join_all(addr: SocketAddr, n: usize) -> Result<Vec<Member>, String> {
    (0..n)
        .map(|i| Member::join(addr).map_err(|e| format!("client {i} cannot join: {e}")))
        .collect()
}

/// `clients` join; then each sends `messages` lines and reads until it has
/// every other client's. The time from the first send to the last line read.
fn storm(addr: SocketAddr, clients: usize, messages: usize) -> Result<Duration, String> {
    let members = join_all(addr, clients)?;
    let want = (clients - 1) * messages;
    let go = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = members
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            let go = Arc::clone(&go);
            thread::spawn(move || -> Result<(), String> {
                go.wait();
                for j in 0..messages {
                    m.stream
                        .write_all(format!("message {j} from client {i}\n").as_bytes())
                        .map_err(|e| format!("client {i} cannot send: {e}"))?;
                }
                let mut got = 0;
                while got < want {
                    let line = m
                        .line()
                        .map_err(|e| format!("client {i} got {got} of {want}: {e}"))?;
                    // Notices (later joins) are not messages.
                    if !line.starts_with("* ") {
                        got += 1;
                    }
                }
                Ok(())
            })
        })
        .collect();
    go.wait();
    let start = Instant::now();
    let mut failure = None;
    for t in threads {
        if let Err(e) = t
            .join()
            .map_err(|_| "a client panicked".to_owned())
            .and_then(|r| r)
        {
            failure.get_or_insert(e);
        }
    }
    let took = start.elapsed();
    failure.map_or(Ok(took), Err)
}

struct WhoLatency {
    p50: Duration,
    p99: Duration,
    max: Duration,
    samples: usize,
    flood_lines: usize,
}

/// A room of `clients`: one floods, `clients - 2` drain, one asks `/who`
/// `samples` times.
fn who_under_flood(addr: SocketAddr, clients: usize, samples: usize) -> Result<WhoLatency, String> {
    let mut members = join_all(addr, clients)?;
    let mut asker = members.pop().expect("at least 3 clients");
    let flooder = members.pop().expect("at least 3 clients");
    let stop = Arc::new(AtomicBool::new(false));
    let drainers: Vec<_> = members
        .into_iter()
        .map(|m| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut reader = m.reader;
                let mut buf = [0u8; 16 * 1024];
                while !stop.load(Ordering::Relaxed) {
                    match io::Read::read(&mut reader, &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
        })
        .collect();
    let sent = Arc::new(AtomicUsize::new(0));
    let flooding = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        let mut stream = flooder.stream;
        thread::spawn(move || {
            let mut chunk = Vec::with_capacity(FLOOD_WRITE);
            let mut n = 0usize;
            while chunk.len() + 16 < FLOOD_WRITE {
                chunk.extend_from_slice(format!("flood {n:08}\n").as_bytes());
                n += 1;
            }
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < WHO_LIMIT {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
                sent.fetch_add(n, Ordering::Relaxed);
            }
        })
    };
    // Let the flood reach the server before the first question.
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let mut times = Vec::with_capacity(samples);
    let mut failure = None;
    while times.len() < samples && started.elapsed() < WHO_LIMIT {
        let asked = Instant::now();
        if let Err(e) = asker.stream.write_all(b"/who\n") {
            failure = Some(format!("cannot ask: {e}"));
            break;
        }
        let answered = loop {
            match asker.line() {
                Ok(line) if line.starts_with("* online:") => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = answered {
            failure = Some(format!(
                "no answer to /who after {} answers: {e}",
                times.len()
            ));
            break;
        }
        times.push(asked.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    drop(asker);
    // The flooder and drainers end at their next write or read: closing the
    // room (the server's drop) ends them all.
    let flood_lines = sent.load(Ordering::Relaxed);
    drop(flooding);
    drop(drainers);
    if let Some(e) = failure {
        return Err(e);
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(WhoLatency {
        p50: at(0.5),
        p99: at(0.99),
        max: *times.last().expect("samples >= 1"),
        samples: times.len(),
        flood_lines,
    })
}

/// The `tokio` chat server: the obvious way (see the module docs), until killed
/// or its parent is gone.
fn serve_tokio_chat(addr: SocketAddr) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("listening on {}", listener.local_addr()?);
        exit_with_parent();
        let (room, _) = tokio::sync::broadcast::channel::<(u64, Arc<str>)>(TOKIO_ROOM);
        let names: Arc<Mutex<BTreeMap<u64, String>>> = Arc::default();
        let mut next = 0u64;
        loop {
            let (conn, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            next += 1;
            let _ = conn.set_nodelay(true);
            tokio::spawn(tokio_member(conn, next, room.clone(), Arc::clone(&names)));
        }
    })
}

async fn tokio_member(
    mut conn: tokio::net::TcpStream,
    id: u64,
    room: tokio::sync::broadcast::Sender<(u64, Arc<str>)>,
    names: Arc<Mutex<BTreeMap<u64, String>>>,
) -> io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    use tokio::sync::broadcast::error::RecvError;
    let name = format!("guest-{id}");
    names.lock().unwrap().insert(id, name.clone());
    let mut inbox = room.subscribe();
    let (reader, mut writer) = conn.split();
    let mut reader = tokio::io::BufReader::new(reader);
    writer
        .write_all(format!("* welcome, you are {name}\n").as_bytes())
        .await?;
    let _ = room.send((id, format!("* {name} joined\n").into()));
    // Kept across `select!` turns: `read_until` appends, so a line cut by the
    // other branch is finished on the next turn.
    let mut line = Vec::new();
    let result = loop {
        tokio::select! {
            read = reader.read_until(b'\n', &mut line) => {
                match read {
                    Ok(0) | Err(_) => break Ok(()),
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']).to_owned();
                line.clear();
                if text == "/who" {
                    let online: Vec<String> = {
                        let mut v: Vec<String> = names.lock().unwrap().values().cloned().collect();
                        v.sort();
                        v
                    };
                    writer.write_all(format!("* online: {}\n", online.join(", ")).as_bytes()).await?;
                } else if !text.is_empty() {
                    let _ = room.send((id, format!("{name}: {text}\n").into()));
                }
            }
            got = inbox.recv() => match got {
                Ok((from, text)) if from != id => writer.write_all(text.as_bytes()).await?,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break Ok(()),
            },
        }
    };
    names.lock().unwrap().remove(&id);
    let _ = room.send((id, format!("* {name} left\n").into()));
    result
}
