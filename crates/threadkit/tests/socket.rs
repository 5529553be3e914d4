//! `threadkit::socket`: Python's socket calls and timeout rules, on 127.0.0.1 and
//! [::1] only.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use threadkit::socket::{self, Family, Kind, ServerOptions, Socket};

/// Every blocking client call in these tests gives up after this.
const GUARD: Duration = Duration::from_secs(10);

fn server() -> Socket {
    let s = socket::create_server("127.0.0.1:0").expect("create_server");
    s.settimeout(Some(GUARD)).unwrap();
    s
}

/// A connected (client, server side) pair, both with the guard timeout.
fn pair() -> (Socket, Socket) {
    let srv = server();
    let client = socket::create_connection(srv.getsockname().unwrap(), Some(GUARD)).unwrap();
    let (conn, peer) = srv.accept().unwrap();
    assert_eq!(peer, client.getsockname().unwrap());
    conn.settimeout(Some(GUARD)).unwrap();
    (client, conn)
}

fn ipv6_available() -> bool {
    Socket::new(Family::Inet6, Kind::Stream)
        .and_then(|s| s.bind("[::1]:0"))
        .is_ok()
}

#[test]
fn tcp_echo_round_trip_and_empty_recv_at_peer_close() {
    let (client, conn) = pair();
    client.sendall(b"hello, world").unwrap();
    let mut got = Vec::new();
    while got.len() < 12 {
        let chunk = conn.recv(1024).unwrap();
        assert!(!chunk.is_empty(), "peer closed early");
        got.extend(chunk);
    }
    assert_eq!(got, b"hello, world");
    conn.sendall(&got).unwrap();
    let mut back = vec![0; 12];
    (&client).read_exact(&mut back).unwrap();
    assert_eq!(back, b"hello, world");
    client.close();
    assert_eq!(conn.recv(1024).unwrap(), b"");
    assert_eq!(conn.recv(1024).unwrap(), b"", "end of file stays");
}

#[test]
fn recv_into_fills_the_buffer() {
    let (client, conn) = pair();
    client.send(b"abc").unwrap();
    let mut buf = [0u8; 8];
    let n = conn.recv_into(&mut buf).unwrap();
    assert_eq!(&buf[..n], &b"abc"[..n]);
}

#[test]
fn sendall_moves_a_large_buffer_while_the_peer_reads() {
    let (client, conn) = pair();
    let data: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let reader = thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            let chunk = conn.recv(65536).unwrap();
            if chunk.is_empty() {
                break got;
            }
            got.extend(chunk);
        }
    });
    client.sendall(&data).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(reader.join().unwrap(), expected);
}

#[test]
fn udp_sendto_recvfrom_round_trip() {
    let a = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    a.bind("127.0.0.1:0").unwrap();
    a.settimeout(Some(GUARD)).unwrap();
    let b = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    b.bind(("127.0.0.1", 0)).unwrap();
    b.settimeout(Some(GUARD)).unwrap();
    assert_eq!(b.sendto(b"ping", a.getsockname().unwrap()).unwrap(), 4);
    let (data, from) = a.recvfrom(65507).unwrap();
    assert_eq!(data, b"ping");
    assert_eq!(from, b.getsockname().unwrap());
    a.sendto(b"pong", from).unwrap();
    let (data, from) = b.recvfrom(2).unwrap();
    assert_eq!(data, b"po", "the rest of a longer datagram is discarded");
    assert_eq!(from, a.getsockname().unwrap());
}

#[test]
fn udp_connect_then_send_and_recv() {
    let a = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    a.bind("127.0.0.1:0").unwrap();
    a.settimeout(Some(GUARD)).unwrap();
    let b = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    b.connect(a.getsockname().unwrap()).unwrap();
    b.send(b"via connect").unwrap();
    assert_eq!(a.recv(100).unwrap(), b"via connect");
}

#[test]
fn udp_over_ipv6() {
    if !ipv6_available() {
        eprintln!("skipped: no IPv6");
        return;
    }
    let a = Socket::new(Family::Inet6, Kind::Datagram).unwrap();
    a.bind("[::1]:0").unwrap();
    a.settimeout(Some(GUARD)).unwrap();
    let b = Socket::new(Family::Inet6, Kind::Datagram).unwrap();
    b.sendto(b"six", a.getsockname().unwrap()).unwrap();
    let (data, from) = a.recvfrom(10).unwrap();
    assert_eq!(data, b"six");
    assert!(from.is_ipv6());
}

