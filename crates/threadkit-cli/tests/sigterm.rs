//! SIGTERM under load, the program as a child process: 100 clients sending as
//! fast as they can, five runs per model; each client reads
//! `* server shutting down` as its last line and a clean end of input, never
//! a reset, and the program exits 0.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{serve_args, Server, THREADS};

const CLIENTS: usize = 100;
const RUNS: usize = 5;

/// The last line a client read, and how its input ended.
type Seen = (Option<String>, Result<(), ErrorKind>);

/// A client that sends until it reads a notice, then half-closes; its reader
/// reads to the end.
fn loaded_client(stream: TcpStream, answered: Arc<AtomicUsize>) -> thread::JoinHandle<Seen> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ended = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().unwrap();
    let stop = Arc::clone(&ended);
    let writing = thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut n = 0u64;
            // Sending may fail once the server closed a second after the
            // notice (the contract's bound): sending stops there.
            while !stop.load(Ordering::Acquire) {
                if writer.write_all(format!("load {n}\n").as_bytes()).is_err() {
                    return;
                }
                n += 1;
                if n % 8 == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            let _ = writer.shutdown(Shutdown::Write);
        })
        .unwrap();
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
                        if std::mem::take(&mut first) {
                            answered.fetch_add(1, Ordering::AcqRel);
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
            (last, end)
        })
        .unwrap()
}

fn sigterm_under_load(extra: &[&str]) {
    for run in 0..RUNS {
        let mut server = Server::start(&serve_args(extra, &["--bind", "127.0.0.1:0", "--quiet"]));
        let answered = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                loaded_client(
                    TcpStream::connect(server.addr).unwrap(),
                    Arc::clone(&answered),
                )
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while answered.load(Ordering::Acquire) < CLIENTS {
            assert!(
                Instant::now() < deadline,
                "{extra:?} run {run}: not every client answered"
            );
            thread::sleep(Duration::from_millis(5));
        }
        server.signal("TERM");
        for (i, c) in clients.into_iter().enumerate() {
            let (last, end) = c.join().unwrap();
            assert_eq!(
                (last.as_deref(), end),
                (Some("* server shutting down"), Ok(())),
                "{extra:?} run {run}, client {i}"
            );
        }
        assert_eq!(
            server.wait_exit(Duration::from_secs(5)),
            Some(0),
            "{extra:?} run {run}"
        );
    }
}

#[test]
fn sigterm_under_load_every_client_reads_the_notice_and_a_clean_end() {
    sigterm_under_load(&[]);
}

#[test]
fn threads_per_connection_sigterm_under_load_every_client_reads_the_notice_and_a_clean_end() {
    sigterm_under_load(THREADS);
}
