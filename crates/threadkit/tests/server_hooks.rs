//! Python's `BaseServer` hooks: `verify_request`, `handle_error` (as
//! `ServerEvent::HandlerError`), `service_actions`, `allow_reuse_port`, in
//! every model they apply to, TCP and UDP.

mod common;

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{read_all, wait_until, Client, Running, GUARD};
use threadkit::server::{
    ChatRoom, CloseReason, Model, RequestFilter, ServerConfig, ServerEvent, Service,
    ServiceActions, TcpServer, UdpEcho,
};
use threadkit::socket::Socket;

/// A filter that refuses the client whose port is in `refused` (0: none).
fn refusing(refused: &Arc<AtomicU16>) -> RequestFilter {
    let refused = Arc::clone(refused);
    RequestFilter::new(move |peer| peer.port() != refused.load(Ordering::Relaxed))
}

/// A TCP stream from 127.0.0.1 on a port of its own, told before connecting.
fn connect_from(addr: SocketAddr, refused: &AtomicU16) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let port = sock.local_addr().unwrap().as_socket().unwrap().port();
    refused.store(port, Ordering::Relaxed);
    sock.connect(&addr.into()).unwrap();
    let stream: TcpStream = sock.into();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    stream
}

fn verify_request_refuses_one_address(model: Model) {
    let refused = Arc::new(AtomicU16::new(0));
    let config = ServerConfig {
        model,
        verify_request: Some(refusing(&refused)),
        ..ServerConfig::default()
    };
    let server = Running::start(config, ChatRoom::new());
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let r = Arc::clone(&reasons);
    server.server.on_event(move |e| {
        if let ServerEvent::Disconnect { reason, .. } = e {
            r.lock().unwrap().push(*reason);
        }
    });
    // Refused: closed at once, told nothing, unknown to the service.
    let stream = connect_from(server.addr(), &refused);
    assert!(
        read_all(&stream).is_empty(),
        "{model:?}: a refused client got data"
    );
    refused.store(0, Ordering::Relaxed);
    let mut other = Client::connect(server.addr());
    assert_eq!(other.recv(), "* welcome, you are guest-1", "{model:?}");
    other.line("/who");
    assert_eq!(other.recv(), "* online: guest-1", "{model:?}");
    assert_eq!(reasons.lock().unwrap().as_slice(), [CloseReason::Refused]);
    let counters = server.server.counters();
    assert_eq!((counters.refused, counters.accepted), (1, 1), "{model:?}");
    drop(other);
    server.stop();
}

#[test]
fn verify_request_refuses_one_address_in_every_model() {
    for model in [
        Model::ThreadPerConnection,
        Model::Synchronous,
        Model::Scalable,
    ] {
        verify_request_refuses_one_address(model);
    }
}

#[test]
fn verify_request_drops_a_refused_datagram() {
    let refused = Arc::new(AtomicU16::new(0));
    let config = ServerConfig {
        verify_request: Some(refusing(&refused)),
        ..ServerConfig::default()
    };
    let server = Running::start_udp(config, UdpEcho);
    let shunned = UdpSocket::bind("127.0.0.1:0").unwrap();
    refused.store(shunned.local_addr().unwrap().port(), Ordering::Relaxed);
    let welcome = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&shunned, &welcome] {
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s.send_to(b"ping", server.addr()).unwrap();
    }
    let mut buf = [0u8; 16];
    let (n, _) = welcome
        .recv_from(&mut buf)
        .expect("an allowed sender is answered");
    assert_eq!(&buf[..n], b"ping");
    let e = shunned.recv_from(&mut buf).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{e}"
    );
    server.stop();
}

/// A handler that fails on `fail`, panics on `panic`, echoes a line otherwise.
fn picky_handler() -> Service {
    Service::handler(|| {
        |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
            let data = conn.recv(64)?;
            match &data[..] {
                b"fail\n" => Err(io::Error::other("the handler gave up")),
                b"panic\n" => panic!("the handler fell over"),
                _ => conn.sendall(&data),
            }
        }
    })
}

