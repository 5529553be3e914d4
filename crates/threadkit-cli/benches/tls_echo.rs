//! TLS load: request/response round trips of 64-byte lines, and full
//! handshakes, against TLS echo servers in processes of their own, on
//! loopback.
//!
//! ```text
//! cargo bench --bench tls_echo                           # C = 16, 256; 3 s each
//! cargo bench --bench tls_echo -- --conns 16 --secs 1 --rounds 3
//! ```
//!
//! Servers, started and stopped by this program in the same run, with one
//! self-signed ECDSA P-256 certificate made here (rcgen):
//!
//! - `threadkit-scalable`: `threadkit serve --quiet --tls-cert --tls-key` (the
//!   default event-loop model; `$THREADKIT_BIN`, default: the program cargo
//!   built for the bench);
//! - `threadkit-threads`: the same with `--threads-per-connection`;
//! - `tokio-rustls`: a tokio echo (multi-thread runtime, 2 workers, a task per
//!   connection) behind `tokio_rustls::TlsAcceptor` with the same rustls
//!   configuration (this binary re-executed with `--serve-tokio-rustls ADDR
//!   CERT KEY`).
//!
//! Echo: C client threads, each with a rustls client over a blocking
//! `TcpStream`, send a line, wait for it, and repeat until the time is up
//! (after a warm-up that is not counted). Handshakes: 16 client threads each
//! connect, handshake (resumption off: every handshake is a full one), send
//! one line, read it back and close, as often as they can. For scale, the same
//! without TLS against the plain servers of `echo_load` (`threadkit serve
//! --threads-per-connection`, `tokio`): what a connection costs the model
//! before TLS adds its part. Goals: threadkit ≥ 0.9× tokio-rustls for echo at
//! C = 16 and 256, and for the handshake rate.
//!
//! Idle (`--idle N`, off by default): N TLS clients connect, handshake and
//! echo one line each, then hold their sockets open without a byte more (the
//! client side keeps only the socket); the server's VmRSS before and with
//! all N idle, for `threadkit-scalable` and `tokio-rustls` (see `idle.rs`).
//! Rounds (`--rounds N`) interleave the servers, so drift on a shared machine
//! hits them alike; the median of the rounds is reported.
//!
//! Options (or environment variables): `--conns LIST` (`TLS_ECHO_CONNS`,
//! default `16,256`), `--secs S` (`TLS_ECHO_SECS`, default 3), `--warmup S`
//! (`TLS_ECHO_WARMUP`, default 0.5), `--rounds N` (`TLS_ECHO_ROUNDS`, default
//! 1), `--idle N` (`TLS_ECHO_IDLE`, default 0: no idle figure). The generator and the servers share the machine's cores: the figures
//! compare servers measured the same way in the same run.

#[allow(dead_code)] // shared with the echo benches; this one uses a part
mod echo_common;
#[path = "tls_echo/idle.rs"]
mod idle;

use std::env;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use echo_common::{
    exit_with_parent, parse_counts, parse_rounds, read_flags, seconds, threadkit_bin, Launch,
    ServerChild, LINE,
};
use threadkit::tls::rustls::{self, pki_types::ServerName, ClientConnection, StreamOwned};
use threadkit::tls::TlsConfig;

/// Any single read or write of a client gives up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Client threads of the handshake measurement.
const HANDSHAKE_CONNS: usize = 16;
/// The largest connection count accepted.
const MAX_CONNS: usize = 1024;
/// The most rounds accepted.
const MAX_ROUNDS: usize = 20;
/// The most idle connections accepted (the servers get `--max-clients`
/// above it).
const MAX_IDLE: usize = 15_000;
/// The servers, in the order measured, and their plain siblings
/// (`echo_common`); the last is the reference.
const SERVERS: [(&str, &str); 3] = [
    ("threadkit-scalable", "threadkit-scalable"),
    ("threadkit-threads", "threadkit-threads"),
    ("tokio-rustls", "tokio"),
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let Some(code) = echo_common::serve_mode(&args) {
        return code;
    }
    if let Some(i) = args.iter().position(|a| a == "--serve-tokio-rustls") {
        return echo_common::exit_code(
            "tokio-rustls echo server",
            serve_tokio_rustls(&args[i + 1..]),
        );
    }
    echo_common::exit_code(
        "tls_echo",
        Options::parse(&args).and_then(|opts| run(&opts)),
    )
}

