use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::socket;
use crate::tls::session::is_tls_error;
use crate::tls::testing;

/// A connected pair of loopback sockets: (server side, client side).
fn sockets() -> (Arc<Socket>, Arc<Socket>) {
    let listener = socket::create_server("127.0.0.1:0").unwrap();
    let client = socket::create_connection(listener.getsockname().unwrap(), None).unwrap();
    let (server, _) = listener.accept().unwrap();
    (Arc::new(server), Arc::new(client))
}

const LIMIT: Option<Duration> = Some(Duration::from_secs(10));

fn recv_exact(s: &TlsStream, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {} of {n} bytes", got.len());
        match s.recv_into(&mut buf) {
            Ok(0) => break,
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("{e}"),
        }
    }
    got
}

#[test]
fn a_handshake_and_a_megabyte_each_way_over_loopback() {
    let (config, connector) = testing::pair();
    let (s, c) = sockets();
    s.settimeout(LIMIT).unwrap();
    c.settimeout(LIMIT).unwrap();
    let server = Arc::new(TlsStream::server(s, &config).unwrap());
    let client = TlsStream::client(c, &connector, "127.0.0.1").unwrap();
    let data: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
    std::thread::scope(|scope| {
        let echo = scope.spawn(|| {
            server.handshake(LIMIT).unwrap();
            let got = recv_exact(&server, data.len());
            server.sendall(&got).unwrap();
            server.shutdown_write().unwrap();
        });
        client.handshake(LIMIT).unwrap();
        client.sendall(&data).unwrap();
        let back = recv_exact(&client, data.len());
        assert!(back == data);
        // The server's close_notify: the end of input.
        let mut buf = [0u8; 16];
        loop {
            match client.recv_into(&mut buf) {
                Ok(n) => break assert_eq!(n, 0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("{e}"),
            }
        }
        echo.join().unwrap();
    });
}

#[test]
fn a_client_that_sends_garbage_fails_the_handshake() {
    let (config, _) = testing::pair();
    let (s, c) = sockets();
    let server = TlsStream::server(s, &config).unwrap();
    c.sendall(b"hello\n").unwrap();
    let e = server.handshake(LIMIT).unwrap_err();
    assert!(is_tls_error(&e), "{e:?}");
}

#[test]
fn a_silent_client_times_the_handshake_out_and_one_that_leaves_is_eof() {
    let (config, _) = testing::pair();
    let (s, c) = sockets();
    let server = TlsStream::server(s, &config).unwrap();
    let start = Instant::now();
    let e = server
        .handshake(Some(Duration::from_millis(200)))
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(200));
    drop(c);
    let (s, c) = sockets();
    let server = TlsStream::server(s, &config).unwrap();
    drop(c);
    let e = server.handshake(LIMIT).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn an_untrusted_server_fails_the_client_handshake() {
    let (config, _) = testing::pair();
    let (_, stranger) = testing::pair();
    let (s, c) = sockets();
    let server = TlsStream::server(s, &config).unwrap();
    let client = TlsStream::client(c, &stranger, "localhost").unwrap();
    std::thread::scope(|scope| {
        let serving = scope.spawn(|| server.handshake(LIMIT));
        let e = client.handshake(LIMIT).unwrap_err();
        assert!(
            is_tls_error(&e) && e.to_string().contains("invalid peer certificate"),
            "{e}"
        );
        assert!(serving.join().unwrap().is_err());
    });
}
