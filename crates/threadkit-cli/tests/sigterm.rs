//! SIGTERM under load, the program as a child process: 100 clients sending as
//! fast as they can, five runs per model; each client reads
//! `* server shutting down` as its last line and a clean end of input, never
//! a reset, and the program exits 0.

mod common;
#[path = "../../threadkit/tests/loaded/mod.rs"]
mod loaded;

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{serve_args, Server, THREADS};
use loaded::client;

const CLIENTS: usize = 100;
const RUNS: usize = 5;

fn sigterm_under_load(extra: &[&str]) {
    for run in 0..RUNS {
        let mut server = Server::start(&serve_args(extra, &["--bind", "127.0.0.1:0", "--quiet"]));
        let answered = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                client(
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
            let seen = c.join().unwrap();
            assert_eq!(
                (seen.last.as_deref(), seen.end),
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
