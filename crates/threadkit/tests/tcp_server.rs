//! `TcpServer` over real sockets on 127.0.0.1: the line protocols of DESIGN.md
//! ("Line protocols"), the limits, handlers, shutdown and robustness.
//!
//! Every scenario is a function of the `Model`; the macros at the bottom run
//! each for every model (`all_models`) or for every model that serves clients
//! concurrently (`concurrent_models`). A new model adds one module there.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::{read_all, thread_names, wait_until, Client, Running, GUARD};
use threadkit::server::{
    ChatRoom, CloseReason, Echo, Model, Outbox, ServerConfig, ServerEvent, Service, ShutdownHandle,
    TcpServer,
};
use threadkit::socket::Socket;
use threadkit::threading::TIMEOUT_MAX;

fn config(model: Model) -> ServerConfig {
    ServerConfig {
        model,
        ..ServerConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Echo

fn echo_lines_come_back_exactly(model: Model) {
    let server = Running::start(config(model), Echo);
    let mut c = Client::connect(server.addr());
    for text in [
        "hello",
        "",
        "  spaced  ",
        "tab\there",
        "crlf\r",
        "héllo wörld ✓",
        "* x",
    ] {
        c.line(text);
        assert_eq!(c.recv(), text);
    }
    // Several lines in one write, one line over several writes.
    c.send("a\nb\nc\n");
    assert_eq!([c.recv(), c.recv(), c.recv()], ["a", "b", "c"]);
    c.send("spl");
    thread::sleep(Duration::from_millis(20));
    c.send("it\n");
    assert_eq!(c.recv(), "split");
    server.stop();
}

fn echo_invalid_utf8_gets_a_notice_and_goes_on(model: Model) {
    let server = Running::start(config(model), Echo);
    let mut c = Client::connect(server.addr());
    c.send(b"ok\n\xff\xfe bad\nfine\n");
    assert_eq!(c.recv(), "ok");
    assert_eq!(c.recv(), "* error: invalid UTF-8");
    assert_eq!(c.recv(), "fine");
    server.stop();
}

fn echo_line_too_long_gets_a_notice_and_closes(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_line: 16,
            ..config(model)
        },
        Echo,
    );
    let mut c = Client::connect(server.addr());
    c.line(&"x".repeat(16)); // exactly the limit: fine
    assert_eq!(c.recv(), "x".repeat(16));
    c.line(&"y".repeat(17));
    assert_eq!(c.recv(), "* error: line too long (max 16 bytes)");
    c.expect_closed();
    server.stop();
}

fn echo_idle_client_gets_a_notice_and_is_closed(model: Model) {
    let idle = Duration::from_millis(200);
    let server = Running::start(
        ServerConfig {
            idle_timeout: Some(idle),
            ..config(model)
        },
        Echo,
    );
    let mut c = Client::connect(server.addr());
    c.line("still here");
    let start = Instant::now();
    assert_eq!(c.recv(), "still here");
    assert_eq!(c.recv(), "* idle timeout");
    assert!(start.elapsed() >= idle - Duration::from_millis(20));
    c.expect_closed();
    server.stop();
}

fn echo_slowloris_is_cut_at_the_idle_timeout(model: Model) {
    let idle = Duration::from_millis(800);
    let config = ServerConfig {
        idle_timeout: Some(idle),
        ..config(model)
    };
    let server = Running::start(config, Echo);
    let mut c = Client::connect(server.addr());
    c.line("whole"); // a complete line moves the deadline
    assert_eq!(c.recv(), "whole");
    let start = Instant::now();
    // One byte every 100 ms of a line never finished, for at most 8 s.
    let cut = (0..80).any(|_| {
        thread::sleep(Duration::from_millis(100));
        if c.stream.write_all(b"x").is_err() {
            return true;
        }
        c.stream.set_nonblocking(true).unwrap();
        let arrived = c.stream.peek(&mut [0u8; 1]).is_ok();
        c.stream.set_nonblocking(false).unwrap();
        arrived
    });
    assert!(cut, "{model:?}: a trickling client was never cut");
    assert_eq!(c.recv(), "* idle timeout");
    assert!(start.elapsed() >= idle - Duration::from_millis(20));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    server.stop();
}

fn echo_unterminated_last_line_is_answered(model: Model) {
    let server = Running::start(config(model), Echo);
    let mut c = Client::connect(server.addr());
    // `printf 'one\ntwo\nthree' | nc -N`: all three come back.
    c.send("one\ntwo\nthree");
    c.half_close();
    assert_eq!(c.recv(), "one");
    assert_eq!(c.recv(), "two");
    assert_eq!(c.recv(), "three", "{model:?}");
    c.expect_closed();
    server.stop();
}

