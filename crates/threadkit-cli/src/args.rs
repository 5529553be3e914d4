//! The command line: clap's structs, and the parsers that refuse a bad value as a
//! usage error (exit 2) naming it, before anything starts.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Python's threading and socketserver model in Rust: an echo or chat server, an
/// interactive client, and UDP echo.
#[derive(Debug, Parser)]
#[command(
    name = "threadkit",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 success, 1 runtime error (one line on stderr), 2 usage error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a line server (TCP or a Unix socket): echo (the default) or a chat room.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Talk to a line server: stdin goes out line by line, what arrives is printed.
    Connect(ConnectArgs),
    /// Run a datagram echo server (UDP or a Unix socket): every datagram goes back to its sender.
    UdpServe(UdpServeArgs),
    /// Send one datagram (UDP or a Unix socket) and print the reply.
    UdpSend(UdpSendArgs),
}

/// What `serve --help` says after the flags: stderr, signals, exit codes.
const SERVE_HELP: &str = "\
stderr: the first line is `listening on ADDR`, then (unless --quiet) one line per
connect and disconnect. A log thread writes them: when stderr is not read, lines are
dropped and counted (`(N log lines dropped)` once writing works again), so logging
never stalls the server.

Signals: SIGINT or SIGTERM tells clients `* server shutting down` and exits 0 (a second
one exits at once); SIGUSR1 writes a thread dump (internal threads marked) to stderr.

Exit codes: 0 success, 1 runtime error (one line on stderr), 2 usage error.";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Run the chat room instead of echo.
    #[arg(long)]
    pub chat: bool,
    /// Address to listen on: HOST:PORT (port 0: any free port; the first stderr line
    /// says which), or unix:PATH for a Unix socket (a stale socket file there is
    /// replaced, a live one refused; removed at exit).
    #[arg(long, default_value = "127.0.0.1:9000", value_parser = bind)]
    pub bind: Bind,
    /// Most clients at once (at least 1); one more is told `* error: server full`
    /// and closed.
    #[arg(long, default_value = "1024", value_parser = count)]
    pub max_clients: usize,
    /// Longest line in bytes before the `\n` (at least 1); a longer one closes the
    /// connection.
    #[arg(long, default_value = "65536", value_parser = count)]
    pub max_line: usize,
    /// Seconds a client may go without sending a complete line before it is closed
    /// (fractions allowed; 0 = off; at most one year).
    #[arg(long, default_value = "300", value_parser = seconds)]
    pub idle_timeout: Duration,
    /// Bytes of unsent output per client (at least 1) before backpressure (echo) or
    /// a drop (chat).
    #[arg(long, default_value = "1048576", value_parser = count)]
    pub max_queue: usize,
    /// Pending connections the kernel queues before accept (listen backlog; at
    /// least 1).
    #[arg(long, default_value = "1024", value_parser = backlog)]
    pub backlog: i32,
    /// Microseconds a worker of the default model polls for events before it
    /// sleeps, when its last wait was no longer (saves waking it at a steady load,
    /// but takes the CPU from whatever shares the cores; 0 = never; at most
    /// 1000000).
    #[arg(long, value_name = "MICROS", default_value = "0", value_parser = micros)]
    pub busy_poll: Duration,
    /// Event-loop threads of the default model (1 to 1024; default: one per core).
    /// More than the cores can pay when clients are threads that each wait for
    /// their answer (see README, Measured: Servers).
    #[arg(long, value_name = "N", value_parser = workers, conflicts_with = "threads_per_connection")]
    pub workers: Option<usize>,
    /// Python's model: one thread per client (default: a few event-loop threads, one
    /// per core, serving every client).
    #[arg(long)]
    pub threads_per_connection: bool,
    /// Print only the first line (`listening on ADDR`) and warnings.
    #[arg(long)]
    pub quiet: bool,
    /// Serve the live thread page (and /threads.json, /server.json) on ADDR and
    /// print each deadlock found to stderr; a port alone means 127.0.0.1:PORT.
    #[arg(long, value_name = "ADDR")]
    pub monitor: Option<String>,
    /// Speak TLS with the certificate chain in this PEM file (the server's
    /// certificate first); needs --tls-key. Either model serves TLS.
    #[arg(long, value_name = "CERT.pem", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert, a PEM file (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "KEY.pem", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Server address: HOST:PORT, or unix:PATH.
    pub addr: String,
    /// Seconds to wait for the connection, and then for the TLS handshake (fractions
    /// allowed; 0 = no limit; at most one year).
    #[arg(long, default_value = "5", value_parser = seconds)]
    pub timeout: Duration,
    /// Speak TLS: the server's certificate must name HOST and be vouched for by
    /// --ca, or by the system's certificate store.
    #[arg(long)]
    pub tls: bool,
    /// Trust only the certificates in this PEM file (a CA, or a self-signed server
    /// certificate itself); needs --tls.
    #[arg(long, value_name = "CA.pem", requires = "tls")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UdpServeArgs {
    /// Address to listen on: HOST:PORT (port 0: any free port; the first stderr line
    /// says which), or unix:PATH for a Unix socket (a stale socket file there is
    /// replaced, a live one refused; removed at exit).
    #[arg(long, default_value = "127.0.0.1:9000", value_parser = bind)]
    pub bind: Bind,
}

