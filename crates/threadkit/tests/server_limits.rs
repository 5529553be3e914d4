//! Memory bounds of `TcpServer`, measured on this process's VmRSS: a test
//! binary of its own with one test, so no other test's allocations blur the
//! figures. Both TCP models.

mod common;

use std::io::{Read, Write};
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

/// A backpressure burst on 40 echo connections: each sends 4 MiB of lines
/// without reading, so the server holds `max_queue` (1 MiB) of answers for
/// each; then each reads them all. Once drained, the idle connections hold
/// no buffer: VmRSS comes back within 8 MiB of before.
fn burst_memory_is_given_back(model: Model) {
    const CLIENTS: usize = 40;
    const BURST: usize = 4 << 20;
    let config = ServerConfig {
        model,
        max_queue: 1 << 20,
        ..ServerConfig::default()
    };
    let server = Running::start(config, threadkit::server::Echo);
    // Small receive buffers: the answers wait in the server, not in the kernel.
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|_| {
            let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .expect("socket");
            sock.set_recv_buffer_size(4096).expect("SO_RCVBUF");
            sock.connect(&server.addr().into()).expect("connect");
            Client::from_stream(sock.into())
        })
        .collect();
    for c in &mut clients {
        c.line("warm up");
        assert_eq!(c.recv(), "warm up");
    }
    let line = format!("{}\n", "b".repeat(1023));
    let burst = std::sync::Arc::new(line.repeat(BURST / line.len()));
    let before = peak_rss(Duration::from_millis(300));
    let writers: Vec<_> = clients
        .iter()
        .map(|c| {
            let mut stream = c.stream.try_clone().unwrap();
            let burst = std::sync::Arc::clone(&burst);
            std::thread::spawn(move || stream.write_all(burst.as_bytes()))
        })
        .collect();
    // Every connection paused at its limit (the writers block meanwhile).
    let during = peak_rss(Duration::from_millis(3000));
    let mut buf = vec![0u8; 64 * 1024];
    for c in &mut clients {
        let mut want = burst.len();
        while want > 0 {
            let n = c.stream.read(&mut buf).expect("read the answers");
            assert!(n > 0, "{model:?}: end of input with {want} bytes missing");
            want = want.saturating_sub(n);
        }
    }
    for w in writers {
        w.join().unwrap().expect("the burst is sent");
    }
    drop(buf);
    drop(burst);
    let after = peak_rss(Duration::from_millis(500));
    eprintln!(
        "{model:?}: burst on {CLIENTS} connections: VmRSS {} MiB before, {} MiB during, {} MiB after",
        before >> 20,
        during >> 20,
        after >> 20
    );
    assert!(
        after < before + (8 << 20),
        "{model:?}: {} KiB more after the burst than before ({} KiB during)",
        (after.saturating_sub(before)) >> 10,
        (during.saturating_sub(before)) >> 10
    );
    drop(clients);
    server.stop();
}

#[test]
fn memory_bounds() {
    who_flood_is_bounded_by_max_queue(Model::ThreadPerConnection);
    who_flood_is_bounded_by_max_queue(Model::Scalable);
    burst_memory_is_given_back(Model::ThreadPerConnection);
    burst_memory_is_given_back(Model::Scalable);
}