/// A chat server with two members, guest-1 and guest-2, past their greetings.
fn chat_pair(model: Model) -> (Running, Client, Client) {
    let server = Running::start(config(model), ChatRoom::new());
    let mut a = Client::connect(server.addr());
    assert_eq!(a.recv(), "* welcome, you are guest-1");
    let mut b = Client::connect(server.addr());
    assert_eq!(b.recv(), "* welcome, you are guest-2");
    assert_eq!(a.recv(), "* guest-2 joined");
    (server, a, b)
}

fn chat_unterminated_last_line_is_delivered(model: Model) {
    let (server, mut a, mut b) = chat_pair(model);
    a.send("see you");
    a.half_close();
    assert_eq!(b.recv(), "guest-1: see you", "{model:?}");
    assert_eq!(b.recv(), "* guest-1 left");
    a.expect_closed();
    server.stop();
}

fn echo_idle_timeout_beyond_timeout_max_means_never(model: Model) {
    for idle in [
        TIMEOUT_MAX,
        TIMEOUT_MAX + Duration::from_secs(1),
        Duration::MAX,
    ] {
        let config = ServerConfig {
            idle_timeout: Some(idle),
            ..config(model)
        };
        let server = Running::start(config, Echo);
        // A second client shows the first one's deadline harmed no worker.
        for text in ["first", "second"] {
            let mut c = Client::connect(server.addr());
            c.line(text);
            assert_eq!(c.recv(), text, "{model:?} {idle:?}");
            c.half_close();
            c.expect_closed();
        }
        server.stop();
    }
}

fn echo_client_that_never_reads_is_not_read_until_it_drains(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_queue: 64 * 1024,
            ..config(model)
        },
        Echo,
    );
    // Small client buffers, so the kernel holds little of the flood.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(16 * 1024).unwrap();
    sock.set_send_buffer_size(16 * 1024).unwrap();
    sock.connect(&server.addr().into()).unwrap();
    let stream: TcpStream = sock.into();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    let line = format!("{}\n", "z".repeat(1023));
    let total = 16 << 20;
    let mut writer = stream.try_clone().unwrap();
    let (tx, rx) = mpsc::channel();
    let sender = thread::spawn(move || {
        for _ in 0..total / line.len() {
            if writer.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
        let _ = writer.shutdown(Shutdown::Write);
        let _ = tx.send(());
    });
    // The server stopped reading: the sender is stuck (sleep only to check).
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "16 MiB went through without the client reading"
    );
    // Reading everything back lets it finish, with every byte intact.
    let got = read_all(&stream);
    sender.join().unwrap();
    let sent = total / 1024 * 1024;
    assert_eq!(got.len(), sent);
    assert!(got
        .chunks(1024)
        .all(|l| l[..1023].iter().all(|&b| b == b'z') && l[1023] == b'\n'));
    server.stop();
}

fn echo_with_a_zero_queue_limit_still_echoes(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_queue: 0,
            ..config(model)
        },
        Echo,
    );
    let mut c = Client::connect(server.addr());
    for i in 0..50 {
        c.line(&format!("line {i}"));
        assert_eq!(c.recv(), format!("line {i}"));
    }
    server.stop();
}

fn shutdown_tells_every_client_and_closes(model: Model) {
    let server = Running::start(config(model), Echo);
    let n = if model == Model::Synchronous { 1 } else { 3 };
    let mut clients: Vec<Client> = (0..n).map(|_| Client::connect(server.addr())).collect();
    for c in &mut clients {
        c.line("ping");
        assert_eq!(c.recv(), "ping");
    }
    let start = Instant::now();
    server.stop();
    assert!(start.elapsed() < Duration::from_secs(3));
    for c in &mut clients {
        assert_eq!(c.recv(), "* server shutting down");
        c.expect_closed();
    }
}

fn client_beyond_max_clients(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_clients: 1,
            ..config(model)
        },
        Echo,
    );
    let mut first = Client::connect(server.addr());
    first.line("one");
    assert_eq!(first.recv(), "one");
    let mut second = Client::connect(server.addr());
    if model == Model::Synchronous {
        // One client at a time: the second waits in the backlog, then is served.
        second.line("two");
        first.half_close();
        first.expect_closed();
        assert_eq!(second.recv(), "two");
    } else {
        assert_eq!(second.recv(), "* error: server full");
        second.expect_closed();
        first.line("still served");
        assert_eq!(first.recv(), "still served");
    }
    server.stop();
}

