//! A server's shutdown under load, in every TCP model: each client, sending
//! as fast as it can when the shutdown comes, reads the answers to what it
//! sent, `* server shutting down`, and a clean end of input — never a reset.

mod common;
mod loaded;

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{wait_until, Running, GUARD};
use loaded::client;
use threadkit::server::{Echo, Model, ServerConfig};

const CLIENTS: usize = 100;
const RUNS: usize = 5;

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
