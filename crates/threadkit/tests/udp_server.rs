//! `UdpServer` over real sockets on 127.0.0.1 (and [::1] when available):
//! echo, handler errors and panics, shutdown, concurrency, bursts, a Python
//! client.
//!
//! Scenarios are functions of the `Model`, run for every model by the macro at
//! the bottom.

mod common;

use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::{RunningUdp, GUARD};
use threadkit::server::{Model, ServerConfig, ShutdownHandle, UdpEcho, UdpServer, MAX_DATAGRAM};
use threadkit::socket::{Family, Kind, Socket};
use threadkit::threading::{current_thread, Barrier};

fn config(model: Model) -> ServerConfig {
    ServerConfig {
        model,
        ..ServerConfig::default()
    }
}

fn client() -> Socket {
    let s = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    s.bind("127.0.0.1:0").unwrap();
    s.settimeout(Some(GUARD)).unwrap();
    s
}

fn echo_each_datagram_to_its_sender(model: Model) {
    let server = RunningUdp::start_udp(config(model), UdpEcho);
    let c = client();
    for data in [&b"ping"[..], b"", b"with\nnewline", "ünïcode".as_bytes()] {
        c.sendto(data, server.addr()).unwrap();
        let (got, from) = c.recvfrom(MAX_DATAGRAM + 1).unwrap();
        assert_eq!(got, data);
        assert_eq!(from, server.addr());
    }
    let big: Vec<u8> = (0..MAX_DATAGRAM).map(|i| (i % 251) as u8).collect();
    c.sendto(&big, server.addr()).unwrap();
    assert_eq!(c.recvfrom(MAX_DATAGRAM + 1).unwrap().0, big);
    server.stop();
}

fn failing_and_panicking_handlers_do_not_stop_the_server(model: Model) {
    let handler = |data: &[u8], peer: SocketAddr, sock: &Socket| -> io::Result<()> {
        match data {
            b"fail" => Err(io::Error::other("fails on purpose")),
            b"panic" => panic!("panics on purpose"),
            _ => sock.sendto(data, peer).map(drop),
        }
    };
    let server = RunningUdp::start_udp(config(model), handler);
    let c = client();
    for bad in [&b"fail"[..], b"panic", b"fail", b"panic"] {
        c.sendto(bad, server.addr()).unwrap();
    }
    c.sendto(b"still there", server.addr()).unwrap();
    assert_eq!(c.recvfrom(64).unwrap().0, b"still there");
    server.stop();
}

fn shutdown_from_inside_a_handler(model: Model) {
    let handle: Arc<OnceLock<ShutdownHandle>> = Arc::new(OnceLock::new());
    let h = Arc::clone(&handle);
    let handler = move |data: &[u8], peer: SocketAddr, sock: &Socket| -> io::Result<()> {
        if data == b"stop" {
            h.get().expect("handle set").shutdown();
        }
        sock.sendto(data, peer).map(drop)
    };
    let server = Arc::new(UdpServer::bind("127.0.0.1:0", config(model), handler).unwrap());
    handle.set(server.shutdown_handle()).unwrap();
    let s = Arc::clone(&server);
    let serving = thread::spawn(move || s.serve_forever());
    let c = client();
    c.sendto(b"stop", server.local_addr()).unwrap();
    assert_eq!(c.recvfrom(64).unwrap().0, b"stop"); // the handler could still answer
    let start = Instant::now();
    while !serving.is_finished() {
        assert!(start.elapsed() < GUARD, "serve_forever did not return");
        thread::sleep(Duration::from_millis(5));
    }
    serving.join().unwrap().unwrap();
    server.server_close();
}