fn sixty_four_clients_two_hundred_lines_each(model: Model) {
    let server = Running::start(config(model), Echo);
    let addr = server.addr();
    let clients: Vec<_> = (0..64)
        .map(|i| {
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                let lines: Vec<String> = (0..200)
                    .map(|j| format!("client {i} line {j} {}", "é".repeat((i * 7 + j) % 50)))
                    .collect();
                // Write in batches, read as they come back.
                for batch in lines.chunks(25) {
                    let mut data = batch.join("\n");
                    data.push('\n');
                    c.send(&data);
                    for want in batch {
                        assert_eq!(&c.recv(), want);
                    }
                }
                c.half_close();
                c.expect_closed();
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.stop();
}

fn abrupt_disconnects_leave_no_thread_behind(model: Model) {
    let server = Running::start(config(model), Echo);
    let mut names = Vec::new();
    for i in 0..200 {
        let stream = TcpStream::connect(server.addr()).unwrap();
        names.push(format!("client {}", stream.local_addr().unwrap()));
        let mut w = &stream;
        let _ = w.write_all(b"half a li");
        if i % 2 == 0 {
            stream.shutdown(Shutdown::Write).unwrap(); // half-close
        } else {
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap(); // RST on drop
        }
    }
    let gone = wait_until(Duration::from_secs(5), || {
        let live = thread_names();
        names
            .iter()
            .all(|n| !live.iter().any(|l| l.starts_with(n.as_str())))
    });
    assert!(gone, "connection threads left behind");
    assert!(wait_until(Duration::from_secs(5), || server
        .server
        .client_count()
        == 0));
    // Still serving.
    let mut c = Client::connect(server.addr());
    c.line("alive");
    assert_eq!(c.recv(), "alive");
    drop(c);
    server.stop();
}

fn twenty_clients_sending_a_mebibyte_without_newline_are_cut(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_line: 65_536,
            ..config(model)
        },
        Echo,
    );
    let addr = server.addr();
    let clients: Vec<_> = (0..20)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut w = c.stream.try_clone().unwrap();
                let sender = thread::spawn(move || {
                    let chunk = vec![b'a'; 64 * 1024];
                    for _ in 0..16 {
                        if w.write_all(&chunk).is_err() {
                            break; // the server closed: fine
                        }
                    }
                });
                assert_eq!(c.recv(), "* error: line too long (max 65536 bytes)");
                c.expect_closed();
                sender.join().unwrap();
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.stop();
}

// ---------------------------------------------------------------------------
// Chat

fn chat_single_client_sentences(model: Model) {
    let server = Running::start(config(model), ChatRoom::new());
    let mut c = Client::connect(server.addr());
    assert_eq!(c.recv(), "* welcome, you are guest-1");
    c.line(""); // ignored
    c.line("/who");
    assert_eq!(c.recv(), "* online: guest-1");
    c.line("/nick bad name");
    assert_eq!(c.recv(), "* error: invalid name");
    c.line("/nick *star");
    assert_eq!(c.recv(), "* error: invalid name");
    c.line(&format!("/nick {}", "n".repeat(33)));
    assert_eq!(c.recv(), "* error: invalid name");
    c.line("/nick guest-1");
    assert_eq!(c.recv(), "* error: name taken");
    c.send("/nick alice\r\n"); // one trailing \r is stripped
    assert_eq!(c.recv(), "* guest-1 is now alice");
    c.line("/help");
    let help: Vec<String> = (0..5).map(|_| c.recv()).collect();
    assert!(help.iter().all(|l| l.starts_with("* ")), "{help:?}");
    assert!(help.iter().any(|l| l.contains("/quit")));
    c.line("/dance now");
    assert_eq!(c.recv(), "* error: unknown command /dance");
    c.send(b"\xff\n");
    assert_eq!(c.recv(), "* error: invalid UTF-8");
    c.line("nobody hears this");
    c.line("/quit");
    assert_eq!(c.recv(), "* bye");
    c.expect_closed();
    server.stop();
}