struct Options {
    conns: Vec<usize>,
    secs: Duration,
    warmup: Duration,
    rounds: usize,
    idle: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let var = |name: &str, default: &str| env::var(name).unwrap_or_else(|_| default.into());
        let mut conns = var("TLS_ECHO_CONNS", "16,256");
        let mut secs = var("TLS_ECHO_SECS", "3");
        let mut warmup = var("TLS_ECHO_WARMUP", "0.5");
        let mut rounds = var("TLS_ECHO_ROUNDS", "1");
        let mut idle = var("TLS_ECHO_IDLE", "0");
        read_flags(
            args,
            &mut [
                ("--conns", &mut conns),
                ("--secs", &mut secs),
                ("--warmup", &mut warmup),
                ("--rounds", &mut rounds),
                ("--idle", &mut idle),
            ],
        )?;
        let conns = parse_counts(&conns, MAX_CONNS)?;
        let rounds = parse_rounds(&rounds, MAX_ROUNDS)?;
        let idle = match idle.trim() {
            "0" => 0,
            n => parse_counts(n, MAX_IDLE)?[0],
        };
        Ok(Options {
            idle,
            conns,
            secs: seconds(&secs)?,
            warmup: seconds(&warmup)?,
            rounds,
        })
    }
}

/// The certificate's files, removed on drop, and a client that trusts it.
pub(crate) struct Certs {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

impl Certs {
    fn new() -> Result<Certs, String> {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let mut params = rcgen::CertificateParams::new(names).map_err(|e| e.to_string())?;
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        let dir = env::temp_dir().join(format!("threadkit-tls-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).map_err(|e| e.to_string())?;
        std::fs::write(&key_path, key.serialize_pem()).map_err(|e| e.to_string())?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // Every handshake a full one.
        client.resumption = rustls::client::Resumption::disabled();
        Ok(Certs {
            dir,
            cert: cert_path,
            key: key_path,
            client: Arc::new(client),
        })
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn server_command(name: &str, certs: &Certs) -> Result<Command, String> {
    let (cert, key) = (certs.cert.as_os_str(), certs.key.as_os_str());
    match name {
        "threadkit-scalable" | "threadkit-threads" => {
            let bin = threadkit_bin(Path::new(env!("CARGO_MANIFEST_DIR")));
            let mut c = Command::new(bin);
            c.args(["serve", "--bind", "127.0.0.1:0", "--quiet"])
                .args(["--idle-timeout", "0"])
                .args(["--max-clients", &(MAX_IDLE + 100).to_string()]);
            if name == "threadkit-threads" {
                c.arg("--threads-per-connection");
            }
            c.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            Ok(c)
        }
        _ => {
            let exe = env::current_exe().map_err(|e| e.to_string())?;
            let mut c = Command::new(exe);
            c.args(["--serve-tokio-rustls", "127.0.0.1:0"])
                .arg(cert)
                .arg(key);
            Ok(c)
        }
    }
}

/// A rustls line client over a blocking socket, handshaken.
pub(crate) fn connect(
    addr: SocketAddr,
    certs: &Certs,
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let sock = TcpStream::connect(addr)?;
    sock.set_nodelay(true)?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    let name = ServerName::try_from("localhost").expect("a name");
    let conn = ClientConnection::new(Arc::clone(&certs.client), name).map_err(io::Error::other)?;
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// One line there and back.
pub(crate) fn round_trip(
    reader: &mut BufReader<StreamOwned<ClientConnection, TcpStream>>,
    line: &[u8],
    back: &mut Vec<u8>,
) -> io::Result<()> {
    reader.get_mut().write_all(line)?;
    back.clear();
    reader.read_until(b'\n', back)?;
    if back.as_slice() != line {
        return Err(io::Error::other("the echo differs"));
    }
    Ok(())
}

/// Runs `clients` threads of `work` (which counts into the counter it gets)
/// for the warm-up and then `secs`; the count per second after the warm-up.
fn measure(
    clients: usize,
    warmup: Duration,
    secs: Duration,
    work: impl Fn(&AtomicUsize, &AtomicBool) -> io::Result<()> + Sync,
) -> Result<f64, String> {
    let count = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failed = AtomicUsize::new(0);
    let elapsed = thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                if let Err(e) = work(&count, &stop) {
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("  a client failed: {e}");
                    }
                }
            });
        }
        thread::sleep(warmup);
        let (start, at_start) = (Instant::now(), count.load(Ordering::Relaxed));
        thread::sleep(secs);
        let done = count.load(Ordering::Relaxed) - at_start;
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        (done, elapsed)
    });
    match failed.load(Ordering::Relaxed) {
        0 => Ok(elapsed.0 as f64 / elapsed.1.as_secs_f64()),
        n => Err(format!("{n} of {clients} clients failed")),
    }
}

