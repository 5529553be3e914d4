//! `threadkit::client`: the interactive TCP client and `udp_send`, against small
//! servers written here with `threadkit::socket` and against a Python 3 server,
//! on 127.0.0.1 only.

use std::io::{self, BufRead, BufReader, Cursor, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::client;
use threadkit::socket::{self, Family, Kind, ServerOptions, Socket};

/// Every blocking call in these tests gives up after this.
const GUARD: Duration = Duration::from_secs(10);

/// A listening server with the guard timeout, and its address as text.
fn listener() -> (Socket, String) {
    let s = socket::create_server("127.0.0.1:0").expect("create_server");
    s.settimeout(Some(GUARD)).unwrap();
    let addr = s.getsockname().unwrap().to_string();
    (s, addr)
}

/// Serves one connection on a thread with `handle`, which gets the connection with
/// the guard timeout set.
fn serve_one<T: Send + 'static>(
    server: Socket,
    handle: impl FnOnce(Socket) -> io::Result<T> + Send + 'static,
) -> thread::JoinHandle<io::Result<T>> {
    thread::spawn(move || {
        let (conn, _) = server.accept()?;
        conn.settimeout(Some(GUARD))?;
        handle(conn)
    })
}

/// Echoes until the client half-closes, then closes; returns the bytes echoed.
fn echo(conn: Socket) -> io::Result<Vec<u8>> {
    let mut seen = Vec::new();
    loop {
        let data = conn.recv(4096)?;
        if data.is_empty() {
            return Ok(seen);
        }
        conn.sendall(&data)?;
        seen.extend(data);
    }
}

/// Input that blocks until the test feeds it or drops the sender: a terminal where
/// nobody types.
struct FedInput {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Cursor<Vec<u8>>,
}

impl FedInput {
    fn new() -> (mpsc::Sender<Vec<u8>>, FedInput) {
        let (tx, rx) = mpsc::channel();
        (
            tx,
            FedInput {
                rx,
                buf: Cursor::new(Vec::new()),
            },
        )
    }
}

impl Read for FedInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.read(out)?;
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for FedInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.buf.position() as usize == self.buf.get_ref().len() {
            // A closed channel is the end of input.
            let next = self.rx.recv().unwrap_or_default();
            self.buf = Cursor::new(next);
        }
        self.buf.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }
}

/// An output the test can read while the client still owns it.
#[derive(Clone, Debug, Default)]
struct SharedOutput(Arc<Mutex<Vec<u8>>>);

impl SharedOutput {
    fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Write for SharedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Kills and reaps a child process however the test ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn lines_are_sent_and_received_in_order() {
    let (server, addr) = listener();
    let srv = serve_one(server, echo);
    let text: String = (0..500).map(|i| format!("line {i}\n")).collect();
    let out = client::connect(&addr, Some(GUARD), Cursor::new(text.clone()), Vec::new()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), text);
    assert_eq!(srv.join().unwrap().unwrap(), text.as_bytes());
}

#[test]
fn lines_go_out_one_at_a_time_as_they_are_read() {
    // A server that answers each line before the next is typed: proves the client
    // sends a line as soon as it has it, not at the end of input.
    let (server, addr) = listener();
    let srv = serve_one(server, |conn| {
        let mut lines = BufReader::new(&conn);
        let mut line = String::new();
        while lines.read_line(&mut line)? > 0 {
            conn.sendall(format!("got {line}").as_bytes())?;
            line.clear();
        }
        Ok(())
    });
    let (tx, input) = FedInput::new();
    let out = SharedOutput::default();
    let client = {
        let (addr, out) = (addr.clone(), out.clone());
        thread::spawn(move || client::connect(&addr, Some(GUARD), input, out))
    };
    for i in 0..3 {
        tx.send(format!("n{i}\n").into_bytes()).unwrap();
        let want = format!("got n{i}\n");
        let start = Instant::now();
        while !String::from_utf8(out.contents()).unwrap().ends_with(&want) {
            assert!(start.elapsed() < GUARD, "no answer to line {i}");
            thread::sleep(Duration::from_millis(5));
        }
    }
    drop(tx); // end of input
    client.join().unwrap().unwrap();
    srv.join().unwrap().unwrap();
    assert_eq!(out.contents(), b"got n0\ngot n1\ngot n2\n");
}

