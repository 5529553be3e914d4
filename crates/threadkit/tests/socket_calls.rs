//! Python's other socket calls: `socketpair`, `connect_ex`, `peek`,
//! `recvfrom_into`, `sendfile`, `dup` (`try_clone`) and `makefile`, on 127.0.0.1.

use std::fs::File;
use std::io::{BufRead, ErrorKind, Read, Seek, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use threadkit::socket::{self, Family, Kind, Socket};

/// Every blocking call in these tests gives up after this.
const GUARD: Duration = Duration::from_secs(10);

/// A connected (client, server side) pair, both with the guard timeout.
fn connected() -> (Socket, Socket) {
    let srv = socket::create_server("127.0.0.1:0").unwrap();
    srv.settimeout(Some(GUARD)).unwrap();
    let client = socket::create_connection(srv.getsockname().unwrap(), Some(GUARD)).unwrap();
    let (conn, _) = srv.accept().unwrap();
    conn.settimeout(Some(GUARD)).unwrap();
    (client, conn)
}

fn udp() -> Socket {
    let s = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    s.bind("127.0.0.1:0").unwrap();
    s.settimeout(Some(GUARD)).unwrap();
    s
}

/// An address where nothing listens: a port the system gave out, then freed.
fn closed_port() -> std::net::SocketAddr {
    let l = socket::create_server("127.0.0.1:0").unwrap();
    l.getsockname().unwrap()
}

/// A temp file of `len` patterned bytes, removed when the guard drops.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, len: usize) -> (TempFile, Vec<u8>) {
        let path = std::env::temp_dir().join(format!(
            "threadkit-{name}-{}-{:?}",
            std::process::id(),
            thread::current().id()
        ));
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        (TempFile(path), data)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads everything until the peer shuts its side down.
fn read_to_end(sock: &Socket) -> Vec<u8> {
    let mut got = Vec::new();
    (&*sock).read_to_end(&mut got).unwrap();
    got
}

#[test]
fn socketpair_round_trip_both_ways() {
    let (a, b) = socket::socketpair().unwrap();
    a.settimeout(Some(GUARD)).unwrap();
    b.settimeout(Some(GUARD)).unwrap();
    a.sendall(b"ping").unwrap();
    assert_eq!(b.recv(16).unwrap(), b"ping");
    b.sendall(b"pong").unwrap();
    assert_eq!(a.recv(16).unwrap(), b"pong");
    assert!(a.getpeername_unix().unwrap().is_unnamed());
    assert!(b.getsockname_unix().unwrap().is_unnamed());
    assert_eq!(a.gettimeout(), Some(GUARD));
    drop(a);
    assert!(
        b.recv(16).unwrap().is_empty(),
        "closing one end is EOF at the other"
    );
}

#[test]
fn socketpair_sockets_start_blocking() {
    let (a, b) = socket::socketpair().unwrap();
    assert_eq!(a.gettimeout(), None);
    assert_eq!(b.gettimeout(), None);
    assert_eq!((a.family(), a.kind()), (Family::Unix, Kind::Stream));
    assert_eq!((b.family(), b.kind()), (Family::Unix, Kind::Stream));
}

#[test]
fn connect_ex_to_a_closed_port_returns_econnrefused() {
    let addr = closed_port();
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(s.connect_ex(addr).unwrap(), libc::ECONNREFUSED);
    let timed = Socket::new(Family::Inet, Kind::Stream).unwrap();
    timed.settimeout(Some(GUARD)).unwrap();
    assert_eq!(timed.connect_ex(addr).unwrap(), libc::ECONNREFUSED);
}

#[test]
fn connect_ex_returns_zero_on_success_and_einprogress_non_blocking() {
    let srv = socket::create_server("127.0.0.1:0").unwrap();
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(s.connect_ex(srv.getsockname().unwrap()).unwrap(), 0);
    assert_eq!(s.getpeername().unwrap(), srv.getsockname().unwrap());

    let nb = Socket::new(Family::Inet, Kind::Stream).unwrap();
    nb.setblocking(false).unwrap();
    let errno = nb.connect_ex(srv.getsockname().unwrap()).unwrap();
    assert!(errno == libc::EINPROGRESS || errno == 0, "got {errno}");
}

#[test]
fn connect_ex_raises_for_what_is_not_connects_answer() {
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    let err = s.connect_ex("[::1]:80").unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "no ipv4 address to use"
    );
}

