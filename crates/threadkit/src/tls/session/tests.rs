use std::io::{self, Write};

use super::*;
use crate::tls::testing;

/// A writer that takes at most `room` more bytes, then says `WouldBlock`.
struct Pipe {
    bytes: Vec<u8>,
    room: usize,
}

impl Pipe {
    fn open() -> Pipe {
        Pipe {
            bytes: Vec::new(),
            room: usize::MAX,
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = data.len().min(self.room);
        self.room -= n;
        self.bytes.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Moves everything `from` wants to write into `to`.
fn pass(from: &mut Session, to: &mut Session) -> io::Result<()> {
    let mut pipe = Pipe::open();
    assert!(from.flush(&mut pipe)?);
    to.receive(&pipe.bytes)
}

fn handshaken() -> (Session, Session) {
    let (config, connector) = testing::pair();
    let mut server = Session::server(&config).unwrap();
    let mut client = Session::client(&connector, "localhost").unwrap();
    for _ in 0..10 {
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
        pass(&mut client, &mut server).unwrap();
        pass(&mut server, &mut client).unwrap();
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
    // The server's last flight (tickets) reaches the client.
    pass(&mut server, &mut client).unwrap();
    (server, client)
}

/// All the plaintext `s` holds now.
fn read_all(s: &mut Session) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        match s.read_plain(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn lines_go_both_ways_after_the_handshake() {
    let (mut server, mut client) = handshaken();
    let mut pipe = Pipe::open();
    assert_eq!(client.send(b"hello\n", &mut pipe).unwrap(), 6);
    server.receive(&pipe.bytes).unwrap();
    assert_eq!(read_all(&mut server), b"hello\n");
    let mut pipe = Pipe::open();
    assert_eq!(server.send(b"hello\n", &mut pipe).unwrap(), 6);
    client.receive(&pipe.bytes).unwrap();
    assert_eq!(read_all(&mut client), b"hello\n");
}

#[test]
fn a_partial_write_is_reported_once_its_ciphertext_is_out() {
    let (mut server, mut client) = handshaken();
    // 300 KiB of distinct bytes, through a socket that takes 1,000 bytes a turn.
    let data: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    let mut rest = &data[..];
    let mut wire = Vec::new();
    let mut turns = 0;
    while !rest.is_empty() {
        turns += 1;
        assert!(turns < 100_000, "no progress");
        let mut pipe = Pipe {
            bytes: Vec::new(),
            room: 1000,
        };
        let n = client.send(rest, &mut pipe).unwrap();
        assert!(n <= rest.len());
        rest = &rest[n..];
        wire.extend_from_slice(&pipe.bytes);
    }
    let mut pipe = Pipe::open();
    assert!(client.flush(&mut pipe).unwrap());
    wire.extend_from_slice(&pipe.bytes);
    // Fed in pieces, read as it comes: exactly the bytes, once, in order.
    let mut got = Vec::new();
    for piece in wire.chunks(7000) {
        got.extend(read_all(&mut server));
        server.receive(piece).unwrap();
    }
    got.extend(read_all(&mut server));
    assert_eq!(got.len(), data.len());
    assert!(got == data);
}

#[test]
fn a_full_socket_takes_nothing_and_the_same_bytes_go_later() {
    let (mut server, mut client) = handshaken();
    let mut full = Pipe {
        bytes: Vec::new(),
        room: 0,
    };
    assert_eq!(client.send(b"abc\n", &mut full).unwrap(), 0);
    let mut pipe = Pipe::open();
    assert_eq!(client.send(b"abc\n", &mut pipe).unwrap(), 4);
    server.receive(&pipe.bytes).unwrap();
    assert_eq!(read_all(&mut server), b"abc\n");
}

#[test]
fn garbage_is_a_tls_error_with_an_alert_for_the_peer() {
    let (config, _) = testing::pair();
    let mut server = Session::server(&config).unwrap();
    let e = server.receive(b"GET / HTTP/1.0\r\n\r\n").unwrap_err();
    assert!(is_tls_error(&e), "{e:?}");
    let mut pipe = Pipe::open();
    server.flush(&mut pipe).unwrap();
    assert!(!pipe.bytes.is_empty(), "no alert");
}

#[test]
fn the_wrong_name_is_refused_by_the_client() {
    let (config, connector) = testing::pair();
    let mut server = Session::server(&config).unwrap();
    let mut client = Session::client(&connector, "example.org").unwrap();
    pass(&mut client, &mut server).unwrap();
    let e = pass(&mut server, &mut client).unwrap_err();
    assert!(is_tls_error(&e));
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn close_notify_and_a_bare_end_both_end_the_input() {
    let (mut server, mut client) = handshaken();
    client.close_notify();
    pass(&mut client, &mut server).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(server.read_plain(&mut buf).unwrap(), 0);

    let (mut server, _client) = handshaken();
    assert_eq!(
        server.read_plain(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    server.receive_eof();
    assert_eq!(server.read_plain(&mut buf).unwrap(), 0);
}

#[test]
fn a_burst_bigger_than_rustls_takes_at_once_is_kept_and_fed_as_read() {
    let (mut server, mut client) = handshaken();
    let data = vec![b'x'; 100 * 1024];
    let mut pipe = Pipe::open();
    let mut rest = &data[..];
    while !rest.is_empty() {
        let n = client.send(rest, &mut pipe).unwrap();
        rest = &rest[n..];
    }
    // All 100 KiB of ciphertext at once: rustls holds 16 KiB of plaintext.
    server.receive(&pipe.bytes).unwrap();
    assert!(!server.unfed.is_empty());
    assert_eq!(read_all(&mut server).len(), data.len());
    assert!(server.unfed.is_empty());
}