fn chat_room_sentences_between_clients(model: Model) {
    let (server, mut a, mut b) = chat_pair(model);
    a.line("hello\r");
    assert_eq!(b.recv(), "guest-1: hello");
    b.line("/nick bob");
    assert_eq!(b.recv(), "* guest-2 is now bob");
    assert_eq!(a.recv(), "* guest-2 is now bob");
    a.line("/nick bob");
    assert_eq!(a.recv(), "* error: name taken");
    a.line("/who");
    assert_eq!(a.recv(), "* online: bob, guest-1");
    b.line("hi all");
    assert_eq!(a.recv(), "bob: hi all");
    b.line("/quit");
    assert_eq!(b.recv(), "* bye");
    b.expect_closed();
    assert_eq!(a.recv(), "* bob left");
    // Too long and idle apply in chat too; the rest hear the client left.
    let mut c = Client::connect(server.addr());
    assert_eq!(c.recv(), "* welcome, you are guest-3");
    assert_eq!(a.recv(), "* guest-3 joined");
    c.line(&"x".repeat(70_000));
    assert_eq!(c.recv(), "* error: line too long (max 65536 bytes)");
    c.expect_closed();
    assert_eq!(a.recv(), "* guest-3 left");
    server.stop();
    assert_eq!(a.recv(), "* server shutting down");
    a.expect_closed();
}

fn chat_every_client_sees_the_same_order(model: Model) {
    let server = Running::start(config(model), ChatRoom::new());
    let n = 4;
    let mut clients: Vec<Client> = Vec::new();
    for i in 0..n {
        let mut c = Client::connect(server.addr());
        assert_eq!(c.recv(), format!("* welcome, you are guest-{}", i + 1));
        for other in &mut clients {
            assert_eq!(other.recv(), format!("* guest-{} joined", i + 1));
        }
        clients.push(c);
    }
    // A listener that only reads; everyone else talks at once.
    let mut listener = Client::connect(server.addr());
    listener.recv();
    for c in &mut clients {
        c.recv();
    }
    let per = 100;
    let talkers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            thread::spawn(move || {
                for j in 0..per {
                    c.line(&format!("m{i}-{j}"));
                }
                // Everything the others said, in the order this client saw it.
                let mut seen = Vec::new();
                while seen.len() < (n - 1) * per {
                    seen.push(c.recv());
                }
                (i, seen, c)
            })
        })
        .collect();
    let mut all = Vec::new();
    while all.len() < n * per {
        all.push(listener.recv());
    }
    for t in talkers {
        let (i, seen, _c) = t.join().unwrap();
        let me = format!("guest-{}: ", i + 1);
        let expected: Vec<&String> = all.iter().filter(|l| !l.starts_with(&me)).collect();
        let seen: Vec<&String> = seen.iter().collect();
        assert_eq!(seen, expected, "client {i} saw another order");
    }
    server.stop();
}

fn chat_client_that_never_reads_is_dropped_and_the_rest_get_everything(model: Model) {
    let server = Running::start(
        ServerConfig {
            max_queue: 64 * 1024,
            ..config(model)
        },
        ChatRoom::new(),
    );
    let mut a = Client::connect(server.addr());
    assert_eq!(a.recv(), "* welcome, you are guest-1");
    let mut b = Client::connect(server.addr());
    assert_eq!(b.recv(), "* welcome, you are guest-2");
    assert_eq!(a.recv(), "* guest-2 joined");
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&server.addr().into()).unwrap();
    let slow: TcpStream = sock.into(); // never reads
    assert_eq!(a.recv(), "* guest-3 joined");
    assert_eq!(b.recv(), "* guest-3 joined");

    let count = 4000;
    let text = "w".repeat(1000);
    let reader = thread::spawn(move || {
        let mut got = 0;
        let mut dropped = false;
        while got < count || !dropped {
            let line = b.recv();
            if line == "* guest-3 dropped (too slow)" {
                dropped = true;
            } else {
                assert_eq!(line, format!("guest-1: {got} {}", "w".repeat(1000)));
                got += 1;
            }
        }
        b
    });
    for i in 0..count {
        a.line(&format!("{i} {text}"));
    }
    let mut b = reader.join().unwrap();
    assert_eq!(a.recv(), "* guest-3 dropped (too slow)");
    b.line("/who");
    assert_eq!(b.recv(), "* online: guest-1, guest-2");
    drop(slow);
    server.stop();
}

/// Echo that panics on `boom`.
struct Fragile;

impl threadkit::server::LineService for Fragile {
    fn on_line(&self, conn: threadkit::server::ConnId, line: &str, out: &mut Outbox) {
        assert_ne!(line, "boom", "the service panics on purpose");
        out.send(conn, line);
    }
}

