//! A server's shutdown under load, in every TCP model: each client, sending
//! as fast as it can when the shutdown comes, reads the answers to what it
//! sent, `* server shutting down`, and a clean end of input — never a reset.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{wait_until, Running, GUARD};
use threadkit::server::{Echo, Model, ServerConfig};

const CLIENTS: usize = 100;
const RUNS: usize = 5;

/// How one client saw the end.
#[derive(Debug)]
struct Seen {
    last: Option<String>,
    end: Result<(), ErrorKind>,
}

/// One client under load: a thread that sends lines until the end is seen,
/// and a thread that reads to the end. `echoed` counts clients that got an
/// answer already.
fn client(stream: TcpStream, echoed: Arc<AtomicUsize>) -> thread::JoinHandle<Seen> {
    stream.set_read_timeout(Some(GUARD)).unwrap();
    stream.set_write_timeout(Some(GUARD)).unwrap();
    let ended = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().unwrap();
    let writing = {
        let ended = Arc::clone(&ended);
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut n = 0u64;
                // A client still sending a second after the notice (its reader
                // behind a full queue of answers) may get `EPIPE` once the
                // server closes, as the contract allows: sending stops there.
                while !ended.load(Ordering::Acquire) {
                    if writer.write_all(format!("load {n}\n").as_bytes()).is_err() {
                        return;
                    }
                    n += 1;
                    if n % 8 == 0 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                // Done: the server sees our end and closes at once.
                let _ = writer.shutdown(Shutdown::Write);
            })
            .unwrap()
    };
    thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            let (mut last, mut line, mut first) = (None, String::new(), true);
            let end = loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) => break Ok(()),
                    Ok(_) => {
                        if first {
                            first = false;
                            echoed.fetch_add(1, Ordering::AcqRel);
                        }
                        if line.starts_with("* ") {
                            ended.store(true, Ordering::Release);
                        }
                        last = Some(line.trim_end().to_string());
                    }
                    Err(e) => break Err(e.kind()),
                }
            };
            ended.store(true, Ordering::Release);
            writing.join().unwrap();
            Seen { last, end }
        })
        .unwrap()
}

fn shutdown_under_load_is_clean(model: Model) {
    for run in 0..RUNS {
        let server = Running::start(
            ServerConfig {
                model,
                ..ServerConfig::default()
            },
            Echo,
        );
        let echoed = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                client(
                    TcpStream::connect(server.addr()).unwrap(),
                    Arc::clone(&echoed),
                )
            })
            .collect();
        assert!(
            wait_until(GUARD, || echoed.load(Ordering::Acquire) == CLIENTS),
            "{model:?}: not every client was answered"
        );
        server.stop();
        for (i, c) in clients.into_iter().enumerate() {
            let seen = c.join().unwrap();
            assert_eq!(
                seen.last.as_deref(),
                Some("* server shutting down"),
                "{model:?} run {run}, client {i}: {seen:?}"
            );
            assert_eq!(
                seen.end,
                Ok(()),
                "{model:?} run {run}, client {i}: {seen:?}"
            );
        }
    }
}

#[test]
fn shutdown_under_load_is_clean_thread_per_connection() {
    shutdown_under_load_is_clean(Model::ThreadPerConnection);
}

#[test]
fn shutdown_under_load_is_clean_scalable() {
    shutdown_under_load_is_clean(Model::Scalable);
}