fn handler_errors_are_events_and_the_server_goes_on(model: Model) {
    let server = Running::start(
        ServerConfig {
            model,
            ..ServerConfig::default()
        },
        picky_handler(),
    );
    let errors = Arc::new(Mutex::new(Vec::new()));
    let e = Arc::clone(&errors);
    server.server.on_event(move |event| {
        if let ServerEvent::HandlerError { error, .. } = event {
            e.lock().unwrap().push(error.clone());
        }
    });
    for line in ["fail", "panic"] {
        let mut c = Client::connect(server.addr());
        c.line(line);
        c.expect_closed();
    }
    let mut fine = Client::connect(server.addr());
    fine.line("still here");
    assert_eq!(fine.recv(), "still here", "{model:?}");
    assert!(wait_until(GUARD, || errors.lock().unwrap().len() == 2));
    let errors = errors.lock().unwrap().clone();
    assert_eq!(errors[0], "the handler gave up", "{model:?}");
    assert_eq!(errors[1], "panicked: the handler fell over", "{model:?}");
    drop(fine);
    server.stop();
}

#[test]
fn handler_errors_are_events_and_the_server_goes_on_in_both_blocking_models() {
    for model in [Model::ThreadPerConnection, Model::Synchronous] {
        handler_errors_are_events_and_the_server_goes_on(model);
    }
}

#[test]
fn handler_error_event_reads_as_a_line() {
    let peer = "127.0.0.1:5555".parse().unwrap();
    let event = ServerEvent::HandlerError {
        conn: threadkit::server::ConnId::new(1),
        peer,
        error: "boom".into(),
    };
    assert_eq!(event.to_string(), "handler error 127.0.0.1:5555: boom");
}

/// Counts the calls of a `service_actions` every 10 ms.
fn counting() -> (Arc<AtomicUsize>, ServiceActions) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = Arc::clone(&n);
    let actions = ServiceActions::new(move || {
        m.fetch_add(1, Ordering::Relaxed);
    })
    .every(Duration::from_millis(10));
    (n, actions)
}

#[test]
fn service_actions_run_while_idle_and_while_serving() {
    for model in [
        Model::ThreadPerConnection,
        Model::Synchronous,
        Model::Scalable,
    ] {
        let (n, actions) = counting();
        let config = ServerConfig {
            model,
            service_actions: Some(actions),
            ..ServerConfig::default()
        };
        let server = Running::start(config, ChatRoom::new());
        assert!(
            wait_until(GUARD, || n.load(Ordering::Relaxed) >= 3),
            "{model:?}: idle"
        );
        if model != Model::Synchronous {
            // The synchronous model waits in the client; the others accept.
            let mut c = Client::connect(server.addr());
            c.recv();
            let seen = n.load(Ordering::Relaxed);
            assert!(
                wait_until(GUARD, || n.load(Ordering::Relaxed) >= seen + 3),
                "{model:?}"
            );
        }
        server.stop();
    }
    let (n, actions) = counting();
    let config = ServerConfig {
        service_actions: Some(actions),
        ..ServerConfig::default()
    };
    let server = Running::start_udp(config, UdpEcho);
    assert!(
        wait_until(GUARD, || n.load(Ordering::Relaxed) >= 3),
        "UDP: idle"
    );
    server.stop();
}

#[test]
fn a_panicking_service_action_does_not_stop_the_server() {
    let config = ServerConfig {
        service_actions: Some(
            ServiceActions::new(|| panic!("an action fell over")).every(Duration::from_millis(5)),
        ),
        ..ServerConfig::default()
    };
    let server = Running::start(config, ChatRoom::new());
    std::thread::sleep(Duration::from_millis(50));
    let mut c = Client::connect(server.addr());
    assert_eq!(c.recv(), "* welcome, you are guest-1");
    drop(c);
    server.stop();
}

