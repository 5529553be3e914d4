//! The scalable model's busy polling (`ServerConfig::busy_poll`): the server
//! answers the same with it off (the default), at 50 µs and with a long window, and a
//! worker stops spinning once its clients go quiet (its CPU time stays flat
//! while the server idles).

mod common;

use std::fs;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::{Client, Running};
use threadkit::server::{Echo, Model, ServerConfig};

fn config(busy_poll: Duration) -> ServerConfig {
    ServerConfig {
        model: Model::Scalable,
        workers: 2,
        busy_poll,
        ..ServerConfig::default()
    }
}

/// Taken by every test that starts a server: the idle test reads the CPU time of
/// every `tk-worker-*` thread in this process, so no other test's workers may run
/// (or end) meanwhile (a server stopped during its measurement made the total
/// shrink: a subtraction overflow in CI).
fn one_server_at_a_time() -> MutexGuard<'static, ()> {
    static SERVERS: Mutex<()> = Mutex::new(());
    SERVERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// CPU time (user + system, in clock ticks) of this process's threads named
/// `tk-worker-*`, read from /proc.
fn worker_ticks() -> u64 {
    let mut ticks = 0;
    for task in fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = task.expect("task").path();
        let name = fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !name.starts_with("tk-worker-") {
            continue;
        }
        let Ok(stat) = fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // Fields after the `(comm)`: state is the first, utime the 12th, stime the 13th.
        let rest = &stat[stat.rfind(')').expect("stat") + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    ticks
}

#[test]
fn echo_is_the_same_with_busy_polling_off_short_and_long() {
    let _alone = one_server_at_a_time();
    for busy_poll in [
        Duration::ZERO,
        Duration::from_micros(50),
        Duration::from_millis(20),
    ] {
        let server = Running::start(config(busy_poll), Echo);
        let mut clients: Vec<Client> = (0..4).map(|_| Client::connect(server.addr())).collect();
        for round in 0..200 {
            for (i, c) in clients.iter_mut().enumerate() {
                let text = format!("{i}-{round}");
                c.line(&text);
                assert_eq!(c.recv(), text, "busy_poll {busy_poll:?}");
            }
        }
        server.stop();
    }
}

#[test]
fn the_default_is_off() {
    assert_eq!(ServerConfig::default().busy_poll, Duration::ZERO);
}

#[test]
fn an_idle_worker_stops_spinning() {
    let _alone = one_server_at_a_time();
    // A long window: a worker that kept spinning would burn the whole idle time.
    let server = Running::start(config(Duration::from_millis(200)), Echo);
    let mut client = Client::connect(server.addr());
    for i in 0..500 {
        client.line(&i.to_string());
        assert_eq!(client.recv(), i.to_string());
    }
    // The first wait after the traffic may spin its window; after it the
    // workers sleep. Measure from then for 1.5 s.
    std::thread::sleep(Duration::from_millis(400));
    let before = worker_ticks();
    std::thread::sleep(Duration::from_millis(1500));
    let spent = worker_ticks() - before;
    // Two spinning workers would spend about 300 ticks (at 100 a second); a
    // sleeping pair about none. Generous for a loaded machine.
    assert!(spent < 60, "idle workers spent {spent} ticks in 1.5 s");
    server.stop();
}