fn a_panicking_service_ends_only_its_connection(model: Model) {
    let server = Arc::new(
        TcpServer::bind(
            "127.0.0.1:0",
            ServerConfig {
                max_clients: 2,
                ..config(model)
            },
            Fragile,
        )
        .unwrap(),
    );
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let r = Arc::clone(&reasons);
    server.on_event(move |e| {
        if let ServerEvent::Disconnect { reason, .. } = e {
            r.lock().unwrap().push(*reason);
        }
    });
    let running = Running::serve(Arc::clone(&server));
    let mut calm = Client::connect(running.addr());
    calm.line("before");
    assert_eq!(calm.recv(), "before");
    let mut doomed = Client::connect(running.addr());
    doomed.line("fine");
    assert_eq!(doomed.recv(), "fine");
    doomed.line("boom");
    doomed.expect_closed();
    assert!(wait_until(GUARD, || *reasons.lock().unwrap() == [CloseReason::Error]));
    // Its slot is free again, and the other client never noticed.
    let mut next = Client::connect(running.addr());
    next.line("next");
    assert_eq!(next.recv(), "next");
    calm.line("after");
    assert_eq!(calm.recv(), "after");
    running.stop();
}

// ---------------------------------------------------------------------------
// Handlers

/// Python's `StreamRequestHandler` echo: `for line in rfile: wfile.write(line)`.
fn line_echo_handler() -> Service {
    Service::handler(|| {
        |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
            let mut reader = BufReader::new(conn);
            let mut line = Vec::new();
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    return Ok(());
                }
                (&*conn).write_all(&line)?;
            }
        }
    })
}

fn request_handler_serves_each_connection(model: Model) {
    let server = Running::start(config(model), line_echo_handler());
    for _ in 0..3 {
        let mut c = Client::connect(server.addr());
        c.line("handled");
        assert_eq!(c.recv(), "handled");
        c.half_close();
        c.expect_closed();
    }
    server.stop();
}

fn panicking_handler_gives_back_its_slot(model: Model) {
    let service = Service::handler(|| {
        |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
            let data = conn.recv(64)?;
            if data.starts_with(b"panic") {
                panic!("handler panics on purpose");
            }
            conn.sendall(&data)
        }
    });
    let server = Running::start(
        ServerConfig {
            max_clients: 1,
            ..config(model)
        },
        service,
    );
    let mut first = Client::connect(server.addr());
    first.send("panic\n");
    first.expect_closed();
    assert!(wait_until(GUARD, || server.server.client_count() == 0));
    let mut second = Client::connect(server.addr());
    second.send("served\n");
    assert_eq!(second.recv(), "served");
    server.stop();
}

fn shutdown_from_inside_a_handler(model: Model) {
    let handle: Arc<OnceLock<ShutdownHandle>> = Arc::new(OnceLock::new());
    let h = Arc::clone(&handle);
    let service = Service::handler(move || {
        let h = Arc::clone(&h);
        move |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
            let data = conn.recv(64)?;
            if data.starts_with(b"stop") {
                h.get().expect("handle set").shutdown();
                conn.sendall(b"stopping\n")?;
            }
            Ok(())
        }
    });
    let server = Arc::new(TcpServer::bind("127.0.0.1:0", config(model), service).unwrap());
    handle.set(server.shutdown_handle()).unwrap();
    let running = Running::serve(Arc::clone(&server));
    let mut c = Client::connect(server.local_addr());
    c.send("stop");
    assert_eq!(c.recv(), "stopping");
    assert!(wait_until(GUARD, || running.handle.is_shutdown()));
    running.stop(); // serve_forever has returned
}

// ---------------------------------------------------------------------------
// Events, names, Python

fn events_report_connect_and_disconnect_with_reasons(model: Model) {
    let server = Arc::new(
        TcpServer::bind(
            "127.0.0.1:0",
            ServerConfig {
                max_line: 8,
                ..config(model)
            },
            Echo,
        )
        .unwrap(),
    );
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reasons = Arc::new(Mutex::new(Vec::new()));
    server.on_event(|_| unreachable!("replaced below"));
    server.on_event({
        let l = Arc::clone(&lines);
        let r = Arc::clone(&reasons);
        move |e| {
            l.lock().unwrap().push(e.to_string());
            if let ServerEvent::Disconnect { reason, .. } = e {
                r.lock().unwrap().push(*reason);
            }
        }
    });
    let running = Running::serve(Arc::clone(&server));
    let mut c = Client::connect(running.addr());
    let peer = c.local_addr();
    c.line("ok");
    assert_eq!(c.recv(), "ok");
    c.half_close();
    c.expect_closed();
    // The client sees the end before the server reports it: wait for the report.
    assert!(wait_until(GUARD, || reasons.lock().unwrap().len() == 1));
    let mut long = Client::connect(running.addr());
    let long_peer = long.local_addr();
    long.line("much too long");
    long.recv();
    long.expect_closed();
    assert!(wait_until(GUARD, || reasons.lock().unwrap().len() == 2));
    let mut last = Client::connect(running.addr());
    last.line("x");
    assert_eq!(last.recv(), "x");
    let last_peer = last.local_addr();
    running.stop();
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            format!("connect {peer}"),
            format!("disconnect {peer} (closed)"),
            format!("connect {long_peer}"),
            format!("disconnect {long_peer} (too long)"),
            format!("connect {last_peer}"),
            format!("disconnect {last_peer} (shutdown)"),
        ]
    );
    assert_eq!(
        *reasons.lock().unwrap(),
        [
            CloseReason::Closed,
            CloseReason::TooLong,
            CloseReason::Shutdown
        ]
    );
}