#[test]
fn recv_timeout_is_timed_out_and_never_early() {
    let (client, _conn) = pair();
    for ms in [1, 30, 120] {
        let d = Duration::from_millis(ms);
        client.settimeout(Some(d)).unwrap();
        let start = Instant::now();
        let err = client.recv(16).unwrap_err();
        let elapsed = start.elapsed();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(elapsed >= d, "returned after {elapsed:?}, timeout {d:?}");
    }
}

#[test]
fn accept_timeout_is_timed_out_and_never_early() {
    let srv = server();
    let d = Duration::from_millis(80);
    srv.settimeout(Some(d)).unwrap();
    let start = Instant::now();
    let err = srv.accept().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= d);
}

#[test]
fn udp_recvfrom_timeout_is_timed_out_and_never_early() {
    let a = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    a.bind("127.0.0.1:0").unwrap();
    let d = Duration::from_millis(50);
    a.settimeout(Some(d)).unwrap();
    let start = Instant::now();
    assert_eq!(a.recvfrom(10).unwrap_err().kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= d);
}

#[test]
fn send_timeout_when_the_peer_never_reads() {
    let (client, _conn) = pair();
    let d = Duration::from_millis(100);
    client.settimeout(Some(d)).unwrap();
    let chunk = vec![7u8; 1 << 20];
    let start = Instant::now();
    // Bounded: the kernel buffers are at most a few MiB.
    let mut result = Ok(());
    for _ in 0..256 {
        result = client.sendall(&chunk);
        if result.is_err() {
            break;
        }
    }
    let err = result.expect_err("the buffers never filled");
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= d);
}

#[test]
fn sub_microsecond_timeout_still_times_out() {
    let (client, _conn) = pair();
    client.settimeout(Some(Duration::from_nanos(1))).unwrap();
    assert_eq!(client.recv(1).unwrap_err().kind(), ErrorKind::TimedOut);
}

