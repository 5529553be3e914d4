//! The idle figure of `tls_echo`: N TLS connections held open, and what the
//! server's resident memory says of them.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::echo_common::{ServerChild, LINE};
use super::{connect, median, round_trip, server_command, Certs};

/// The servers of the idle figure (a thread per connection would be 10,000
/// threads: `echo_scale` measures that model's plain idle cost).
const SERVERS: [&str; 2] = ["threadkit-scalable", "tokio-rustls"];
/// Client threads that connect and handshake.
const CONNECTORS: usize = 16;
/// The whole connect phase gives up after this.
const CONNECT_PHASE: Duration = Duration::from_secs(120);
/// How long the server gets to settle before a reading.
const SETTLE: Duration = Duration::from_millis(500);

/// One server's reading.
struct Row {
    server: &'static str,
    connected: usize,
    rss_before: u64,
    rss_idle: u64,
    threads: u64,
    connect_time: Duration,
}

impl Row {
    fn kib_per_conn(&self) -> f64 {
        self.rss_idle.saturating_sub(self.rss_before) as f64 / self.connected.max(1) as f64
    }
}

/// Measures `n` idle TLS connections against each server, `rounds` times,
/// and prints the readings and their medians.
pub(crate) fn run(n: usize, rounds: usize, certs: &Certs) -> Result<(), String> {
    let mut rows = Vec::new();
    for round in 1..=rounds {
        for name in SERVERS {
            let server = ServerChild::start(name, server_command(name, certs)?)?;
            let row = measure(name, &server, n, certs)?;
            eprintln!(
                "idle round {round}: {name:<18} {}/{n} TLS connections in {:.1} s; VmRSS {:.1} -> {:.1} MiB ({:.1} KiB/conn), {} threads",
                row.connected,
                row.connect_time.as_secs_f64(),
                row.rss_before as f64 / 1024.0,
                row.rss_idle as f64 / 1024.0,
                row.kib_per_conn(),
                row.threads,
            );
            rows.push(row);
        }
    }
    println!("\n| {n} idle TLS connections | server VmRSS (median) | per connection |");
    println!("|---|---|---|");
    for name in SERVERS {
        let of: Vec<&Row> = rows.iter().filter(|r| r.server == name).collect();
        let rss = median(of.iter().map(|r| r.rss_idle as f64).collect());
        let per = median(of.iter().map(|r| r.kib_per_conn()).collect());
        println!("| {name} | {:.1} MiB | {per:.1} KiB |", rss / 1024.0);
    }
    Ok(())
}

/// Connects `n` TLS clients (a handshake and one line each), keeps only
/// their sockets, and reads the server's VmRSS once it settled.
fn measure(
    name: &'static str,
    server: &ServerChild,
    n: usize,
    certs: &Certs,
) -> Result<Row, String> {
    thread::sleep(SETTLE);
    let addr = server.addr()?;
    let rss_before = server.status("VmRSS").unwrap_or(0);
    let held: Mutex<Vec<TcpStream>> = Mutex::new(Vec::with_capacity(n));
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..CONNECTORS {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    if start.elapsed() > CONNECT_PHASE {
                        return;
                    }
                    match open(addr, certs) {
                        Ok(sock) => held.lock().unwrap().push(sock),
                        Err(e) => {
                            if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("  an idle client failed: {e}");
                            }
                        }
                    }
                }
            });
        }
    });
    let connect_time = start.elapsed();
    thread::sleep(SETTLE);
    let held = held.into_inner().unwrap();
    let row = Row {
        server: name,
        connected: held.len(),
        rss_before,
        rss_idle: server.status("VmRSS").unwrap_or(0),
        threads: server.status("Threads").unwrap_or(0),
        connect_time,
    };
    drop(held);
    match failed.load(Ordering::Relaxed) {
        0 => Ok(row),
        f => Err(format!("{name}: {f} of {n} idle clients failed")),
    }
}

/// One client: handshake, a line there and back, then only its socket.
fn open(addr: SocketAddr, certs: &Certs) -> std::io::Result<TcpStream> {
    let line: Vec<u8> = [vec![b'i'; LINE - 1], vec![b'\n']].concat();
    let mut reader = BufReader::new(connect(addr, certs)?);
    round_trip(&mut reader, &line, &mut Vec::with_capacity(LINE))?;
    Ok(reader.into_inner().sock)
}
