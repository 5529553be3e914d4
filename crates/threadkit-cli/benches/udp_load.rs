//! UDP load: datagrams answered by UDP echo servers running in processes of
//! their own, on loopback.
//!
//! ```text
//! cargo bench --bench udp_load                       # every server, 3 s each
//! cargo bench --bench udp_load -- --secs 1 --servers threadkit,tokio
//! ```
//!
//! Servers, each a child process started and stopped by this program in the same
//! run:
//!
//! - `threadkit`: `threadkit udp-serve --bind 127.0.0.1:0` (a reading loop and a
//!   small pool; it asks for a 4 MiB receive buffer), from `$THREADKIT_BIN`
//!   (default: the program cargo built for the bench);
//! - `python`: CPython's `socketserver.ThreadingUDPServer`, a thread per datagram
//!   (`benches/udp_echo_server.py`);
//! - `tokio`: a tokio UDP echo written the obvious way (this binary re-executed
//!   with `--serve-tokio-udp ADDR`): one task, `recv_from` then `send_to`, on a
//!   current-thread runtime;
//! - `tokio-rcvbuf`: the same asking for a 4 MiB receive buffer, as threadkit
//!   does (the buffer, not the threads, is most of what a burst needs).
//!
//! The Python and `tokio` servers keep the system's default receive buffer.
//!
//! Two measurements per server:
//!
//! 1. **burst**: 10 senders each send 1,000 datagrams as fast as loopback takes
//!    them, each reading its answers on a thread of its own; how many of the
//!    10,000 come back (the hardening issue's burst).
//! 2. **rate**: `--clients` senders each keep `--window` datagrams in flight
//!    for `--secs` seconds (a lost one is given up after 100 ms and sent anew);
//!    datagrams answered per second.
//!
//! Options (or environment variables): `--secs S` (`UDP_LOAD_SECS`, default 3),
//! `--clients N` (`UDP_LOAD_CLIENTS`, default 4), `--window W`
//! (`UDP_LOAD_WINDOW`, default 16), `--servers LIST` (`UDP_LOAD_SERVERS`,
//! default `threadkit,python,tokio,tokio-rcvbuf`), `--python PATH` (`PYTHON`, default
//! `python3`).
//!
//! The generator and the server share the machine's cores: the figures compare
//! servers measured the same way in the same run, not absolute capacity.

#[allow(dead_code)] // shared with the echo benches; this one uses a part
mod echo_common;

use std::collections::BTreeMap;
use std::env;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use echo_common::{exit_with_parent, read_flags, threadkit_bin, ServerChild};

/// Senders and datagrams each of the burst.
const BURST_SENDERS: usize = 10;
const BURST_EACH: usize = 1_000;
/// A burst's reader gives up after this long without an answer.
const BURST_QUIET: Duration = Duration::from_millis(500);
/// A rate client gives its window up as lost after this long without an answer.
const RATE_LOSS: Duration = Duration::from_millis(100);
/// The longest run accepted, in seconds.
const MAX_SECS: f64 = 60.0;
/// What every datagram carries: 32 bytes.
const PAYLOAD: &[u8] = b"udp_load datagram of 32 bytes..\n";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-tokio-udp") {
        let addr = args.get(i + 1).map_or("127.0.0.1:0", String::as_str);
        let rcvbuf = args.iter().any(|a| a == "--rcvbuf");
        return echo_common::exit_code(
            "tokio UDP server",
            addr.parse()
                .map_err(io::Error::other)
                .and_then(|addr| serve_tokio_udp(addr, rcvbuf)),
        );
    }
    echo_common::exit_code(
        "udp_load",
        Options::parse(&args).and_then(|opts| run(&opts)),
    )
}

