//! Unix-domain sockets (`Family::Unix`): the `_unix` address calls by path in
//! a temp dir and by Linux abstract name, the errors for a call of the other
//! family, timeouts, `socketpair`, the std conversions, and Python's
//! `socket.AF_UNIX` as the peer both ways.

use std::io::{BufRead, ErrorKind, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::socket::{self, Family, Kind, Socket, UnixAddr};

/// Every blocking call in these tests gives up after this.
const GUARD: Duration = Duration::from_secs(10);

/// A fresh directory under the system's temp dir, removed with what is in it
/// when the guard drops.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "threadkit-unix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Linux abstract name unique to this process and `tag`: `"\0threadkit-..."`.
fn abstract_name(tag: &str) -> String {
    format!("\0threadkit-test-{}-{tag}", std::process::id())
}

fn unix(kind: Kind) -> Socket {
    let s = Socket::new(Family::Unix, kind).unwrap();
    s.settimeout(Some(GUARD)).unwrap();
    s
}

/// A listener at `path` and a (client, server side) connection to it.
fn connected(path: impl AsRef<Path>) -> (Socket, Socket, Socket) {
    let srv = unix(Kind::Stream);
    srv.bind_unix(&path).unwrap();
    srv.listen(8).unwrap();
    let client = unix(Kind::Stream);
    client.connect_unix(&path).unwrap();
    let (conn, _) = srv.accept_unix().unwrap();
    conn.settimeout(Some(GUARD)).unwrap();
    (srv, client, conn)
}

#[test]
fn bind_connect_and_accept_by_path() {
    let dir = TempDir::new();
    let path = dir.path("server.sock");
    let srv = unix(Kind::Stream);
    srv.bind_unix(&path).unwrap();
    srv.listen(8).unwrap();
    assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());
    assert_eq!(
        srv.getsockname_unix().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let client = unix(Kind::Stream);
    client.connect_unix(&path).unwrap();
    let (conn, peer) = srv.accept_unix().unwrap();
    assert!(peer.is_unnamed(), "the client did not bind: {peer:?}");
    assert_eq!((conn.family(), conn.kind()), (Family::Unix, Kind::Stream));
    assert_eq!(
        conn.getsockname_unix().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert_eq!(
        client.getpeername_unix().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert!(client.getsockname_unix().unwrap().is_unnamed());

    conn.settimeout(Some(GUARD)).unwrap();
    client.sendall(b"ping").unwrap();
    assert_eq!(conn.recv(16).unwrap(), b"ping");
    conn.sendall(b"pong").unwrap();
    assert_eq!(client.recv(16).unwrap(), b"pong");
    drop(client);
    assert!(
        conn.recv(16).unwrap().is_empty(),
        "EOF once the client closed"
    );
    drop(srv);
    assert!(
        path.exists(),
        "closing leaves the socket file, as in Python"
    );
}

#[test]
fn a_client_bound_to_a_path_is_the_peer_the_server_sees() {
    let dir = TempDir::new();
    let srv = unix(Kind::Stream);
    srv.bind_unix(dir.path("srv")).unwrap();
    srv.listen(1).unwrap();
    let client = unix(Kind::Stream);
    client.bind_unix(dir.path("cli")).unwrap();
    client.connect_unix(dir.path("srv")).unwrap();
    let (conn, peer) = srv.accept_unix().unwrap();
    assert_eq!(peer.as_pathname(), Some(dir.path("cli").as_path()));
    assert_eq!(
        conn.getpeername_unix().unwrap().as_pathname(),
        Some(dir.path("cli").as_path())
    );
}

#[test]
fn abstract_names_bind_connect_and_report_without_the_nul() {
    let name = abstract_name("abstract");
    let srv = unix(Kind::Stream);
    srv.bind_unix(&name).unwrap();
    srv.listen(1).unwrap();
    let addr = srv.getsockname_unix().unwrap();
    assert_eq!(addr.as_abstract_name(), Some(&name.as_bytes()[1..]));
    assert_eq!(addr.as_pathname(), None);
    assert!(!addr.is_unnamed());

    let taken = unix(Kind::Stream);
    assert_eq!(
        taken.bind_unix(&name).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );

    let client = unix(Kind::Stream);
    client.connect_unix(&name).unwrap();
    let (conn, _) = srv.accept_unix().unwrap();
    assert_eq!(
        client.getpeername_unix().unwrap().as_abstract_name(),
        Some(&name.as_bytes()[1..])
    );
    client.sendall(b"abstract").unwrap();
    conn.settimeout(Some(GUARD)).unwrap();
    assert_eq!(conn.recv(16).unwrap(), b"abstract");

    // The name is gone with the socket: no file keeps it.
    drop((srv, conn));
    let again = unix(Kind::Stream);
    again.bind_unix(&name).unwrap();
}

#[test]
fn an_abstract_name_keeps_its_exact_length() {
    // "\0ab" and "\0abc" are different names: the address length must not
    // include a trailing NUL or the rest of sun_path.
    let short = abstract_name("len");
    let long = format!("{short}x");
    let a = unix(Kind::Datagram);
    a.bind_unix(&short).unwrap();
    let b = unix(Kind::Datagram);
    b.bind_unix(&long).unwrap();
    let sender = unix(Kind::Datagram);
    sender.sendto_unix(b"to the long one", &long).unwrap();
    assert_eq!(b.recvfrom_unix(64).unwrap().0, b"to the long one");
    a.setblocking(false).unwrap();
    assert_eq!(a.recv(64).unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn datagrams_by_path_and_the_sender_address() {
    let dir = TempDir::new();
    let server = unix(Kind::Datagram);
    server.bind_unix(dir.path("srv")).unwrap();
    let client = unix(Kind::Datagram);
    client.bind_unix(dir.path("cli")).unwrap();
    assert_eq!(client.sendto_unix(b"hello", dir.path("srv")).unwrap(), 5);
    let (data, from) = server.recvfrom_unix(1024).unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(from.as_pathname(), Some(dir.path("cli").as_path()));
    // Answer to where it came from.
    let back = from.as_pathname().unwrap();
    server.sendto_unix(b"hello back", back).unwrap();
    let (data, from) = client.recvfrom_unix(1024).unwrap();
    assert_eq!(data, b"hello back");
    assert_eq!(from.as_pathname(), Some(dir.path("srv").as_path()));

    // A longer datagram is cut to bufsize, the rest discarded.
    client.sendto_unix(b"0123456789", dir.path("srv")).unwrap();
    client.sendto_unix(b"next", dir.path("srv")).unwrap();
    assert_eq!(server.recvfrom_unix(4).unwrap().0, b"0123");
    assert_eq!(server.recvfrom_unix(64).unwrap().0, b"next");
}

#[test]
fn an_unbound_sender_is_an_unnamed_address() {
    let name = abstract_name("unbound-sender");
    let server = unix(Kind::Datagram);
    server.bind_unix(&name).unwrap();
    let client = Socket::new(Family::Unix, Kind::Datagram).unwrap();
    client.sendto_unix(b"anonymous", &name).unwrap();
    let (data, from) = server.recvfrom_unix(64).unwrap();
    assert_eq!(data, b"anonymous");
    assert!(from.is_unnamed(), "{from:?}");
    assert_eq!(from.as_pathname(), None);
    assert_eq!(from.as_abstract_name(), None);
}

#[test]
fn a_connected_datagram_socket_sends_and_receives_without_an_address() {
    let name = abstract_name("connected-dgram");
    let server = unix(Kind::Datagram);
    server.bind_unix(&name).unwrap();
    let client = unix(Kind::Datagram);
    client.connect_unix(&name).unwrap();
    client.send(b"via connect").unwrap();
    assert_eq!(server.recv(64).unwrap(), b"via connect");
}

#[test]
fn recvfrom_unix_on_a_stream_is_recv_and_the_peer() {
    let name = abstract_name("stream-recvfrom");
    let (_srv, client, conn) = connected(&name);
    conn.sendall(b"data").unwrap();
    let (data, from) = client.recvfrom_unix(16).unwrap();
    assert_eq!(data, b"data");
    assert_eq!(from.as_abstract_name(), Some(&name.as_bytes()[1..]));
}

#[test]
fn names_of_unbound_and_unconnected_sockets() {
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    assert!(s.getsockname_unix().unwrap().is_unnamed());
    assert_eq!(
        s.getpeername_unix().unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    let debug = format!("{s:?}");
    assert!(debug.contains("family: Unix"), "{debug}");
}

#[test]
fn debug_shows_the_path() {
    let dir = TempDir::new();
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    s.bind_unix(dir.path("shown.sock")).unwrap();
    let debug = format!("{s:?}");
    assert!(debug.contains("shown.sock"), "{debug}");
}

/// The error of an address call of the wrong family, checked for its kind and message.
fn assert_wrong_family<T: std::fmt::Debug>(r: std::io::Result<T>, message: &str) {
    let err = r.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.to_string(), message);
}

#[test]
fn internet_calls_on_a_unix_socket_name_the_unix_call() {
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    s.bind_unix(abstract_name("wrong-family")).unwrap();
    s.listen(1).unwrap();
    let d = Socket::new(Family::Unix, Kind::Datagram).unwrap();
    let m = |call: &str| format!("{call} on a unix socket: use {call}_unix");
    assert_wrong_family(s.accept(), &m("accept"));
    assert_wrong_family(s.getsockname(), &m("getsockname"));
    assert_wrong_family(s.getpeername(), &m("getpeername"));
    assert_wrong_family(d.recvfrom(16), &m("recvfrom"));
    assert_wrong_family(
        d.recvfrom_into(&mut [0; 16]),
        "recvfrom on a unix socket: use recvfrom_unix",
    );
    assert_wrong_family(d.bind("127.0.0.1:0"), &m("bind"));
    assert_wrong_family(d.connect("127.0.0.1:9"), &m("connect"));
    assert_wrong_family(d.connect_ex("127.0.0.1:9"), &m("connect_ex"));
    assert_wrong_family(d.sendto(b"x", "127.0.0.1:9"), &m("sendto"));
}

#[test]
fn unix_calls_on_an_internet_socket_name_the_internet_call() {
    let s = socket::create_server("127.0.0.1:0").unwrap();
    let d = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    let m = |call: &str| format!("{call}_unix on an internet socket: use {call}");
    assert_wrong_family(d.bind_unix("/nonexistent/x"), &m("bind"));
    assert_wrong_family(d.connect_unix("/nonexistent/x"), &m("connect"));
    assert_wrong_family(d.connect_ex_unix("/nonexistent/x"), &m("connect_ex"));
    assert_wrong_family(s.accept_unix(), &m("accept"));
    assert_wrong_family(s.getsockname_unix(), &m("getsockname"));
    assert_wrong_family(s.getpeername_unix(), &m("getpeername"));
    assert_wrong_family(d.recvfrom_unix(16), &m("recvfrom"));
    assert_wrong_family(d.sendto_unix(b"x", "/nonexistent/x"), &m("sendto"));
}

#[test]
fn a_path_too_long_for_sun_path_is_invalid_input() {
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    let long = format!("/tmp/{}", "x".repeat(200));
    assert_eq!(
        s.bind_unix(&long).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        s.connect_ex_unix(&long).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn connecting_where_nothing_listens() {
    let dir = TempDir::new();
    let missing = dir.path("missing.sock");
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    assert_eq!(s.connect_ex_unix(&missing).unwrap(), libc::ENOENT);
    assert_eq!(
        s.connect_unix(&missing).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // A stale socket file: bound and listened to once, its socket closed.
    let stale = dir.path("stale.sock");
    let dead = Socket::new(Family::Unix, Kind::Stream).unwrap();
    dead.bind_unix(&stale).unwrap();
    dead.listen(1).unwrap();
    drop(dead);
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    assert_eq!(s.connect_ex_unix(&stale).unwrap(), libc::ECONNREFUSED);
    let timed = unix(Kind::Stream);
    assert_eq!(timed.connect_ex_unix(&stale).unwrap(), libc::ECONNREFUSED);
    assert_eq!(
        timed.connect_unix(&stale).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );

    let listening = dir.path("live.sock");
    let srv = unix(Kind::Stream);
    srv.bind_unix(&listening).unwrap();
    srv.listen(1).unwrap();
    let s = Socket::new(Family::Unix, Kind::Stream).unwrap();
    assert_eq!(s.connect_ex_unix(&listening).unwrap(), 0);
}

#[test]
fn accept_unix_with_a_timeout_times_out_and_non_blocking_would_block() {
    let srv = Socket::new(Family::Unix, Kind::Stream).unwrap();
    srv.bind_unix(abstract_name("accept-timeout")).unwrap();
    srv.listen(1).unwrap();
    let d = Duration::from_millis(150);
    srv.settimeout(Some(d)).unwrap();
    let start = Instant::now();
    let err = srv.accept_unix().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    let waited = start.elapsed();
    assert!(waited >= d && waited < GUARD, "waited {waited:?}");
    srv.setblocking(false).unwrap();
    assert_eq!(srv.accept_unix().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn the_accepted_socket_starts_blocking_whatever_the_listeners_timeout() {
    let name = abstract_name("accepted-mode");
    let srv = unix(Kind::Stream);
    srv.bind_unix(&name).unwrap();
    srv.listen(1).unwrap();
    let client = unix(Kind::Stream);
    client.connect_unix(&name).unwrap();
    let (conn, _) = srv.accept_unix().unwrap();
    assert_eq!(conn.gettimeout(), None);
    assert_eq!(conn.family(), Family::Unix);
}

#[test]
fn connect_unix_to_a_full_backlog_times_out_or_would_block() {
    let name = abstract_name("full-backlog");
    let srv = Socket::new(Family::Unix, Kind::Stream).unwrap();
    srv.bind_unix(&name).unwrap();
    srv.listen(0).unwrap();
    // Linux queues one connection beyond a backlog of 0, then the queue is full.
    let mut queued = Vec::new();
    for _ in 0..8 {
        let c = Socket::new(Family::Unix, Kind::Stream).unwrap();
        c.setblocking(false).unwrap();
        match c.connect_unix(&name) {
            Ok(()) => queued.push(c),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
                break;
            }
        }
    }
    assert!(!queued.is_empty() && queued.len() < 8, "{}", queued.len());

    let d = Duration::from_millis(150);
    let timed = Socket::new(Family::Unix, Kind::Stream).unwrap();
    timed.settimeout(Some(d)).unwrap();
    let start = Instant::now();
    let err = timed.connect_unix(&name).unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(waited >= d && waited < GUARD, "waited {waited:?}");
    assert_eq!(
        timed.getpeername_unix().unwrap_err().kind(),
        ErrorKind::NotConnected,
        "a timed-out connect is not a connection"
    );
    assert_eq!(timed.connect_ex_unix(&name).unwrap(), libc::EWOULDBLOCK);

    // Once the server accepts, a waiting connect gets through.
    let waiter = thread::spawn(move || {
        let c = Socket::new(Family::Unix, Kind::Stream).unwrap();
        c.settimeout(Some(GUARD)).unwrap();
        c.connect_unix(&name).map(|()| c)
    });
    srv.settimeout(Some(GUARD)).unwrap();
    let _first = srv.accept_unix().unwrap();
    let c = waiter.join().unwrap().unwrap();
    assert!(c.getpeername_unix().is_ok());
}

#[test]
fn makefile_reads_lines_over_a_unix_stream() {
    let dir = TempDir::new();
    let (_srv, client, conn) = connected(dir.path("lines.sock"));
    client.sendall(b"first line\nsecond").unwrap();
    client.sendall(b" line\nno newline").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut f = conn.makefile().unwrap();
    assert_eq!(f.readline().unwrap(), b"first line\n");
    let mut line = String::new();
    f.read_line(&mut line).unwrap();
    assert_eq!(line, "second line\n");
    assert_eq!(f.readline().unwrap(), b"no newline");
    assert_eq!(f.readline().unwrap(), b"", "end of input");
    f.write_all(b"answer\n").unwrap();
    f.flush().unwrap();
    assert_eq!(client.recv(16).unwrap(), b"answer\n");
}

#[test]
fn peek_leaves_the_data_and_try_clone_shares_the_connection() {
    let name = abstract_name("peek-clone");
    let (_srv, client, conn) = connected(&name);
    client.sendall(b"GET /").unwrap();
    let mut head = [0u8; 3];
    let n = conn.peek(&mut head).unwrap();
    assert_eq!(&head[..n], &b"GET"[..n]);
    let mut all = [0u8; 5];
    (&conn).read_exact(&mut all).unwrap();
    assert_eq!(&all, b"GET /");

    let writer = client.try_clone().unwrap();
    assert_eq!(writer.family(), Family::Unix);
    let t = thread::spawn(move || writer.sendall(b"from the clone"));
    t.join().unwrap().unwrap();
    let mut buf = [0u8; 14];
    (&conn).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"from the clone");
    // The clone shares the timeout mode, as the descriptor does.
    let clone = conn.try_clone().unwrap();
    clone.settimeout(Some(Duration::from_millis(50))).unwrap();
    assert_eq!(conn.recv(1).unwrap_err().kind(), ErrorKind::TimedOut);
}

#[test]
fn sendfile_over_a_unix_stream() {
    let dir = TempDir::new();
    let file_path = dir.path("payload");
    std::fs::write(&file_path, b"a file over a unix socket").unwrap();
    let file = std::fs::File::open(&file_path).unwrap();
    let (_srv, client, conn) = connected(dir.path("sendfile.sock"));
    assert_eq!(client.sendfile(&file, 7, None).unwrap(), 18);
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    (&conn).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"over a unix socket");
}

#[test]
fn socketpair_is_a_unix_stream_pair() {
    let (a, b) = socket::socketpair().unwrap();
    assert_eq!((a.family(), a.kind()), (Family::Unix, Kind::Stream));
    assert_eq!((b.family(), b.kind()), (Family::Unix, Kind::Stream));
    assert!(a.getsockname_unix().unwrap().is_unnamed());
    assert!(b.getpeername_unix().unwrap().is_unnamed());
    b.settimeout(Some(GUARD)).unwrap();
    a.settimeout(Some(GUARD)).unwrap();
    a.sendall(b"ping").unwrap();
    assert_eq!(b.recv(16).unwrap(), b"ping");
    b.sendall(b"pong").unwrap();
    assert_eq!(a.recv(16).unwrap(), b"pong");
    assert_eq!(
        b.getsockname().unwrap_err().kind(),
        ErrorKind::InvalidInput,
        "an internet address call on the pair"
    );
    drop(a);
    assert!(b.recv(16).unwrap().is_empty());
    assert_eq!(b.send(b"x").unwrap_err().kind(), ErrorKind::BrokenPipe);
}

#[test]
fn std_unix_types_convert_both_ways() {
    let dir = TempDir::new();
    let path = dir.path("std.sock");
    let listener = Socket::from(UnixListener::bind(&path).unwrap());
    assert_eq!(
        (listener.family(), listener.kind()),
        (Family::Unix, Kind::Stream)
    );
    listener.settimeout(Some(GUARD)).unwrap();
    let mut std_client = UnixStream::connect(&path).unwrap();
    let (conn, _) = listener.accept_unix().unwrap();
    std_client.write_all(b"from std").unwrap();
    let mut got = [0u8; 8];
    (&conn).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"from std");

    let mut back = UnixStream::from(conn);
    back.write_all(b"back").unwrap();
    let mut got = [0u8; 4];
    std_client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"back");
    let client = Socket::from(std_client);
    assert_eq!(client.family(), Family::Unix);
    assert_eq!(
        client.getpeername_unix().unwrap().as_pathname(),
        Some(path.as_path())
    );
    let std_listener = UnixListener::from(listener);
    assert_eq!(
        std_listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let (d1, d2) = UnixDatagram::pair().unwrap();
    let d1 = Socket::from(d1);
    assert_eq!((d1.family(), d1.kind()), (Family::Unix, Kind::Datagram));
    d1.send(b"dgram").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(d2.recv(&mut buf).unwrap(), 5);
    let d1 = UnixDatagram::from(d1);
    d2.send(b"again").unwrap();
    assert_eq!(d1.recv(&mut buf).unwrap(), 5);
}

#[test]
fn unix_addr_is_stds_type() {
    let addr: UnixAddr = std::os::unix::net::SocketAddr::from_pathname("/tmp/x.sock").unwrap();
    assert_eq!(addr.as_pathname(), Some(Path::new("/tmp/x.sock")));
}

/// A `python3` child that the test kills when it ends, however it ends.
struct Python(Child);

impl Python {
    /// Starts `python3 -c script args...`, or `None` (with a note) when there
    /// is no python3 on the machine.
    fn start(script: &str, args: &[&str]) -> Option<Python> {
        match Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => Some(Python(child)),
            Err(e) => {
                eprintln!("skipped: python3 is not available ({e})");
                None
            }
        }
    }

    /// Waits (at most `GUARD`) for the child to end; its stdout, checking that
    /// it succeeded.
    fn output(mut self) -> String {
        let deadline = Instant::now() + GUARD;
        let status = loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "python3 did not end");
            thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        self.0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        self.0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "python3 failed: {err}");
        out
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn python_af_unix_client_talks_to_our_server() {
    let dir = TempDir::new();
    let path = dir.path("ours.sock");
    let srv = unix(Kind::Stream);
    srv.bind_unix(&path).unwrap();
    srv.listen(1).unwrap();
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
print(repr(s.getpeername()))
s.sendall(b"hello from python\n")
f = s.makefile("rb")
print(repr(f.readline()))
s.close()
"#;
    let Some(py) = Python::start(script, &[path.to_str().unwrap()]) else {
        return;
    };
    let (conn, peer) = srv.accept_unix().unwrap();
    assert!(peer.is_unnamed());
    conn.settimeout(Some(GUARD)).unwrap();
    let mut f = conn.makefile().unwrap();
    let line = f.readline().unwrap();
    assert_eq!(line, b"hello from python\n");
    conn.sendall(b"echo: ").unwrap();
    conn.sendall(&line).unwrap();
    assert_eq!(
        py.output(),
        format!("'{}'\nb'echo: hello from python\\n'\n", path.display())
    );
}

#[test]
fn we_talk_to_a_python_af_unix_server_by_abstract_name() {
    let name = abstract_name("python-server");
    let script = r#"
import socket, sys
name = "\0" + sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.settimeout(10)
srv.bind(name)
srv.listen(1)
print("listening", flush=True)
conn, peer = srv.accept()
conn.settimeout(10)
data = conn.recv(100)
conn.sendall(b"python got " + data)
print(repr(peer), repr(conn.getsockname()))
conn.close()
"#;
    let Some(py) = Python::start(script, &[&name[1..]]) else {
        return;
    };
    // Python binds when it is ready: try until it listens, within the guard.
    let client = unix(Kind::Stream);
    let deadline = Instant::now() + GUARD;
    loop {
        match client.connect_ex_unix(&name).unwrap() {
            0 => break,
            errno => {
                assert_eq!(errno, libc::ECONNREFUSED, "not yet bound");
                assert!(Instant::now() < deadline, "python3 never listened");
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    assert_eq!(
        client.getpeername_unix().unwrap().as_abstract_name(),
        Some(&name.as_bytes()[1..])
    );
    client.sendall(b"hi").unwrap();
    let mut got = Vec::new();
    (&client).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"python got hi");
    assert_eq!(
        py.output(),
        format!("listening\n'' b'\\x00{}'\n", &name[1..])
    );
}

#[test]
fn python_af_unix_datagrams_both_ways() {
    let dir = TempDir::new();
    let ours = dir.path("ours.dgram");
    let theirs = dir.path("theirs.dgram");
    let sock = unix(Kind::Datagram);
    sock.bind_unix(&ours).unwrap();
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(10)
s.bind(sys.argv[2])
s.sendto(b"ping", sys.argv[1])
data, addr = s.recvfrom(100)
print(repr(data), addr == sys.argv[1])
"#;
    let Some(py) = Python::start(script, &[ours.to_str().unwrap(), theirs.to_str().unwrap()])
    else {
        return;
    };
    let (data, from) = sock.recvfrom_unix(100).unwrap();
    assert_eq!(data, b"ping");
    assert_eq!(from.as_pathname(), Some(theirs.as_path()));
    sock.sendto_unix(b"pong", from.as_pathname().unwrap())
        .unwrap();
    assert_eq!(py.output(), "b'pong' True\n");
}