#[test]
fn end_of_input_half_closes_and_the_rest_is_still_printed() {
    // The server answers only after it has read the client's end of input.
    let (server, addr) = listener();
    let srv = serve_one(server, |conn| {
        let mut got = Vec::new();
        (&conn).read_to_end(&mut got)?;
        conn.sendall(format!("received {} bytes\n", got.len()).as_bytes())?;
        conn.sendall(b"goodbye\n")?;
        Ok(got)
    });
    // The last line has no newline: it is sent as it is.
    let input = Cursor::new(b"one\ntwo\nthree".to_vec());
    let out = client::connect(&addr, Some(GUARD), input, Vec::new()).unwrap();
    assert_eq!(out, b"received 13 bytes\ngoodbye\n");
    assert_eq!(srv.join().unwrap().unwrap(), b"one\ntwo\nthree");
}

#[test]
fn server_closing_first_ends_the_client_with_ok() {
    let (server, addr) = listener();
    let srv = serve_one(server, |conn| {
        conn.sendall(b"* welcome\n* bye\n")?;
        conn.shutdown(Shutdown::Both)
    });
    // Input that never ends by itself: the client must not wait for it.
    let (tx, input) = FedInput::new();
    let start = Instant::now();
    let out = client::connect(&addr, Some(GUARD), input, Vec::new()).unwrap();
    assert!(start.elapsed() < GUARD);
    assert_eq!(out, b"* welcome\n* bye\n");
    srv.join().unwrap().unwrap();
    drop(tx); // lets the client's input thread end
}

#[test]
fn server_closing_while_lines_are_sent_ends_the_client() {
    // The server reads two lines, answers, and closes while the client still has
    // plenty to send.
    let (server, addr) = listener();
    let srv = serve_one(server, |conn| {
        let mut lines = BufReader::new(&conn);
        let mut line = String::new();
        for _ in 0..2 {
            lines.read_line(&mut line)?;
        }
        conn.sendall(b"enough\n")?;
        Ok(())
    });
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let out = client::connect(
        &addr,
        Some(GUARD),
        Cursor::new(text),
        SharedOutput::default(),
    );
    srv.join().unwrap().unwrap();
    // The server closed with unread data, so the system may turn its close into a
    // reset: the client ends either way, having printed the answer.
    match out {
        Ok(out) => assert_eq!(out.contents(), b"enough\n"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
            assert!(e.to_string().contains(&addr), "{e}");
        }
    }
}

#[test]
fn connection_refused_is_an_error_naming_the_address() {
    let addr = {
        let (server, addr) = listener();
        server.close();
        addr
    };
    let err = client::connect(&addr, Some(GUARD), Cursor::new(""), Vec::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(err.to_string(), format!("connection refused: {addr}"));
}

#[test]
fn an_address_without_a_port_is_an_error_naming_it() {
    let err = client::connect("127.0.0.1", Some(GUARD), Cursor::new(""), Vec::new()).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot connect to 127.0.0.1: "),
        "{err}"
    );
}