struct Options {
    secs: Duration,
    clients: usize,
    window: usize,
    servers: Vec<String>,
    python: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let var = |name: &str, default: &str| env::var(name).unwrap_or_else(|_| default.into());
        let mut secs = var("UDP_LOAD_SECS", "3");
        let mut clients = var("UDP_LOAD_CLIENTS", "4");
        let mut window = var("UDP_LOAD_WINDOW", "16");
        let mut servers = var("UDP_LOAD_SERVERS", "threadkit,python,tokio,tokio-rcvbuf");
        let mut python = var("PYTHON", "python3");
        read_flags(
            args,
            &mut [
                ("--secs", &mut secs),
                ("--clients", &mut clients),
                ("--window", &mut window),
                ("--servers", &mut servers),
                ("--python", &mut python),
            ],
        )?;
        let count = |text: &str, what: &str| {
            text.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| format!("bad {what} {text:?} (1..=256)"))
        };
        let secs = match secs.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s <= MAX_SECS => Duration::from_secs_f64(s),
            _ => return Err(format!("bad number of seconds {secs:?}")),
        };
        let mut list = Vec::new();
        for name in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "threadkit" | "python" | "tokio" | "tokio-rcvbuf" => list.push(name.to_owned()),
                other => {
                    return Err(format!(
                        "unknown server {other:?} (threadkit, python, tokio, tokio-rcvbuf)"
                    ))
                }
            }
        }
        Ok(Options {
            secs,
            clients: count(&clients, "client count")?,
            window: count(&window, "window")?,
            servers: list,
            python,
        })
    }
}

/// The command that starts UDP echo server `name`.
fn udp_command(name: &str, python: &str) -> Result<Command, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(match name {
        "tokio" | "tokio-rcvbuf" => {
            let mut c = Command::new(env::current_exe().map_err(|e| e.to_string())?);
            c.args(["--serve-tokio-udp", "127.0.0.1:0"]);
            if name == "tokio-rcvbuf" {
                c.arg("--rcvbuf");
            }
            c
        }
        "python" => {
            let mut c = Command::new(python);
            c.arg(root.join("benches/udp_echo_server.py"))
                .arg("127.0.0.1:0");
            c
        }
        _ => {
            let bin = threadkit_bin(root);
            if !bin.is_file() {
                return Err(format!("{} not found (set THREADKIT_BIN)", bin.display()));
            }
            let mut c = Command::new(bin);
            c.args(["udp-serve", "--bind", "127.0.0.1:0"]);
            c
        }
    })
}

fn run(opts: &Options) -> Result<(), String> {
    println!(
        "udp_load: burst of {BURST_SENDERS} x {BURST_EACH} datagrams; rate with {} clients x {} in flight for {:.1} s; {}-byte datagrams; servers in child processes on 127.0.0.1; {} cores shared by generator and server",
        opts.clients,
        opts.window,
        opts.secs.as_secs_f64(),
        PAYLOAD.len(),
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rates: BTreeMap<String, f64> = BTreeMap::new();
    for name in &opts.servers {
        let server = match udp_command(name, &opts.python).and_then(|c| ServerChild::start(name, c))
        {
            Ok(s) => s,
            Err(e) => {
                println!("note: skipping {name}: {e}");
                continue;
            }
        };
        let addr = server.addr()?;
        let answered = burst(addr).map_err(|e| format!("{name}: {e}"))?;
        let total = BURST_SENDERS * BURST_EACH;
        println!(
            "  {name:<10} burst: {answered:>6} of {total} answered ({:.1}%)",
            100.0 * answered as f64 / total as f64
        );
        let (answered, lost) =
            rate(addr, opts.clients, opts.window, opts.secs).map_err(|e| format!("{name}: {e}"))?;
        let per_sec = answered as f64 / opts.secs.as_secs_f64();
        println!("  {name:<10} rate:  {per_sec:>10.0} datagrams answered/s ({lost} windows lost)");
        if let (Some(hwm), Some(threads)) = (server.status("VmHWM"), server.status("Threads")) {
            println!(
                "  {name:<10} peak RSS {:.1} MiB, {threads} threads at the end",
                hwm as f64 / 1024.0
            );
        }
        rates.insert(name.clone(), per_sec);
    }
    println!();
    for peer in ["python", "tokio"] {
        if let (Some(ours), Some(theirs)) = (rates.get("threadkit"), rates.get(peer)) {
            println!(
                "  threadkit / {peer}: {:.2}x the datagrams answered per second",
                ours / theirs
            );
        }
    }
    Ok(())
}

/// A client socket on loopback with a receive buffer for every answer.
fn client() -> io::Result<UdpSocket> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    // Best effort: the system may grant less.
    let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(4 << 20);
    Ok(sock)
}