#[test]
fn allow_reuse_port_lets_two_servers_share_a_port() {
    let config = || ServerConfig {
        allow_reuse_port: true,
        ..ServerConfig::default()
    };
    let first = TcpServer::bind("127.0.0.1:0", config(), ChatRoom::new()).unwrap();
    let second = TcpServer::bind(first.local_addr(), config(), ChatRoom::new()).unwrap();
    assert_eq!(first.local_addr(), second.local_addr());
    let e =
        TcpServer::bind(first.local_addr(), ServerConfig::default(), ChatRoom::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
    let udp = threadkit::server::UdpServer::bind("127.0.0.1:0", config(), UdpEcho).unwrap();
    let again = threadkit::server::UdpServer::bind(udp.local_addr(), config(), UdpEcho).unwrap();
    assert_eq!(udp.local_addr(), again.local_addr());
}

#[test]
fn handle_request_times_out_then_serves_one_client_in_every_model() {
    for model in [
        Model::ThreadPerConnection,
        Model::Synchronous,
        Model::Scalable,
    ] {
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = TcpServer::bind("127.0.0.1:0", config, threadkit::server::Echo).unwrap();
        // Nobody comes: false (where Python calls handle_timeout), not early.
        let started = std::time::Instant::now();
        assert!(!server
            .handle_request(Some(Duration::from_millis(50)))
            .unwrap());
        assert!(started.elapsed() >= Duration::from_millis(50), "{model:?}");
        let mut c = Client::connect(server.local_addr());
        c.line("one");
        if model == Model::Synchronous {
            // Served to its end on this thread: the client ends first.
            c.half_close();
        }
        assert!(server.handle_request(Some(GUARD)).unwrap(), "{model:?}");
        assert_eq!(c.recv(), "one", "{model:?}");
        // Only one: a second client waits for the next call.
        let mut d = Client::connect(server.local_addr());
        d.line("two");
        d.half_close();
        assert!(server.handle_request(None).unwrap(), "{model:?}");
        assert_eq!(d.recv(), "two", "{model:?}");
        drop((c, d));
        server.shutdown_handle().shutdown();
        assert!(
            !server.handle_request(None).unwrap(),
            "{model:?}: after shutdown"
        );
        server.server_close();
    }
}

#[test]
fn handle_request_is_refused_while_serve_forever_runs() {
    let server = Running::start(ServerConfig::default(), ChatRoom::new());
    // Served: serve_forever runs.
    let mut c = Client::connect(server.addr());
    assert_eq!(c.recv(), "* welcome, you are guest-1");
    let e = server
        .server
        .handle_request(Some(Duration::from_millis(1)))
        .unwrap_err();
    assert!(e.to_string().contains("already running"), "{e}");
    drop(c);
    server.stop();
}

#[test]
fn a_stream_request_handler_reads_rfile_and_writes_wfile() {
    use std::io::{BufRead, Write};
    use threadkit::socket::SocketFile;
    for model in [Model::ThreadPerConnection, Model::Synchronous] {
        let service = Service::stream_handler(|| {
            |rfile: &mut SocketFile, wfile: &mut SocketFile, peer: SocketAddr| -> io::Result<()> {
                let mut line = String::new();
                while rfile.read_line(&mut line)? > 0 {
                    writeln!(
                        wfile,
                        "{} from {}",
                        line.trim_end().to_uppercase(),
                        peer.ip()
                    )?;
                    line.clear();
                }
                Ok(())
            }
        });
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = Running::start(config, service);
        let mut c = Client::connect(server.addr());
        // Split inside a line: rfile buffers until the newline.
        c.send("hel");
        c.send("lo\nworld\n");
        assert_eq!(c.recv(), "HELLO from 127.0.0.1", "{model:?}");
        assert_eq!(c.recv(), "WORLD from 127.0.0.1", "{model:?}");
        c.half_close();
        c.expect_closed();
        server.stop();
    }
}

#[test]
fn a_datagram_request_handler_answers_with_what_it_wrote() {
    use threadkit::server::DatagramRequests;
    let handler = |rfile: &mut &[u8], wfile: &mut Vec<u8>, _: SocketAddr| -> io::Result<()> {
        if *rfile != b"quiet" {
            wfile.extend_from_slice(b"re: ");
            wfile.extend_from_slice(rfile);
        }
        Ok(())
    };
    let server = Running::start_udp(ServerConfig::default(), DatagramRequests::new(handler));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 32];
    client.send_to(b"quiet", server.addr()).unwrap();
    client.send_to(b"ping", server.addr()).unwrap();
    let (n, _) = client.recv_from(&mut buf).expect("an answer");
    assert_eq!(&buf[..n], b"re: ping");
    // Nothing written, nothing sent: no other datagram comes.
    let e = client.recv_from(&mut buf).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{e}"
    );
    server.stop();
}

#[test]
fn a_server_bound_without_activating_serves_once_activated() {
    let server = TcpServer::bind_without_activate(
        "127.0.0.1:0",
        ServerConfig::default(),
        threadkit::server::Echo,
    )
    .unwrap();
    assert_eq!(
        TcpStream::connect(server.local_addr()).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    let e = server.serve_forever().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("server_activate"), "{e}");
    server.socket().set_recv_buffer_size(64 * 1024).unwrap();
    server.server_activate().unwrap();
    let server = Running::serve(Arc::new(server));
    let mut c = Client::connect(server.addr());
    c.line("now");
    assert_eq!(c.recv(), "now");
    drop(c);
    server.stop();
}