fn python_client_talks_to_the_server(model: Model) {
    let server = Running::start(config(model), Echo);
    let script = r#"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rwb")
for text in ["hello", "wörld", ""]:
    f.write((text + "\n").encode()); f.flush()
    got = f.readline().decode()
    assert got == text + "\n", (got, text)
f.write(b"\xff\n"); f.flush()
assert f.readline() == b"* error: invalid UTF-8\n"
s.shutdown(socket.SHUT_WR)
assert f.readline() == b""
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

// ---------------------------------------------------------------------------
// Only for some models, or for none in particular

#[test]
fn thread_per_connection_names_threads_after_peers() {
    let server = Running::start(config(Model::ThreadPerConnection), Echo);
    let mut c = Client::connect(server.addr());
    c.line("hi");
    assert_eq!(c.recv(), "hi");
    let name = format!("client {}", c.local_addr());
    assert!(thread_names().contains(&name), "{:?}", thread_names());
    let dump = threadkit::threading::dump();
    assert!(dump.iter().any(|t| t.name == name));
    c.half_close();
    c.expect_closed();
    assert!(wait_until(GUARD, || !thread_names().contains(&name)));
    server.stop();
}

#[test]
fn daemon_threads_and_stack_size_come_from_the_config() {
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    let service = Service::handler(move || {
        let s = Arc::clone(&s);
        move |conn: &Socket, _peer: SocketAddr| -> io::Result<()> {
            let me = threadkit::threading::current_thread();
            *s.lock().unwrap() = Some((me.name(), me.is_daemon()));
            conn.sendall(b"done\n")
        }
    });
    let server = Running::start(
        ServerConfig {
            daemon_threads: true,
            handler_stack_size: Some(256 * 1024),
            ..config(Model::ThreadPerConnection)
        },
        service,
    );
    let mut c = Client::connect(server.addr());
    assert_eq!(c.recv(), "done");
    let (name, daemon) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(name, format!("client {}", c.local_addr()));
    assert!(daemon);
    server.stop();
}

#[test]
fn bind_error_names_the_address() {
    let first = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo).unwrap();
    let addr = first.local_addr();
    let err = TcpServer::bind(
        addr,
        ServerConfig {
            reuse_address: false,
            ..ServerConfig::default()
        },
        Echo,
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn close_without_serving_and_serve_after_shutdown_return_at_once() {
    // Python's test_close_immediately.
    let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo).unwrap();
    server.server_close();
    let start = Instant::now();
    server.serve_forever().unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn serve_forever_twice_at_once_is_an_error() {
    let server = Running::start(ServerConfig::default(), Echo);
    // The background thread is serving (wait until a client is answered).
    let mut c = Client::connect(server.addr());
    c.line("up");
    assert_eq!(c.recv(), "up");
    assert!(server.server.serve_forever().is_err());
    server.stop();
}

#[test]
fn many_servers_shut_down_promptly() {
    // Python's test_shutdown: several servers started and stopped.
    let servers: Vec<Running> = (0..10)
        .map(|_| Running::start(ServerConfig::default(), Echo))
        .collect();
    let start = Instant::now();
    for s in servers {
        s.stop();
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn ipv6_loopback_works_when_available() {
    let Ok(server) = TcpServer::bind("[::1]:0", ServerConfig::default(), Echo) else {
        return;
    };
    let running = Running::serve(Arc::new(server));
    let mut c = Client::connect(running.addr());
    c.line("six");
    assert_eq!(c.recv(), "six");
    running.stop();
}

#[test]
fn a_panicking_event_observer_does_not_stop_the_server() {
    let server = Arc::new(TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo).unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = Arc::clone(&calls);
    server.on_event(move |_| {
        c2.fetch_add(1, Ordering::SeqCst);
        panic!("observer panics on purpose");
    });
    let running = Running::serve(Arc::clone(&server));
    for _ in 0..2 {
        let mut c = Client::connect(running.addr());
        c.line("x");
        assert_eq!(c.recv(), "x");
    }
    running.stop();
    assert!(calls.load(Ordering::SeqCst) >= 4);
}

#[test]
fn a_client_closing_before_reading_anything_is_fine() {
    let server =
        Arc::new(TcpServer::bind("127.0.0.1:0", ServerConfig::default(), ChatRoom::new()).unwrap());
    let left = Arc::new(AtomicUsize::new(0));
    let l = Arc::clone(&left);
    server.on_event(move |e| {
        if let ServerEvent::Disconnect { .. } = e {
            l.fetch_add(1, Ordering::SeqCst);
        }
    });
    let server = Running::serve(server);
    for _ in 0..20 {
        let s = TcpStream::connect(server.addr()).unwrap();
        drop(s);
    }
    assert!(wait_until(GUARD, || left.load(Ordering::SeqCst) == 20));
    let mut c = Client::connect(server.addr());
    let welcome = c.recv();
    assert!(
        welcome.starts_with("* welcome, you are guest-"),
        "{welcome}"
    );
    let mut buf = [0u8; 1];
    c.stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    assert!(c.stream.read(&mut buf).is_err()); // nothing else pending
    server.stop();
}

// ---------------------------------------------------------------------------
// The scalable model only

#[test]
fn scalable_refuses_a_request_handler() {
    let err =
        TcpServer::bind("127.0.0.1:0", config(Model::Scalable), line_echo_handler()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn scalable_workers_are_internal_threads_shown_by_dump_all() {
    let server = Running::start(
        ServerConfig {
            workers: 3,
            ..config(Model::Scalable)
        },
        Echo,
    );
    let mut c = Client::connect(server.addr());
    c.line("up");
    assert_eq!(c.recv(), "up");
    let workers = |infos: Vec<threadkit::threading::ThreadInfo>| {
        infos
            .into_iter()
            .filter(|t| t.name.starts_with("tk-worker-"))
            .collect::<Vec<_>>()
    };
    // Other tests' servers run workers too: at least this one's three.
    let all = workers(threadkit::threading::dump_all());
    assert!(all.len() >= 3, "{all:?}");
    assert!(all.iter().all(|t| t.internal && t.daemon));
    assert!(workers(threadkit::threading::dump()).is_empty());
    assert!(!thread_names().iter().any(|n| n.starts_with("tk-worker-")));
    // No thread per client either.
    assert!(!thread_names().contains(&format!("client {}", c.local_addr())));
    server.stop();
}

#[test]
fn scalable_chat_of_two_hundred_with_one_that_never_reads() {
    let server = Running::start(
        ServerConfig {
            max_queue: 64 * 1024,
            ..config(Model::Scalable)
        },
        ChatRoom::new(),
    );
    let mut talker = Client::connect(server.addr());
    assert_eq!(talker.recv(), "* welcome, you are guest-1");
    let readers: Vec<Client> = (2..200)
        .map(|n| {
            let mut c = Client::connect(server.addr());
            assert_eq!(c.recv(), format!("* welcome, you are guest-{n}"));
            c
        })
        .collect();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&server.addr().into()).unwrap();
    let slow: TcpStream = sock.into(); // guest-200, never reads
    let dropped_notice = "* guest-200 dropped (too slow)";
    // Long lines: the kernel buffers megabytes for the slow one before its
    // queue passes `max_queue`, and every reader gets all of that.
    let text = "c".repeat(16 * 1024);

    // Each reader checks that it gets every line of the talker, in order.
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut c| {
            let text = text.clone();
            thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    let (mut next, mut dropped) = (0usize, false);
                    loop {
                        let line = c.recv();
                        if line == dropped_notice {
                            dropped = true;
                        } else if line == "guest-1: end" {
                            return (next, dropped);
                        } else if let Some(rest) = line.strip_prefix("guest-1: ") {
                            let (n, body) = rest.split_once(' ').expect("numbered line");
                            assert_eq!(n, next.to_string(), "a line lost or out of order");
                            assert!(body == text, "a line changed");
                            next += 1;
                        } else {
                            assert!(line.starts_with("* guest-"), "{line}");
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    // The talker talks until it hears the slow one was dropped, then a little
    // more, and ends with a marker.
    let mut listen = Client::from_stream(talker.stream.try_clone().unwrap());
    let (tx, heard) = mpsc::channel();
    let hearing = thread::spawn(move || loop {
        let line = listen.recv();
        if line == dropped_notice {
            let _ = tx.send(());
            return;
        }
    });
    let mut sent = 0;
    let mut extra = None;
    while extra != Some(0) {
        assert!(sent < 100_000, "the slow client was never dropped");
        talker.line(&format!("{sent} {text}"));
        sent += 1;
        extra = match extra {
            None => heard.try_recv().ok().map(|()| 20),
            Some(n) => Some(n - 1),
        };
    }
    talker.line("end");
    hearing.join().unwrap();
    for r in readers {
        let (got, dropped) = r.join().unwrap();
        assert_eq!(got, sent);
        assert!(dropped);
    }
    talker.line("/who");
    // After the readers that ended left.
    let who = loop {
        let line = talker.recv();
        if line.starts_with("* online: ") {
            break line;
        }
    };
    assert!(who.starts_with("* online: guest-1"), "{who}");
    assert!(!who.contains("guest-200"), "{who}");
    drop(slow);
    server.stop();
}

// ---------------------------------------------------------------------------
// The model matrix

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
        mod scalable {
            use threadkit::server::Model;
            model_tests!(Model::Scalable; $($name),*);
        }
    };
}

/// The models that run `RequestHandler`s (not the scalable one).
macro_rules! handler_models {
    ($($name:ident),* $(,)?) => {
        mod handler_thread_per_connection {
            use threadkit::server::Model;
            model_tests!(Model::ThreadPerConnection; $($name),*);
        }
        mod handler_synchronous {
            use threadkit::server::Model;
            model_tests!(Model::Synchronous; $($name),*);
        }
    };
}

macro_rules! concurrent_models {
    ($($name:ident),* $(,)?) => {
        mod concurrent_thread_per_connection {
            use threadkit::server::Model;
            model_tests!(Model::ThreadPerConnection; $($name),*);
        }
        mod concurrent_scalable {
            use threadkit::server::Model;
            model_tests!(Model::Scalable; $($name),*);
        }
    };
}

all_models!(
    echo_lines_come_back_exactly,
    echo_invalid_utf8_gets_a_notice_and_goes_on,
    echo_line_too_long_gets_a_notice_and_closes,
    echo_idle_client_gets_a_notice_and_is_closed,
    echo_idle_timeout_beyond_timeout_max_means_never,
    echo_unterminated_last_line_is_answered,
    echo_slowloris_is_cut_at_the_idle_timeout,
    echo_client_that_never_reads_is_not_read_until_it_drains,
    echo_with_a_zero_queue_limit_still_echoes,
    shutdown_tells_every_client_and_closes,
    client_beyond_max_clients,
    abrupt_disconnects_leave_no_thread_behind,
    twenty_clients_sending_a_mebibyte_without_newline_are_cut,
    chat_single_client_sentences,
    events_report_connect_and_disconnect_with_reasons,
    python_client_talks_to_the_server,
);

handler_models!(
    request_handler_serves_each_connection,
    panicking_handler_gives_back_its_slot,
    shutdown_from_inside_a_handler,
);

concurrent_models!(
    chat_unterminated_last_line_is_delivered,
    sixty_four_clients_two_hundred_lines_each,
    chat_room_sentences_between_clients,
    chat_every_client_sees_the_same_order,
    chat_client_that_never_reads_is_dropped_and_the_rest_get_everything,
    a_panicking_service_ends_only_its_connection,
);

/// Relays each line to every other client, but claims it needs no global order:
/// the servers must still deliver (routing under the lock when it matters).
struct UnorderedRelay;

impl threadkit::server::LineService for UnorderedRelay {
    fn on_line(
        &self,
        conn: threadkit::server::ConnId,
        line: &str,
        out: &mut threadkit::server::Outbox,
    ) {
        out.broadcast(Some(conn), line);
        out.send(conn, "ok");
    }

    fn needs_global_order(&self) -> bool {
        false
    }
}

#[test]
fn a_service_without_global_order_still_reaches_other_clients() {
    for model in [Model::ThreadPerConnection, Model::Scalable] {
        let server = Running::start(config(model), UnorderedRelay);
        let mut a = Client::connect(server.addr());
        a.line("alone");
        assert_eq!(a.recv(), "ok");
        // `b` is open once it got an answer of its own.
        let mut b = Client::connect(server.addr());
        b.line("from b");
        assert_eq!(b.recv(), "ok");
        assert_eq!(a.recv(), "from b", "{model:?}");
        a.line("again");
        assert_eq!(a.recv(), "ok");
        assert_eq!(b.recv(), "again", "{model:?}");
    }
}