/// The burst (see the module docs): how many answers came back.
fn burst(addr: SocketAddr) -> io::Result<usize> {
    let go = Arc::new(Barrier::new(BURST_SENDERS));
    let senders: Vec<_> = (0..BURST_SENDERS)
        .map(|_| {
            let go = Arc::clone(&go);
            let sock = client()?;
            sock.set_read_timeout(Some(BURST_QUIET))?;
            Ok(thread::spawn(move || -> io::Result<usize> {
                let reader_sock = sock.try_clone()?;
                let reader = thread::spawn(move || {
                    let mut buf = [0u8; 64];
                    let mut got = 0;
                    while got < BURST_EACH && reader_sock.recv_from(&mut buf).is_ok() {
                        got += 1;
                    }
                    got
                });
                go.wait();
                for _ in 0..BURST_EACH {
                    // A full send buffer is a datagram lost, as on a network.
                    let _ = sock.send_to(PAYLOAD, addr);
                }
                Ok(reader.join().unwrap_or(0))
            }))
        })
        .collect::<io::Result<_>>()?;
    let mut answered = 0;
    for s in senders {
        answered += s
            .join()
            .map_err(|_| io::Error::other("a sender panicked"))??;
    }
    Ok(answered)
}

/// The rate (see the module docs): answers, and windows given up as lost.
fn rate(
    addr: SocketAddr,
    clients: usize,
    window: usize,
    secs: Duration,
) -> io::Result<(usize, usize)> {
    let deadline = Instant::now() + secs;
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let sock = client()?;
            sock.set_read_timeout(Some(RATE_LOSS))?;
            Ok(thread::spawn(move || -> io::Result<(usize, usize)> {
                let (mut answered, mut lost) = (0, 0);
                let mut buf = [0u8; 64];
                let mut in_flight = 0;
                while Instant::now() < deadline {
                    while in_flight < window {
                        let _ = sock.send_to(PAYLOAD, addr);
                        in_flight += 1;
                    }
                    match sock.recv_from(&mut buf) {
                        Ok(_) => {
                            answered += 1;
                            in_flight -= 1;
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) =>
                        {
                            // Nothing for a while: what is in flight was lost.
                            lost += 1;
                            in_flight = 0;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok((answered, lost))
            }))
        })
        .collect::<io::Result<_>>()?;
    let (mut answered, mut lost) = (0, 0);
    for t in threads {
        let (a, l) = t
            .join()
            .map_err(|_| io::Error::other("a client panicked"))??;
        answered += a;
        lost += l;
    }
    Ok((answered, lost))
}

/// The `tokio` UDP echo: the obvious way (see the module docs), with a 4 MiB
/// receive buffer asked for when `rcvbuf`; until killed or its parent is gone.
fn serve_tokio_udp(addr: SocketAddr, rcvbuf: bool) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let std_sock = UdpSocket::bind(addr)?;
        if rcvbuf {
            socket2::SockRef::from(&std_sock).set_recv_buffer_size(4 << 20)?;
        }
        std_sock.set_nonblocking(true)?;
        let sock = tokio::net::UdpSocket::from_std(std_sock)?;
        eprintln!("listening on {}", sock.local_addr()?);
        exit_with_parent();
        let mut buf = vec![0u8; 65_536];
        loop {
            match sock.recv_from(&mut buf).await {
                Ok((n, peer)) => {
                    let _ = sock.send_to(&buf[..n], peer).await;
                }
                Err(e) => {
                    eprintln!("recv_from: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}
