//! The `threadkit` program: an echo or chat server, an interactive client, and UDP.
//!
//! Parsing, signals and the open-files limit live here; every protocol lives in the
//! library (`threadkit::server`, `threadkit::client`), where tests reach it.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use threadkit::monitor;
use threadkit::server::{
    ChatRoom, Echo, Model, ServerConfig, ServerEvent, Service, TcpServer, UdpEcho, UdpServer,
};
use threadkit::threading::{self, Thread, ThreadInfo};

/// Python's threading and socketserver model in Rust: an echo or chat server, an
/// interactive client, and UDP echo.
#[derive(Debug, Parser)]
#[command(name = "threadkit", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a TCP line server: echo (the default) or a chat room.
    Serve(ServeArgs),
    /// Talk to a TCP line server: stdin goes out line by line, what arrives is printed.
    Connect(ConnectArgs),
    /// Run a UDP echo server: every datagram goes back to its sender.
    UdpServe(UdpServeArgs),
    /// Send one UDP datagram and print the reply.
    UdpSend(UdpSendArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Run the chat room instead of echo.
    #[arg(long)]
    chat: bool,
    /// Address to listen on (port 0: any free port; the first stderr line says which).
    #[arg(long, default_value = "127.0.0.1:9000")]
    bind: String,
    /// Most clients at once; one more is told `* error: server full` and closed.
    #[arg(long, default_value_t = 1024)]
    max_clients: usize,
    /// Longest line in bytes (before the `\n`); a longer one closes the connection.
    #[arg(long, default_value_t = 65536)]
    max_line: usize,
    /// Seconds a client may stay silent before it is closed (fractions allowed; 0 = off).
    #[arg(long, default_value = "300", value_parser = seconds)]
    idle_timeout: Duration,
    /// Bytes of unsent output per client before backpressure (echo) or a drop (chat).
    #[arg(long, default_value_t = 1_048_576)]
    max_queue: usize,
    /// Pending connections the kernel queues before accept (listen backlog).
    #[arg(long, default_value_t = 1024)]
    backlog: i32,
    /// Python's model: one thread per client (default: a few event-loop threads, one
    /// per core, serving every client).
    #[arg(long)]
    threads_per_connection: bool,
    /// Print only the first line (`listening on ADDR`) and warnings.
    #[arg(long)]
    quiet: bool,
    /// Serve the live thread page (and /threads.json, /server.json) on ADDR and
    /// print each deadlock found to stderr; a port alone means 127.0.0.1:PORT.
    #[arg(long, value_name = "ADDR")]
    monitor: Option<String>,
}

#[derive(Debug, Args)]
struct ConnectArgs {
    /// Server address, HOST:PORT.
    addr: String,
    /// Seconds to wait for the connection (fractions allowed; 0 = no limit).
    #[arg(long, default_value = "5", value_parser = seconds)]
    timeout: Duration,
}

#[derive(Debug, Args)]
struct UdpServeArgs {
    /// Address to listen on (port 0: any free port; the first stderr line says which).
    #[arg(long, default_value = "127.0.0.1:9000")]
    bind: String,
}

#[derive(Debug, Args)]
struct UdpSendArgs {
    /// Server address, HOST:PORT.
    addr: String,
    /// The datagram, sent as is (no newline added).
    message: String,
    /// Seconds to wait for the reply (fractions allowed).
    #[arg(long, default_value = "2", value_parser = seconds)]
    wait: Duration,
}

/// Parses seconds, fractions allowed: `300`, `0.5`.
fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("`{s}` is not a valid number of seconds"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    log::set_logger(&LOGGER)
        .map(|()| log::set_max_level(log::LevelFilter::Warn))
        .ok();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("threadkit: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Connect(args) => connect(args),
        Command::UdpServe(args) => udp_serve(args),
        Command::UdpSend(args) => udp_send(args),
    }
}