#[derive(Debug, Args)]
pub struct UdpSendArgs {
    /// Server address: HOST:PORT, or unix:PATH.
    pub addr: String,
    /// The datagram, sent as is (no newline added).
    pub message: String,
    /// Seconds to wait for the reply (fractions allowed; at most one year).
    #[arg(long, default_value = "2", value_parser = seconds)]
    pub wait: Duration,
}

/// Where a server listens: `HOST:PORT`, or `unix:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `HOST:PORT`, resolved when the server binds (`localhost:0`, `[::1]:9000`).
    Inet(String),
    /// `unix:PATH`.
    Unix(PathBuf),
}

impl fmt::Display for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Inet(addr) => f.write_str(addr),
            Bind::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Parses `--bind`: `unix:PATH`, or `HOST:PORT` with a port of 0-65535 and a
/// host (an IPv6 one in brackets).
fn bind(s: &str) -> Result<Bind, String> {
    let expected = || "expected HOST:PORT (such as 127.0.0.1:9000) or unix:PATH".to_string();
    if let Some(path) = s.strip_prefix("unix:") {
        return if path.is_empty() {
            Err(expected())
        } else {
            Ok(Bind::Unix(PathBuf::from(path)))
        };
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(expected)?;
    let bracketed = host.len() > 2 && host.starts_with('[') && host.ends_with(']');
    let needs_brackets = host.contains(':') || host.starts_with('[');
    if host.is_empty() || (needs_brackets && !bracketed) || port.parse::<u16>().is_err() {
        return Err(expected());
    }
    Ok(Bind::Inet(s.to_string()))
}

/// Parses a count that must be at least 1.
fn count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a whole number, at least 1".to_string()),
    }
}

/// Parses the listen backlog: a count that fits the system's `int`.
fn backlog(s: &str) -> Result<i32, String> {
    let n = count(s)?;
    i32::try_from(n).map_err(|_| format!("must be at most {}", i32::MAX))
}

/// The most `--workers`: each is a thread with its own event loop.
const MAX_WORKERS: usize = 1024;

/// Parses `--workers`: a count from 1 to [`MAX_WORKERS`].
fn workers(s: &str) -> Result<usize, String> {
    match count(s)? {
        n if n <= MAX_WORKERS => Ok(n),
        _ => Err(format!("must be at most {MAX_WORKERS}")),
    }
}

/// The longest `--busy-poll`: one second.
const MAX_MICROS: u64 = 1_000_000;

/// Parses whole microseconds, from 0 to one second.
fn micros(s: &str) -> Result<Duration, String> {
    match s.parse::<u64>() {
        Ok(n) if n <= MAX_MICROS => Ok(Duration::from_micros(n)),
        Ok(_) => Err(format!("must be at most {MAX_MICROS} (one second)")),
        Err(_) => Err("expected a whole number of microseconds".to_string()),
    }
}

/// The longest time the program accepts: one year.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Parses seconds, fractions allowed (`300`, `0.5`), from 0 to one year.
fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| "expected a number of seconds".to_string())?;
    if v.is_nan() || v < 0.0 {
        return Err("expected a number of seconds, 0 or more".to_string());
    }
    if v > MAX_SECONDS {
        return Err(format!("must be at most one year ({MAX_SECONDS} s)"));
    }
    Duration::try_from_secs_f64(v).map_err(|_| "expected a number of seconds".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_host_port_and_unix_path_only() {
        for ok in [
            "127.0.0.1:0",
            "localhost:9000",
            "[::1]:0",
            "example.org:65535",
        ] {
            assert_eq!(bind(ok), Ok(Bind::Inet(ok.to_string())), "{ok}");
        }
        assert_eq!(bind("unix:/tmp/s"), Ok(Bind::Unix("/tmp/s".into())));
        for bad in [
            "nonsense",
            ":9000",
            "host:",
            "host:65536",
            "::1:0",
            "[]:0",
            "unix:",
        ] {
            assert!(bind(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_refuse_negative_nan_and_over_a_year() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("31536000"), Ok(Duration::from_secs(31_536_000)));
        for bad in ["-1", "NaN", "inf", "31536000.5", "1e19", "soon"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn micros_take_zero_to_one_second() {
        assert_eq!(micros("0"), Ok(Duration::ZERO));
        assert_eq!(micros("1000000"), Ok(Duration::from_secs(1)));
        for bad in ["1000001", "-1", "0.5", "soon"] {
            assert!(micros(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workers_take_one_to_1024() {
        assert_eq!(workers("1"), Ok(1));
        assert_eq!(workers("1024"), Ok(1024));
        for bad in ["0", "1025", "-1", "two"] {
            assert!(workers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_start_at_one() {
        assert_eq!(count("1"), Ok(1));
        assert!(count("0").is_err());
        assert!(count("-3").is_err());
        assert!(backlog("2147483648").is_err());
    }
}
