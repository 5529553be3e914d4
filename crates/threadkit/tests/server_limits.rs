//! Memory bounds of `TcpServer`, measured on this process's VmRSS: a test
//! binary of its own with one test, so no other test's allocations blur the
//! figures. Chat, the thread-per-connection model.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{Client, Running};
use threadkit::server::{ChatRoom, Model, ServerConfig};

/// This process's resident memory, in bytes.
fn vm_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// The highest VmRSS seen over `span`.
fn peak_rss(span: Duration) -> usize {
    let start = Instant::now();
    let mut peak = vm_rss();
    while start.elapsed() < span {
        std::thread::sleep(Duration::from_millis(20));
        peak = peak.max(vm_rss());
    }
    peak
}

/// A `/who` flood (64 KiB of `/who\n`) from a client that does not read, in a
/// room of 100: its answers (about 1 KiB each) stop the parsing at
/// `max_queue`, so the server grows by less than 4 × `max_queue`; once it
/// reads, every answer comes, none lost.
fn who_flood_is_bounded_by_max_queue(model: Model) {
    let max_queue = 256 * 1024;
    let config = ServerConfig {
        model,
        max_queue,
        max_clients: 200,
        ..ServerConfig::default()
    };
    let server = Running::start(config, ChatRoom::new());
    let mut room: Vec<Client> = (0..99).map(|_| Client::connect(server.addr())).collect();
    for c in &mut room {
        assert!(c.recv().starts_with("* welcome"));
    }
    let mut flooder = Client::connect(server.addr());
    assert!(flooder.recv().starts_with("* welcome"));
    flooder.line("/who");
    let answer = flooder.recv_until_prefix("* online: ");
    let before = peak_rss(Duration::from_millis(300));
    let lines = 64 * 1024 / 5;
    flooder.send("/who\n".repeat(lines));
    let during = peak_rss(Duration::from_millis(1500));
    let growth = during.saturating_sub(before);
    // Now it reads: every answer arrives.
    let mut want = (answer.len() + 1) * lines;
    let mut buf = vec![0u8; 64 * 1024];
    while want > 0 {
        let n = flooder
            .stream
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("{model:?}: {e} with {want} bytes missing"));
        assert!(
            n > 0,
            "{model:?}: end of input with {want} bytes of answers missing"
        );
        want = want.saturating_sub(n);
    }
    assert!(
        growth < 4 * max_queue,
        "{model:?}: grew by {growth} bytes with max_queue {max_queue}"
    );
    eprintln!("{model:?}: /who flood grew VmRSS by {} KiB", growth / 1024);
    drop(room);
    server.stop();
}

#[test]
fn memory_bounds() {
    // The scalable model does not bound this yet (it grows by ~13 MiB).
    who_flood_is_bounded_by_max_queue(Model::ThreadPerConnection);
}