fn echo_rate(addr: SocketAddr, certs: &Certs, conns: usize, opts: &Options) -> Result<f64, String> {
    let line: Vec<u8> = [vec![b'x'; LINE - 1], vec![b'\n']].concat();
    measure(conns, opts.warmup, opts.secs, |count, stop| {
        let mut reader = BufReader::new(connect(addr, certs)?);
        let mut back = Vec::with_capacity(LINE);
        while !stop.load(Ordering::Relaxed) {
            round_trip(&mut reader, &line, &mut back)?;
            count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
}

fn handshake_rate(addr: SocketAddr, certs: &Certs, opts: &Options) -> Result<f64, String> {
    let line: Vec<u8> = [vec![b'h'; LINE - 1], vec![b'\n']].concat();
    measure(HANDSHAKE_CONNS, opts.warmup, opts.secs, |count, stop| {
        let mut back = Vec::with_capacity(LINE);
        while !stop.load(Ordering::Relaxed) {
            let mut reader = BufReader::new(connect(addr, certs)?);
            round_trip(&mut reader, &line, &mut back)?;
            reader.get_mut().conn.send_close_notify();
            let _ = reader.get_mut().flush();
            count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
}

/// Plain TCP: connect, one line there and back, close.
fn connect_rate(addr: SocketAddr, opts: &Options) -> Result<f64, String> {
    let line: Vec<u8> = [vec![b'p'; LINE - 1], vec![b'\n']].concat();
    measure(HANDSHAKE_CONNS, opts.warmup, opts.secs, |count, stop| {
        let mut back = Vec::with_capacity(LINE);
        while !stop.load(Ordering::Relaxed) {
            let sock = TcpStream::connect(addr)?;
            sock.set_nodelay(true)?;
            sock.set_read_timeout(Some(IO_TIMEOUT))?;
            (&sock).write_all(&line)?;
            back.clear();
            BufReader::new(&sock).read_until(b'\n', &mut back)?;
            if back != line {
                return Err(io::Error::other("the echo differs"));
            }
            count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(opts: &Options) -> Result<(), String> {
    let certs = Certs::new()?;
    // (server, test) -> the rates of the rounds
    let mut results: Vec<((usize, String), Vec<f64>)> = Vec::new();
    let mut record = |server: usize, test: String, rate: f64| match results
        .iter_mut()
        .find(|(k, _)| k.0 == server && k.1 == test)
    {
        Some((_, rates)) => rates.push(rate),
        None => results.push(((server, test), vec![rate])),
    };
    for round in 1..=opts.rounds {
        for (i, (name, plain)) in SERVERS.iter().enumerate() {
            let launch = Launch {
                python: "python3",
                backlog: None,
                max_clients: None,
            };
            let server = ServerChild::start(plain, echo_common::server_command(plain, &launch)?)?;
            let rate = connect_rate(server.addr()?, opts)?;
            eprintln!("round {round}: {plain:<18} plain connects {rate:>7.0} /s");
            record(i, "plain connects (no TLS)".into(), rate);
            drop(server);
            let server = ServerChild::start(name, server_command(name, &certs)?)?;
            for &c in &opts.conns {
                let rate = echo_rate(server.addr()?, &certs, c, opts)?;
                eprintln!("round {round}: {name:<18} echo C={c:<4} {rate:>10.0} round trips/s");
                record(i, format!("echo C={c}"), rate);
            }
            let rate = handshake_rate(server.addr()?, &certs, opts)?;
            eprintln!("round {round}: {name:<18} handshakes  {rate:>10.0} /s");
            record(i, "handshakes".into(), rate);
        }
    }
    println!(
        "\n| test | threadkit-scalable | threadkit-threads | tokio-rustls | ratios to tokio-rustls (goal >= 0.9) |"
    );
    println!("|---|---|---|---|---|");
    let tests: Vec<String> = results
        .iter()
        .filter(|((s, _), _)| *s == 0)
        .map(|((_, t), _)| t.clone())
        .collect();
    for test in tests {
        let of = |server: usize| {
            results
                .iter()
                .find(|((s, t), _)| *s == server && *t == test)
                .map(|(_, rates)| median(rates.clone()))
                .unwrap_or(f64::NAN)
        };
        let (scalable, threads, theirs) = (of(0), of(1), of(2));
        let unit = if test.starts_with("echo") {
            " rt/s"
        } else {
            "/s"
        };
        println!(
            "| {test} | {scalable:.0}{unit} | {threads:.0}{unit} | {theirs:.0}{unit} | {:.2}x, {:.2}x |",
            scalable / theirs,
            threads / theirs
        );
    }
    if opts.idle > 0 {
        idle::run(opts.idle, opts.rounds, &certs)?;
    }
    Ok(())
}

/// The `tokio-rustls` server: `ADDR CERT KEY`; a line echo per connection
/// behind the acceptor, until killed or its parent is gone.
fn serve_tokio_rustls(args: &[String]) -> io::Result<()> {
    let [addr, cert, key, ..] = args else {
        return Err(io::Error::other(
            "usage: --serve-tokio-rustls ADDR CERT KEY",
        ));
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| io::Error::other(format!("bad address {addr}")))?;
    let config = TlsConfig::from_pem_files(cert, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(config.rustls_config()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("listening on {}", listener.local_addr()?);
        exit_with_parent();
        loop {
            let (conn, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = conn.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(conn).await {
                    let _ = echo_lines(tls).await;
                }
            });
        }
    })
}

async fn echo_lines(
    conn: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (reader, mut writer) = tokio::io::split(conn);
    let mut reader = tokio::io::BufReader::new(reader);
    let mut line = Vec::with_capacity(LINE);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        writer.write_all(&line).await?;
    }
}
