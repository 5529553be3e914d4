//! The `threadkit` program: an echo or chat server, an interactive client, and UDP.
//!
//! Parsing (`args`), the log (`logger`), signals (`signals`) and the open-files
//! limit live in the program; every protocol lives in the library
//! (`threadkit::server`, `threadkit::client`), where tests reach it.

mod args;
mod logger;
mod signals;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use threadkit::monitor;
use threadkit::server::{
    Address, ChatRoom, DatagramServer, Echo, Model, Peer, ServerConfig, ServerEvent, Service,
    StreamServer, TcpServer, UdpEcho, UdpServer, UnixDatagramServer, UnixStreamServer,
};
use threadkit::threading;
use threadkit::tls::{TlsConfig, TlsConnector};

use args::{Bind, Cli, Command, ConnectArgs, ServeArgs, UdpSendArgs, UdpServeArgs};

/// How long the program waits at exit for the log to reach stderr (it may be a
/// pipe nobody reads).
const LOG_FLUSH_LIMIT: Duration = Duration::from_secs(1);

static LOGGER: logger::Logger = logger::Logger;

fn main() -> ExitCode {
    let cli = Cli::parse();
    log::set_logger(&LOGGER)
        .map(|()| log::set_max_level(log::LevelFilter::Warn))
        .ok();
    let (code, error) = match run(cli) {
        Ok(code) => (code, None),
        Err(e) if is_broken_pipe(&e) => (ExitCode::SUCCESS, None),
        Err(e) => (ExitCode::from(1), Some(format!("threadkit: {e:#}"))),
    };
    // The error comes after every line logged before it; a server has started
    // the writer already, the other commands start it here.
    if let Some(error) = &error {
        logger::line(error.as_str());
    }
    match logger::start() {
        Ok(()) => logger::flush(LOG_FLUSH_LIMIT),
        Err(log_error) => {
            if let Some(error) = error {
                eprintln!("{error} (the log cannot start: {log_error})");
            }
        }
    }
    code
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

/// Writes the first stderr line, `listening on ADDR` (`unix:PATH` for a Unix
/// socket), at once, then starts the log writer: every other line (even one
/// logged earlier) comes after it.
fn announce(addr: impl Address) -> Result<()> {
    let addr: Peer = addr.into();
    eprintln!("listening on {addr}");
    logger::start()?;
    Ok(())
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    // A missing or bad certificate or key fails before anything listens.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig::from_pem_files(cert, key)?),
        _ => None,
    };
    let signals = signals::install()?;
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
        busy_poll: args.busy_poll,
        // 0: one per core.
        workers: args.workers.unwrap_or(0),
        tls,
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
    match &args.bind {
        Bind::Inet(addr) => run_server(
            TcpServer::bind(addr, config, service)?,
            &args,
            signals,
            open_files,
        ),
        Bind::Unix(path) => run_server(
            UnixStreamServer::bind(path, config, service)?,
            &args,
            signals,
            open_files,
        ),
    }
}

/// Serves until a signal: the events, the first line, the monitor, the
/// open-files warning.
fn run_server<A: Address>(
    server: StreamServer<A>,
    args: &ServeArgs,
    signals: signals::Signals,
    open_files: Option<u64>,
) -> Result<ExitCode> {
    let server = std::sync::Arc::new(server);
    if !args.quiet {
        server.on_event(|event| {
            // Accept and handler errors reach stderr through the log facade
            // already (as warnings).
            if !matches!(
                event,
                ServerEvent::AcceptError { .. } | ServerEvent::HandlerError { .. }
            ) {
                logger::line(event.to_string());
            }
        });
    }
    let handle = server.shutdown_handle();
    signals.spawn(move || handle.shutdown())?;
    announce(server.local_addr())?;
    let _monitor = args
        .monitor
        .as_deref()
        .map(|a| start_monitor(a, &server))
        .transpose()?;
    if let Some(limit) = open_files {
        // Each client holds a descriptor; keep a few for stdio, the listener, logs.
        let needed = args.max_clients as u64 + 16;
        if limit < needed {
            logger::line(format!(
                "warning: the open-files limit is {limit}: --max-clients {} will not fit \
                 (each client needs a descriptor)",
                args.max_clients
            ));
        }
    }
    server.serve_forever()?;
    server.server_close();
    Ok(ExitCode::SUCCESS)
}

/// Serves the live page on `addr` (`9100` alone: 127.0.0.1:9100) with the
/// server's counters, and logs every deadlock once.
fn start_monitor<A: Address>(
    addr: &str,
    server: &std::sync::Arc<StreamServer<A>>,
) -> Result<(monitor::Monitor, threading::DeadlockWatch)> {
    let addr = match addr.parse::<u16>() {
        Ok(port) => format!("127.0.0.1:{port}"),
        Err(_) => addr.to_string(),
    };
    let page = monitor::Monitor::bind(&addr)
        .with_context(|| format!("cannot serve the monitor on {addr}"))?;
    logger::line(format!("monitor on http://{}/", page.local_addr()));
    let s = std::sync::Arc::clone(server);
    monitor::register_server(move || s.counters());
    let watch = threading::watch_deadlocks(Duration::from_secs(1), |d| {
        logger::line(d.to_string().trim_end())
    });
    Ok((page, watch))
}

/// Raises the soft open-files limit to the hard one; the limit now in force. A
/// failure is logged (after the first line).
fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            logger::line(format!("warning: cannot raise the open-files limit: {e}"));
            None
        }
    }
}

fn connect(args: ConnectArgs) -> Result<ExitCode> {
    let timeout = Some(args.timeout).filter(|t| !t.is_zero());
    let (input, output) = (io::BufReader::new(io::stdin()), io::stdout());
    if args.tls {
        let connector = match &args.ca {
            Some(ca) => TlsConnector::from_ca_file(ca)?,
            None => TlsConnector::with_native_roots()?,
        };
        threadkit::client::connect_tls(&args.addr, timeout, &connector, input, output)?;
    } else {
        threadkit::client::connect(&args.addr, timeout, input, output)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn udp_serve(args: UdpServeArgs) -> Result<ExitCode> {
    let signals = signals::install()?;
    match &args.bind {
        Bind::Inet(addr) => udp_run(
            UdpServer::bind(addr, ServerConfig::default(), UdpEcho)?,
            signals,
        ),
        Bind::Unix(path) => udp_run(
            UnixDatagramServer::bind(path, ServerConfig::default(), UdpEcho)?,
            signals,
        ),
    }
}

/// Serves datagrams until a signal.
fn udp_run<A: Address>(server: DatagramServer<A>, signals: signals::Signals) -> Result<ExitCode> {
    let handle = server.shutdown_handle();
    signals.spawn(move || handle.shutdown())?;
    announce(server.local_addr())?;
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