/// Library warnings and errors (accept failures, say) on stderr, one line each.
struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = if record.level() == log::Level::Error {
                "error"
            } else {
                "warning"
            };
            let _ = writeln!(io::stderr().lock(), "{level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let model = if args.threads_per_connection {
        Model::ThreadPerConnection
    } else {
        Model::Scalable
    };
    let config = ServerConfig {
        model,
        max_clients: args.max_clients,
        idle_timeout: Some(args.idle_timeout).filter(|t| !t.is_zero()),
        backlog: args.backlog,
        max_line: args.max_line,
        max_queue: args.max_queue,
        // Connection threads (thread per connection) must not hold the process at
        // exit (a second signal exits at once); `server_close` still waits for them
        // on a clean stop.
        daemon_threads: true,
        ..ServerConfig::default()
    };
    let service: Service = if args.chat {
        ChatRoom::new().into()
    } else {
        Echo.into()
    };
    let open_files = raise_open_files_limit();
    let server = std::sync::Arc::new(TcpServer::bind(&args.bind, config, service)?);
    eprintln!("listening on {}", server.local_addr());
    let _monitor = args
        .monitor
        .map(|a| start_monitor(&a, &server))
        .transpose()?;
    if let Some(limit) = open_files {
        // Each client holds a descriptor; keep a few for stdio, the listener, logs.
        let needed = args.max_clients as u64 + 16;
        if limit < needed {
            eprintln!(
                "warning: the open-files limit is {limit}: --max-clients {} will not fit \
                 (each client needs a descriptor)",
                args.max_clients
            );
        }
    }
    if !args.quiet {
        server.on_event(|event| {
            // Accept errors reach stderr through the log facade already.
            if !matches!(event, ServerEvent::AcceptError { .. }) {
                eprintln!("{event}");
            }
        });
    }
    let handle = server.shutdown_handle();
    on_signals(move || handle.shutdown())?;
    server.serve_forever()?;
    server.server_close();
    Ok(ExitCode::SUCCESS)
}

/// Serves the live page on `addr` (`9100` alone: 127.0.0.1:9100) with the
/// server's counters, and prints every deadlock to stderr once.
fn start_monitor(
    addr: &str,
    server: &std::sync::Arc<TcpServer>,
) -> Result<(monitor::Monitor, threading::DeadlockWatch)> {
    let addr = match addr.parse::<u16>() {
        Ok(port) => format!("127.0.0.1:{port}"),
        Err(_) => addr.to_string(),
    };
    let page = monitor::Monitor::bind(&addr)
        .with_context(|| format!("cannot serve the monitor on {addr}"))?;
    eprintln!("monitor on http://{}/", page.local_addr());
    let s = std::sync::Arc::clone(server);
    monitor::register_server(move || s.counters());
    let watch = threading::watch_deadlocks(Duration::from_secs(1), |d| eprint!("{d}"));
    Ok((page, watch))
}

/// Raises the soft open-files limit to the hard one; the limit now in force.
fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            eprintln!("warning: cannot raise the open-files limit: {e}");
            None
        }
    }
}

/// Runs `stop` on the first SIGINT or SIGTERM (a second one exits at once) and
/// writes a thread dump to stderr on every SIGUSR1, from a thread of their own.
fn on_signals(stop: impl Fn() + Send + 'static) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGUSR1])
        .context("cannot install signal handlers")?;
    Thread::builder()
        .name("signals")
        .daemon(true)
        .target(move || {
            let mut stopping = false;
            for signal in signals.forever() {
                match signal {
                    SIGUSR1 => {
                        let mut dump = ThreadInfo::table(&threading::dump()).to_string();
                        threading::deadlocks()
                            .iter()
                            .for_each(|d| dump += &d.to_string());
                        let _ = io::stderr().lock().write_all(dump.as_bytes());
                    }
                    _ if stopping => std::process::exit(1),
                    _ => {
                        stopping = true;
                        stop();
                    }
                }
            }
        })
        .spawn()?;
    Ok(())
}

fn connect(args: ConnectArgs) -> Result<ExitCode> {
    let timeout = Some(args.timeout).filter(|t| !t.is_zero());
    threadkit::client::connect(
        &args.addr,
        timeout,
        io::BufReader::new(io::stdin()),
        io::stdout(),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn udp_serve(args: UdpServeArgs) -> Result<ExitCode> {
    let server = UdpServer::bind(&args.bind, ServerConfig::default(), UdpEcho)?;
    eprintln!("listening on {}", server.local_addr());
    let handle = server.shutdown_handle();
    on_signals(move || handle.shutdown())?;
    server.serve_forever()?;
    server.server_close();
    Ok(ExitCode::SUCCESS)
}

fn udp_send(args: UdpSendArgs) -> Result<ExitCode> {
    let wait = format_seconds(args.wait);
    match threadkit::client::udp_send(&args.addr, args.message.as_bytes(), args.wait) {
        Ok(Some(reply)) => {
            let mut out = io::stdout().lock();
            out.write_all(&reply)?;
            if !reply.ends_with(b"\n") {
                out.write_all(b"\n")?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            eprintln!("no reply within {wait} s");
            Ok(ExitCode::from(1))
        }
        // Loopback reports a closed UDP port at once: say why there is no reply.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            eprintln!("no reply within {wait} s ({e})");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// Seconds as the user would write them: `2`, `0.3`.
fn format_seconds(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}