#[test]
fn peek_leaves_the_data_for_recv() {
    let (client, conn) = connected();
    client.sendall(b"hello").unwrap();
    let mut buf = [0u8; 16];
    // Loopback delivers the five bytes at once; peek waits for the first ones.
    let n = conn.peek(&mut buf).unwrap();
    assert!(n > 0 && buf[..n] == b"hello"[..n]);
    let n2 = conn.peek(&mut buf).unwrap();
    assert!(n2 >= n, "a second peek sees at least as much");
    let mut got = Vec::new();
    while got.len() < 5 {
        got.extend(conn.recv(16).unwrap());
    }
    assert_eq!(got, b"hello");
}

#[test]
fn peek_on_udp_sees_the_next_datagram_and_leaves_it() {
    let (a, b) = (udp(), udp());
    a.sendto(b"datagram", b.getsockname().unwrap()).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(b.peek(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"data");
    assert_eq!(b.recvfrom(64).unwrap().0, b"datagram");
}

#[test]
fn peek_times_out_like_recv() {
    let (_client, conn) = connected();
    conn.settimeout(Some(Duration::from_millis(50))).unwrap();
    let start = Instant::now();
    let err = conn.peek(&mut [0u8; 4]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn recvfrom_into_gives_size_and_sender() {
    let (a, b) = (udp(), udp());
    a.sendto(b"ping", b.getsockname().unwrap()).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = b.recvfrom_into(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"ping"[..], a.getsockname().unwrap()));

    // A longer datagram is cut to the buffer; the rest is gone.
    a.sendto(b"0123456789", b.getsockname().unwrap()).unwrap();
    let mut small = [0u8; 4];
    assert_eq!(b.recvfrom_into(&mut small).unwrap().0, 4);
    assert_eq!(&small, b"0123");
    a.sendto(b"next", b.getsockname().unwrap()).unwrap();
    assert_eq!(b.recvfrom(64).unwrap().0, b"next");
}

#[test]
fn recvfrom_into_on_a_stream_names_the_peer() {
    let (client, conn) = connected();
    client.sendall(b"abc").unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = conn.recvfrom_into(&mut buf).unwrap();
    assert!(n > 0);
    assert_eq!(from, client.getsockname().unwrap());
}

#[test]
fn sendfile_of_a_one_mib_file_arrives_whole() {
    let (tmp, data) = TempFile::new("sendfile-whole", 1 << 20);
    let mut file = File::open(&tmp.0).unwrap();
    let (client, conn) = connected();
    let reader = thread::spawn(move || read_to_end(&conn));
    assert_eq!(client.sendfile(&file, 0, None).unwrap(), 1 << 20);
    assert_eq!(file.stream_position().unwrap(), 1 << 20);
    client.shutdown(Shutdown::Write).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes arrive in order, unchanged");
}

#[test]
fn sendfile_with_offset_and_count_sends_that_slice() {
    let (tmp, data) = TempFile::new("sendfile-slice", 100_000);
    let mut file = File::open(&tmp.0).unwrap();
    let (client, conn) = connected();
    let reader = thread::spawn(move || read_to_end(&conn));
    assert_eq!(client.sendfile(&file, 1000, Some(5000)).unwrap(), 5000);
    assert_eq!(file.stream_position().unwrap(), 6000);
    // A count past the end stops at the end of the file.
    assert_eq!(client.sendfile(&file, 99_000, Some(5000)).unwrap(), 1000);
    assert_eq!(client.sendfile(&file, 200_000, None).unwrap(), 0);
    client.shutdown(Shutdown::Write).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got[..5000], data[1000..6000]);
    assert_eq!(got[5000..], data[99_000..]);
}

#[test]
fn sendfile_refuses_datagram_and_non_blocking_sockets() {
    let (tmp, _) = TempFile::new("sendfile-refused", 10);
    let file = File::open(&tmp.0).unwrap();
    let err = udp().sendfile(&file, 0, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let (client, _conn) = connected();
    client.setblocking(false).unwrap();
    let err = client.sendfile(&file, 0, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn try_clone_shares_the_connection_and_the_timeout() {
    let (client, conn) = connected();
    let clone = client.try_clone().unwrap();
    clone.sendall(b"via the clone").unwrap();
    let mut buf = [0u8; 13];
    (&conn).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"via the clone");

    clone.settimeout(Some(Duration::from_millis(40))).unwrap();
    assert_eq!(client.gettimeout(), Some(Duration::from_millis(40)));
    let start = Instant::now();
    assert_eq!(client.recv(4).unwrap_err().kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(40));

    drop(client);
    conn.sendall(b"still open").unwrap();
    clone.settimeout(Some(GUARD)).unwrap();
    let mut back = [0u8; 10];
    (&clone).read_exact(&mut back).unwrap();
    assert_eq!(&back, b"still open", "the clone keeps the connection open");
}

#[test]
fn makefile_reads_lines_and_keeps_the_rest_buffered() {
    let (client, conn) = connected();
    let mut f = conn.makefile().unwrap();
    client.sendall(b"first\nsecond\nthi").unwrap();
    assert_eq!(f.readline().unwrap(), b"first\n");
    assert_eq!(f.readline().unwrap(), b"second\n");
    client.sendall(b"rd\n").unwrap();
    assert_eq!(f.readline().unwrap(), b"third\n");
    client.sendall(b"toolongline\n").unwrap();
    assert_eq!(f.readline_limit(4).unwrap(), b"tool");
    assert_eq!(f.readline_limit(100).unwrap(), b"ongline\n");
    f.write_all(b"reply\n").unwrap();
    f.flush().unwrap();
    let mut back = client.makefile().unwrap();
    assert_eq!(back.readline().unwrap(), b"reply\n");
    client.sendall(b"a\nb\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let lines: Vec<String> = f.lines().map(Result::unwrap).collect();
    assert_eq!(lines, ["a", "b"]);
}

#[test]
fn makefile_outlives_its_socket_and_reports_eof() {
    let (client, conn) = connected();
    let mut f = conn.makefile().unwrap();
    drop(conn);
    client.sendall(b"after the socket was dropped\n").unwrap();
    assert_eq!(f.readline().unwrap(), b"after the socket was dropped\n");
    drop(client);
    assert!(f.readline().unwrap().is_empty());
    assert!(f.readline().unwrap().is_empty(), "end of file stays");
}

#[test]
fn makefile_readline_times_out_with_the_socket() {
    let (_client, conn) = connected();
    conn.settimeout(Some(Duration::from_millis(50))).unwrap();
    let mut f = conn.makefile().unwrap();
    let start = Instant::now();
    assert_eq!(f.readline().unwrap_err().kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(format!("{f:?}").contains("SocketFile"));
}

#[test]
fn makefile_against_a_python_client() {
    let srv = socket::create_server("127.0.0.1:0").unwrap();
    srv.settimeout(Some(GUARD)).unwrap();
    let port = srv.getsockname().unwrap().port();
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {port}), timeout=10)\n\
         f = s.makefile('rwb')\n\
         f.write(b'hello from python\\n'); f.flush()\n\
         print(f.readline().decode().strip())\n"
    );
    let child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let (conn, _) = srv.accept().unwrap();
    conn.settimeout(Some(GUARD)).unwrap();
    let mut f = conn.makefile().unwrap();
    let line = f.readline().unwrap();
    assert_eq!(line, b"hello from python\n");
    f.write_all(b"hello from rust\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from rust"
    );
}

#[test]
fn connect_ex_timing_out_returns_ewouldblock_as_python() {
    // A listener with a full accept queue drops new SYNs, so on the loopback a
    // connect waits until its timeout (Python's connect_ex returns 11 there).
    let srv = Socket::new(Family::Inet, Kind::Stream).unwrap();
    srv.bind("127.0.0.1:0").unwrap();
    srv.listen(0).unwrap();
    let addr = srv.getsockname().unwrap();
    let mut held = Vec::new();
    let d = Duration::from_millis(200);
    let mut timed_out = false;
    for _ in 0..5 {
        let c = Socket::new(Family::Inet, Kind::Stream).unwrap();
        c.settimeout(Some(d)).unwrap();
        let start = Instant::now();
        let errno = c.connect_ex(addr).unwrap();
        if errno != 0 {
            assert_eq!(errno, libc::EWOULDBLOCK);
            assert!(start.elapsed() >= d);
            timed_out = true;
            break;
        }
        held.push(c);
    }
    assert!(timed_out, "the accept queue never filled");
}

#[test]
fn sendfile_to_a_peer_that_stops_reading_times_out_and_moves_the_file_on() {
    let (tmp, _) = TempFile::new("sendfile-timeout", 16 << 20);
    let mut file = File::open(&tmp.0).unwrap();
    let (client, _conn) = connected();
    client.set_send_buffer_size(16 * 1024).unwrap();
    let d = Duration::from_millis(100);
    client.settimeout(Some(d)).unwrap();
    let start = Instant::now();
    let err = client.sendfile(&file, 0, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= d);
    let pos = file.stream_position().unwrap();
    assert!(
        pos > 0 && pos < 16 << 20,
        "position after what was sent: {pos}"
    );
}