#[test]
fn zero_timeout_is_non_blocking() {
    let (client, _conn) = pair();
    client.settimeout(Some(Duration::ZERO)).unwrap();
    assert_eq!(client.gettimeout(), Some(Duration::ZERO));
    assert_eq!(client.recv(16).unwrap_err().kind(), ErrorKind::WouldBlock);
    let srv = server();
    srv.setblocking(false).unwrap();
    assert_eq!(srv.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn setblocking_and_settimeout_agree_with_python() {
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(s.gettimeout(), None);
    s.setblocking(false).unwrap();
    assert_eq!(s.gettimeout(), Some(Duration::ZERO));
    s.settimeout(Some(Duration::from_millis(1500))).unwrap();
    assert_eq!(s.gettimeout(), Some(Duration::from_millis(1500)));
    s.setblocking(true).unwrap();
    assert_eq!(s.gettimeout(), None);
}

#[test]
fn accepted_socket_has_no_timeout() {
    let srv = server();
    let _client = socket::create_connection(srv.getsockname().unwrap(), Some(GUARD)).unwrap();
    let (conn, _) = srv.accept().unwrap();
    assert_eq!(conn.gettimeout(), None);
    let std: TcpStream = conn.into();
    assert_eq!(std.read_timeout().unwrap(), None);
}

#[test]
fn shutdown_from_another_thread_wakes_a_blocked_recv() {
    let (client, _conn) = pair();
    let client = Arc::new(client);
    let reader = {
        let client = Arc::clone(&client);
        thread::spawn(move || {
            let start = Instant::now();
            (client.recv(1024), start.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(50)); // let it block
    client.shutdown(Shutdown::Read).unwrap();
    let (result, elapsed) = reader.join().unwrap();
    assert_eq!(result.unwrap(), b"");
    assert!(elapsed < GUARD, "woken by shutdown, not by its timeout");
}

#[test]
fn shutdown_from_another_thread_wakes_a_blocked_accept() {
    let srv = Arc::new(server());
    let acceptor = {
        let srv = Arc::clone(&srv);
        thread::spawn(move || {
            let start = Instant::now();
            (srv.accept().map(|_| ()), start.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(50));
    srv.shutdown(Shutdown::Both).unwrap();
    let (result, elapsed) = acceptor.join().unwrap();
    let err = result.unwrap_err();
    assert_ne!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(elapsed < GUARD);
}

#[test]
fn connection_refused_is_connection_refused() {
    // A bound, non-listening socket holds the port so nobody else takes it.
    let holder = Socket::new(Family::Inet, Kind::Stream).unwrap();
    holder.bind("127.0.0.1:0").unwrap();
    let addr = holder.getsockname().unwrap();
    let err = socket::create_connection(addr, Some(GUARD)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(
        s.connect(addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
}

#[test]
fn create_connection_keeps_its_timeout() {
    let srv = server();
    let d = Duration::from_millis(60);
    let client = socket::create_connection(srv.getsockname().unwrap(), Some(d)).unwrap();
    assert_eq!(client.gettimeout(), Some(d));
    let start = Instant::now();
    assert_eq!(client.recv(8).unwrap_err().kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= d);
    let blocking = socket::create_connection(srv.getsockname().unwrap(), None).unwrap();
    assert_eq!(blocking.gettimeout(), None);
}

#[test]
fn create_connection_to_nothing_is_invalid_input() {
    let none: &[SocketAddr] = &[];
    let err = socket::create_connection(none, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn bind_with_the_wrong_family_is_invalid_input() {
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(
        s.bind("[::1]:0").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn create_server_bind_error_names_the_address() {
    let first = server();
    let addr = first.getsockname().unwrap();
    let err = socket::create_server(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn create_server_with_reuse_port_shares_the_port() {
    let opts = ServerOptions {
        reuse_port: true,
        backlog: Some(8),
        ..ServerOptions::default()
    };
    let a = socket::create_server_with("127.0.0.1:0", &opts).unwrap();
    let b = socket::create_server_with(a.getsockname().unwrap(), &opts).unwrap();
    assert_eq!(a.getsockname().unwrap(), b.getsockname().unwrap());
}

#[test]
fn create_server_with_dual_stack_needs_ipv6() {
    let opts = ServerOptions {
        dual_stack: true,
        ..ServerOptions::default()
    };
    let err = socket::create_server_with("127.0.0.1:0", &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn create_server_with_dual_stack_on_ipv6_loopback() {
    if !ipv6_available() {
        eprintln!("skipped: no IPv6");
        return;
    }
    let opts = ServerOptions {
        dual_stack: true,
        ..ServerOptions::default()
    };
    let srv = socket::create_server_with("[::1]:0", &opts).unwrap();
    srv.settimeout(Some(GUARD)).unwrap();
    // (Linux marks a socket bound to one specific IPv6 address IPv6-only anyway.)
    let client = socket::create_connection(srv.getsockname().unwrap(), Some(GUARD)).unwrap();
    let (conn, peer) = srv.accept().unwrap();
    assert!(peer.is_ipv6());
    client.sendall(b"v6\n").unwrap();
    assert_eq!(conn.recv(3).unwrap(), b"v6\n");

    // IPv4 clients reach a dual-stack server through an IPv4-mapped address; on
    // loopback that is ::ffff:127.0.0.1, where the machine allows it.
    let mapped = match socket::create_server_with("[::ffff:127.0.0.1]:0", &opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped the IPv4-mapped part: {e}");
            return;
        }
    };
    mapped.settimeout(Some(GUARD)).unwrap();
    let port = mapped.getsockname().unwrap().port();
    let v4 = socket::create_connection(("127.0.0.1", port), Some(GUARD)).unwrap();
    let (conn, peer) = mapped.accept().unwrap();
    assert_eq!(
        peer.to_string(),
        format!("[::ffff:127.0.0.1]:{}", v4.getsockname().unwrap().port())
    );
    conn.sendall(b"mapped").unwrap();
    assert_eq!(v4.recv(6).unwrap(), b"mapped");
}

#[test]
fn ipv6_socket_connects_to_an_ipv4_listener_via_a_mapped_address() {
    if !ipv6_available() {
        eprintln!("skipped: no IPv6");
        return;
    }
    let srv = server();
    let s = Socket::new(Family::Inet6, Kind::Stream).unwrap();
    s.settimeout(Some(GUARD)).unwrap();
    match s.connect(srv.getsockname().unwrap()) {
        Ok(()) => assert!(s.getpeername().unwrap().is_ipv6()),
        Err(e) => eprintln!("skipped: this machine refuses IPv4-mapped connects: {e}"),
    }
}

#[test]
fn lines_through_a_bufreader_over_a_socket_ref() {
    let (client, conn) = pair();
    client.sendall(b"first\nsecond\r\nthird").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let lines: Vec<String> = BufReader::new(&conn)
        .lines()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(lines, ["first", "second", "third"]);
    // Write on &Socket, Python's makefile('w').
    writeln!(&conn, "reply {}", 1).unwrap();
    let mut line = String::new();
    BufReader::new(&client).read_line(&mut line).unwrap();
    assert_eq!(line, "reply 1\n");
}

#[test]
fn read_and_write_on_an_owned_socket() {
    let (mut client, mut conn) = pair();
    client.write_all(b"owned").unwrap();
    client.flush().unwrap();
    let mut buf = [0u8; 5];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"owned");
}

#[test]
fn std_conversions_both_ways() {
    // TcpListener -> Socket -> accept; TcpStream <- Socket.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = Socket::from(listener);
    assert_eq!((srv.family(), srv.kind()), (Family::Inet, Kind::Stream));
    srv.settimeout(Some(GUARD)).unwrap();
    let std_client = TcpStream::connect(addr).unwrap();
    std_client
        .set_read_timeout(Some(Duration::from_secs(7)))
        .unwrap();
    let (conn, _) = srv.accept().unwrap();

    // A std stream carries its read timeout into the Socket.
    let client = Socket::from(std_client);
    assert_eq!(client.gettimeout(), Some(Duration::from_secs(7)));
    conn.sendall(b"x").unwrap();
    assert_eq!(client.recv(1).unwrap(), b"x");

    // Socket -> TcpStream keeps the timeout; -> TcpListener works.
    client.settimeout(Some(Duration::from_secs(3))).unwrap();
    let mut back: TcpStream = client.into();
    assert_eq!(back.read_timeout().unwrap(), Some(Duration::from_secs(3)));
    conn.sendall(b"y").unwrap();
    let mut b = [0u8; 1];
    back.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"y");
    let listener: TcpListener = srv.into();
    assert_eq!(listener.local_addr().unwrap(), addr);

    // UdpSocket both ways; non-blocking mode carries over.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let s = Socket::from(udp);
    assert_eq!(
        (s.kind(), s.gettimeout()),
        (Kind::Datagram, Some(Duration::ZERO))
    );
    let udp: UdpSocket = s.into();
    assert!(udp.local_addr().unwrap().ip().is_loopback());
}

#[test]
fn debug_shows_the_addresses() {
    let (client, _conn) = pair();
    let text = format!("{client:?}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(text.contains("Stream"), "{text}");
}

#[test]
fn as_fd_and_as_raw_fd_agree() {
    use std::os::fd::{AsFd, AsRawFd};
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(s.as_fd().as_raw_fd(), s.as_raw_fd());
}

#[test]
fn socket_is_send_and_sync() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<Socket>();
    check::<ServerOptions>();
}

#[test]
fn a_python_client_talks_to_a_socket_server() {
    let srv = server();
    let port = srv.getsockname().unwrap().port();
    let script = format!(
        r#"
import socket
s = socket.create_connection(("127.0.0.1", {port}), timeout=10)
s.sendall(b"hello from python\n")
f = s.makefile("rb")
print(f.readline().decode().rstrip("\n"))
s.shutdown(socket.SHUT_WR)
print(repr(s.recv(100)))
s.close()
"#
    );
    let child = thread::spawn(move || Command::new("python3").arg("-c").arg(script).output());
    let (conn, peer) = srv.accept().unwrap();
    assert!(peer.ip().is_loopback());
    conn.settimeout(Some(GUARD)).unwrap();
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line).unwrap();
    assert_eq!(line, "hello from python\n");
    conn.sendall(format!("echo: {line}").as_bytes()).unwrap();
    // Python half-closes: our recv sees end of file; then we close.
    assert_eq!(conn.recv(100).unwrap(), b"");
    conn.close();
    let out = child.join().unwrap().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "echo: hello from python\nb''\n"
    );
}

#[test]
fn shutdown_wakes_a_blocked_udp_recvfrom_with_an_error_not_a_panic() {
    let sock = std::sync::Arc::new(Socket::new(Family::Inet, Kind::Datagram).unwrap());
    sock.bind("127.0.0.1:0").unwrap();
    sock.settimeout(Some(Duration::from_secs(10))).unwrap();
    let s = sock.clone();
    let waiter = std::thread::spawn(move || s.recvfrom(1024));
    std::thread::sleep(Duration::from_millis(50)); // let it block
                                                   // Linux shuts an unconnected UDP socket down and wakes its readers, but reports
                                                   // ENOTCONN all the same.
    let _ = sock.shutdown(std::net::Shutdown::Read);
    let r = waiter.join().expect("recvfrom must not panic");
    let err = r.expect_err("no datagram arrived");
    assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
}
