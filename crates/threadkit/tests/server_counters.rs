//! `TcpServer::counters()`, what `/server.json` shows: counted the same way in
//! the thread-per-connection and the scalable model.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Client, Running};
use threadkit::monitor::ServerCounters;
use threadkit::server::{Echo, Model, ServerConfig, TcpServer};

/// Polls the counters until `done` holds for them.
fn counters_when(server: &TcpServer, done: impl Fn(&ServerCounters) -> bool) -> ServerCounters {
    let start = Instant::now();
    loop {
        let c = server.counters();
        if done(&c) {
            return c;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{c:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn counts_in(model: Model) {
    let config = ServerConfig {
        model,
        max_clients: 1,
        ..ServerConfig::default()
    };
    let server = Arc::new(TcpServer::bind("127.0.0.1:0", config, Echo).unwrap());
    let running = Running::serve(Arc::clone(&server));
    let mut a = Client::connect(running.addr());
    a.line("one");
    assert_eq!(a.recv(), "one");
    a.line("two");
    assert_eq!(a.recv(), "two");
    assert_eq!(server.counters().clients, 1);
    // The second client is over max_clients: refused.
    let b = Client::connect(running.addr());
    let c = counters_when(&server, |c| c.refused == 1);
    assert_eq!(c.clients, 1, "{c:?}");
    drop(a);
    let c = counters_when(&server, |c| c.clients == 0);
    assert_eq!((c.accepted, c.lines_in, c.lines_out), (1, 2, 2), "{c:?}");
    let by = |r: &str| c.disconnects.iter().find(|(k, _)| k == r).map(|(_, n)| *n);
    assert_eq!((by("closed"), by("full")), (Some(1), Some(1)), "{c:?}");
    drop(b);
    running.stop();
}

#[test]
fn thread_per_connection_counts_clients_lines_and_disconnects() {
    counts_in(Model::ThreadPerConnection);
}

#[test]
fn the_scalable_model_counts_the_same() {
    counts_in(Model::Scalable);
}