fn many_clients_get_their_own_datagrams_back(model: Model) {
    let server = RunningUdp::start_udp(config(model), UdpEcho);
    let addr = server.addr();
    let clients: Vec<_> = (0..16)
        .map(|i| {
            thread::spawn(move || {
                let c = client();
                for j in 0..50 {
                    let msg = format!("client {i} datagram {j}");
                    c.sendto(msg.as_bytes(), addr).unwrap();
                    // Loopback does not lose datagrams at this rate.
                    assert_eq!(c.recvfrom(128).unwrap().0, msg.as_bytes());
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.stop();
}

fn python_client_gets_its_echo(model: Model) {
    let server = RunningUdp::start_udp(config(model), UdpEcho);
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for msg in [b"hello", b"", b"x" * 65507]:
    s.sendto(msg, ("127.0.0.1", int(sys.argv[1])))
    data, addr = s.recvfrom(70000)
    assert data == msg, len(data)
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script, &server.addr().port().to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    server.stop();
}

#[test]
fn the_pool_runs_handlers_concurrently_on_named_threads() {
    // Two datagrams whose handlers wait for each other: only works when they
    // run at once.
    let barrier = Arc::new(Barrier::new(2));
    let names = Arc::new(Mutex::new(Vec::new()));
    let (b, n) = (Arc::clone(&barrier), Arc::clone(&names));
    let handler = move |data: &[u8], peer: SocketAddr, sock: &Socket| -> io::Result<()> {
        n.lock().unwrap().push(current_thread().name());
        b.wait_timeout(GUARD)
            .map_err(|e| io::Error::other(e.to_string()))?;
        sock.sendto(data, peer).map(drop)
    };
    let server = RunningUdp::start_udp(config(Model::ThreadPerConnection), handler);
    let c = client();
    c.sendto(b"one", server.addr()).unwrap();
    c.sendto(b"two", server.addr()).unwrap();
    let mut got = vec![c.recvfrom(16).unwrap().0, c.recvfrom(16).unwrap().0];
    got.sort();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
    let mut names = names.lock().unwrap().clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("tk-udp-")), "{names:?}");
    server.stop();
}

#[test]
fn the_pool_has_the_configured_number_of_threads_and_no_thread_per_datagram() {
    let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let s = Arc::clone(&seen);
    let handler = move |data: &[u8], peer: SocketAddr, sock: &Socket| -> io::Result<()> {
        s.lock().unwrap().insert(current_thread().name());
        sock.sendto(data, peer).map(drop)
    };
    let config = ServerConfig {
        workers: 3,
        ..config(Model::ThreadPerConnection)
    };
    let server = RunningUdp::start_udp(config, handler);
    let c = client();
    for i in 0..300 {
        c.sendto(format!("{i}").as_bytes(), server.addr()).unwrap();
        c.recvfrom(16).unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    // The pool's threads, or the serving thread when the queue was full.
    let pool: Vec<_> = seen.iter().filter(|n| n.starts_with("tk-udp-")).collect();
    assert!(!pool.is_empty() && seen.len() <= 4, "{seen:?}");
    assert!(
        pool.iter()
            .all(|n| ["tk-udp-0", "tk-udp-1", "tk-udp-2"].contains(&n.as_str())),
        "{seen:?}"
    );
    server.stop();
}

/// The burst of the hardening issue: `senders` × `each` datagrams sent as fast
/// as loopback takes them, each sender reading its answers on a thread of its
/// own. Returns how many came back.
fn burst(addr: SocketAddr, senders: usize, each: usize) -> usize {
    let answered = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(Barrier::new(senders));
    let threads: Vec<_> = (0..senders)
        .map(|i| {
            let (answered, go) = (Arc::clone(&answered), Arc::clone(&go));
            thread::spawn(move || {
                let c = Arc::new(client());
                // Room for every answer, so the client drops none of its own.
                let _ = socket2::SockRef::from(&*c).set_recv_buffer_size(4 << 20);
                c.settimeout(Some(Duration::from_millis(500))).unwrap();
                let r = Arc::clone(&c);
                let reader = thread::spawn(move || {
                    let start = Instant::now();
                    let mut got = 0;
                    // Until every answer came, or none for 500 ms (the rest
                    // were lost), bounded by GUARD.
                    while got < each && start.elapsed() < GUARD && r.recvfrom(64).is_ok() {
                        got += 1;
                    }
                    got
                });
                go.wait_timeout(GUARD).unwrap();
                for j in 0..each {
                    // A full send buffer is a lost datagram, not a failure.
                    let _ = c.sendto(format!("sender {i} datagram {j}").as_bytes(), addr);
                }
                answered.fetch_add(reader.join().unwrap(), Ordering::Relaxed);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    answered.load(Ordering::Relaxed)
}

#[test]
fn a_burst_of_ten_thousand_datagrams_from_ten_senders_is_answered() {
    let server = RunningUdp::start_udp(config(Model::ThreadPerConnection), UdpEcho);
    let answered = burst(server.addr(), 10, 1_000);
    // The goal is 95%; a thread per datagram answered 10-21%.
    assert!(answered >= 9_500, "{answered} of 10000 answered");
    server.stop();
}

#[test]
fn shutdown_is_prompt_with_slow_handlers_and_a_full_queue() {
    let handled = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&handled);
    let handler = move |_: &[u8], _: SocketAddr, _: &Socket| -> io::Result<()> {
        h.fetch_add(1, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(100));
        Ok(())
    };
    let config = ServerConfig {
        workers: 2,
        ..config(Model::ThreadPerConnection)
    };
    let server = Arc::new(UdpServer::bind("127.0.0.1:0", config, handler).unwrap());
    let s = Arc::clone(&server);
    let serving = thread::spawn(move || s.serve_forever());
    let c = client();
    for _ in 0..200 {
        c.sendto(b"slow", server.local_addr()).unwrap();
    }
    assert!(common::wait_until(GUARD, || handled
        .load(Ordering::Relaxed)
        >= 2));
    let start = Instant::now();
    server.shutdown_handle().shutdown();
    serving.join().unwrap().unwrap();
    server.server_close();
    // 200 slow datagrams take 10 s on two threads; the queued ones are dropped.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(handled.load(Ordering::Relaxed) < 50);
}

#[test]
fn oversized_datagram_is_dropped_over_ipv6() {
    let Ok(server) = UdpServer::bind("[::1]:0", ServerConfig::default(), UdpEcho) else {
        return; // no IPv6 here
    };
    let server = Arc::new(server);
    let s = Arc::clone(&server);
    let serving = thread::spawn(move || s.serve_forever());
    let c = Socket::new(Family::Inet6, Kind::Datagram).unwrap();
    c.bind("[::1]:0").unwrap();
    c.settimeout(Some(Duration::from_millis(300))).unwrap();
    // IPv6 carries up to 65,527 bytes; the server takes at most 65,507.
    if c.sendto(&vec![7u8; MAX_DATAGRAM + 1], server.local_addr())
        .is_ok()
    {
        assert_eq!(
            c.recvfrom(70_000).unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }
    c.settimeout(Some(GUARD)).unwrap();
    c.sendto(b"small", server.local_addr()).unwrap();
    assert_eq!(c.recvfrom(16).unwrap().0, b"small");
    server.shutdown_handle().shutdown();
    serving.join().unwrap().unwrap();
    server.server_close();
}

#[test]
fn bind_error_names_the_address() {
    let first = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho).unwrap();
    let addr = first.local_addr();
    let err = UdpServer::bind(
        addr,
        ServerConfig {
            reuse_address: false,
            ..ServerConfig::default()
        },
        UdpEcho,
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn close_without_serving_returns_at_once() {
    let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho).unwrap();
    server.server_close();
    let start = Instant::now();
    server.serve_forever().unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(format!("{server:?}").contains("UdpServer"));
}

macro_rules! model_tests {
    ($model:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                super::$name($model);
            }
        )*
    };
}

macro_rules! all_models {
    ($($name:ident),* $(,)?) => {
        mod thread_per_connection {
            use threadkit::server::Model;
            model_tests!(Model::ThreadPerConnection; $($name),*);
        }
        mod synchronous {
            use threadkit::server::Model;
            model_tests!(Model::Synchronous; $($name),*);
        }
    };
}

all_models!(
    echo_each_datagram_to_its_sender,
    failing_and_panicking_handlers_do_not_stop_the_server,
    shutdown_from_inside_a_handler,
    many_clients_get_their_own_datagrams_back,
    python_client_gets_its_echo,
);

#[test]
fn the_scalable_model_is_refused_for_udp() {
    let err = UdpServer::bind("127.0.0.1:0", config(Model::Scalable), UdpEcho).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}