#[test]
fn connect_timeout_is_honoured() {
    // A listener that never accepts, with the smallest backlog: once its queue is
    // full, Linux drops further SYNs, so a connection attempt hangs until timeout.
    let opts = ServerOptions {
        backlog: Some(0),
        ..ServerOptions::default()
    };
    let server = socket::create_server_with("127.0.0.1:0", &opts).unwrap();
    let addr = server.getsockname().unwrap().to_string();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..32 {
        match socket::create_connection(&*addr, Some(Duration::from_millis(200))) {
            Ok(s) => held.push(s),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                full = true;
                break;
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert!(full, "the backlog never filled up");

    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let err = client::connect(&addr, Some(timeout), Cursor::new("hi\n"), Vec::new()).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(
        err.to_string(),
        format!("connection timed out after 0.3 s: {addr}")
    );
    assert!(elapsed >= timeout, "gave up early: {elapsed:?}");
    assert!(elapsed < GUARD, "took {elapsed:?}");
}

#[test]
fn a_failing_output_ends_the_client_with_its_error() {
    #[derive(Debug)]
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (server, addr) = listener();
    let srv = serve_one(server, |conn| {
        conn.sendall(b"hello\n")?;
        // Wait for the client to go away, however it does.
        let _ = (&conn).read_to_end(&mut Vec::new());
        Ok(())
    });
    let (tx, input) = FedInput::new();
    let err = client::connect(&addr, Some(GUARD), input, Closed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    srv.join().unwrap().unwrap();
    drop(tx);
}

/// A Python 3 line echo server (socketserver, a thread per client) as an
/// independent peer: prints its port, serves until killed.
const PYTHON_ECHO: &str = r#"
import socketserver, sys
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
        self.wfile.write(b"* python says bye\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as srv:
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
"#;

#[test]
fn talks_to_a_python_socketserver() {
    let child = Command::new("python3")
        .args(["-c", PYTHON_ECHO])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let mut child = ChildGuard(child);
    let mut port = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let addr = format!("127.0.0.1:{}", port.trim());

    let text = "héllo\nwörld\n* not a notice\n";
    let out = client::connect(&addr, Some(GUARD), Cursor::new(text), Vec::new()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{text}* python says bye\n")
    );
}

/// A UDP server on a thread that answers one datagram with `reply(data)`.
fn udp_server(reply: fn(&[u8]) -> Vec<u8>) -> (String, thread::JoinHandle<io::Result<Vec<u8>>>) {
    let server = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    server.bind("127.0.0.1:0").unwrap();
    server.settimeout(Some(GUARD)).unwrap();
    let addr = server.getsockname().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (data, from) = server.recvfrom(65_535)?;
        server.sendto(&reply(&data), from)?;
        Ok(data)
    });
    (addr, handle)
}

#[test]
fn udp_send_gets_the_reply_and_adds_no_newline() {
    let (addr, srv) = udp_server(|d| [b"echo: ", d].concat());
    let reply = client::udp_send(&addr, b"ping", GUARD).unwrap();
    assert_eq!(reply.as_deref(), Some(&b"echo: ping"[..]));
    assert_eq!(srv.join().unwrap().unwrap(), b"ping");
}

#[test]
fn udp_send_takes_an_empty_reply_as_a_reply() {
    let (addr, srv) = udp_server(|_| Vec::new());
    let reply = client::udp_send(&addr, b"x", GUARD).unwrap();
    assert_eq!(reply, Some(Vec::new()));
    srv.join().unwrap().unwrap();
}

#[test]
fn udp_send_returns_none_after_the_wait_never_early() {
    let silent = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    silent.bind("127.0.0.1:0").unwrap();
    let addr = silent.getsockname().unwrap().to_string();
    for wait in [Duration::from_millis(50), Duration::from_millis(300)] {
        let start = Instant::now();
        assert_eq!(client::udp_send(&addr, b"anyone?", wait).unwrap(), None);
        let elapsed = start.elapsed();
        assert!(elapsed >= wait, "gave up early: {elapsed:?} < {wait:?}");
    }
    // The datagrams did arrive: the server was only silent.
    silent.settimeout(Some(GUARD)).unwrap();
    assert_eq!(silent.recv(100).unwrap(), b"anyone?");
}

#[test]
fn udp_send_with_zero_wait_is_none() {
    let silent = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    silent.bind("127.0.0.1:0").unwrap();
    let addr = silent.getsockname().unwrap().to_string();
    assert_eq!(
        client::udp_send(&addr, b"now", Duration::ZERO).unwrap(),
        None
    );
}

#[test]
fn udp_send_to_a_closed_port_is_refused_naming_the_address() {
    let addr = {
        let s = Socket::new(Family::Inet, Kind::Datagram).unwrap();
        s.bind("127.0.0.1:0").unwrap();
        s.getsockname().unwrap().to_string()
    };
    let start = Instant::now();
    let err = client::udp_send(&addr, b"hello", GUARD).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("connection refused: {addr}")),
        "{err}"
    );
    assert!(
        start.elapsed() < GUARD / 2,
        "refusal should not wait for the timeout"
    );
}

#[test]
fn udp_send_to_an_unresolvable_address_names_it() {
    let err = client::udp_send("no-port-here", b"x", GUARD).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot send to no-port-here: "),
        "{err}"
    );
}
