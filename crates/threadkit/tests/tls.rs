//! TLS servers (feature `tls`): every model serves line services over TLS
//! with the same limits, a failed handshake is a `tls` disconnect that never
//! stops the server, an unfinished one ends by the idle timeout.

mod certs;
mod common;

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use certs::PemFiles;
use common::{Running, GUARD, MODELS};
use threadkit::server::{
    ChatRoom, CloseReason, Echo, Model, RequestHandler, ServerConfig, ServerEvent, TcpServer,
    UdpEcho, UdpServer, UnixStreamServer,
};
use threadkit::socket::Socket;
use threadkit::tls::rustls::{self, pki_types::ServerName, ClientConnection, StreamOwned};
use threadkit::tls::TlsConfig;

/// PEM files of a certificate, and a client config that trusts it.
struct Certs {
    files: PemFiles,
    client: Arc<rustls::ClientConfig>,
}

impl Certs {
    fn new(tag: &str) -> Certs {
        let files = PemFiles::new(&format!("tls-{tag}"));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(files.der.clone().into()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Certs {
            files,
            client: Arc::new(client),
        }
    }

    fn tls(&self) -> TlsConfig {
        TlsConfig::from_pem_files(&self.files.cert, &self.files.key).expect("the PEM files load")
    }

    fn config(&self, model: Model) -> ServerConfig {
        ServerConfig {
            model,
            tls: Some(self.tls()),
            ..ServerConfig::default()
        }
    }
}

/// A rustls line client (over TCP, or a Unix socket).
struct TlsClient<S: Read + Write = TcpStream> {
    reader: BufReader<StreamOwned<ClientConnection, S>>,
}

impl TlsClient {
    fn connect(addr: SocketAddr, certs: &Certs) -> TlsClient {
        TlsClient::over(TcpStream::connect(addr).unwrap(), certs)
    }

    /// Over a connected socket.
    fn over(sock: TcpStream, certs: &Certs) -> TlsClient {
        sock.set_read_timeout(Some(GUARD)).unwrap();
        sock.set_write_timeout(Some(GUARD)).unwrap();
        TlsClient::wrap(sock, certs)
    }
}

impl TlsClient<UnixStream> {
    fn over_unix(sock: UnixStream, certs: &Certs) -> TlsClient<UnixStream> {
        sock.set_read_timeout(Some(GUARD)).unwrap();
        sock.set_write_timeout(Some(GUARD)).unwrap();
        TlsClient::wrap(sock, certs)
    }
}

impl<S: Read + Write> TlsClient<S> {
    fn wrap(sock: S, certs: &Certs) -> TlsClient<S> {
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::clone(&certs.client), name).unwrap();
        TlsClient {
            reader: BufReader::new(StreamOwned::new(conn, sock)),
        }
    }

    fn send(&mut self, data: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(data).unwrap();
        stream.flush().unwrap();
    }

    fn recv(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read a line");
        assert!(n > 0, "unexpected end of input");
        assert!(line.ends_with('\n'), "unterminated line {line:?}");
        line.pop();
        line
    }

    /// The rest, to the server's end (its close_notify).
    fn rest(&mut self) -> io::Result<Vec<u8>> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest)?;
        Ok(rest)
    }
}

/// A server whose disconnect events come through a channel.
fn start_observed(config: ServerConfig) -> (Running, mpsc::Receiver<CloseReason>) {
    let server = TcpServer::bind("127.0.0.1:0", config, Echo).unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    server.on_event(move |event| {
        if let ServerEvent::Disconnect { reason, .. } = event {
            let _ = tx.lock().unwrap().send(*reason);
        }
    });
    (Running::serve(Arc::new(server)), rx)
}

#[test]
fn echo_under_tls_in_every_model() {
    let certs = Certs::new("echo");
    for model in MODELS {
        let running = Running::start(certs.config(model), Echo);
        let mut client = TlsClient::connect(running.addr(), &certs);
        client.send("héllo\nworld\n".as_bytes());
        assert_eq!(client.recv(), "héllo", "{model:?}");
        assert_eq!(client.recv(), "world");
        // An unterminated last line still gets its answer before the end.
        client.send(b"last");
        client.reader.get_mut().conn.send_close_notify();
        client.reader.get_mut().flush().unwrap();
        assert_eq!(client.rest().unwrap(), b"last\n", "{model:?}");
        // A client that ends without close_notify (a plain half-close): its
        // input ends there, its lines are answered.
        let mut ragged = TlsClient::connect(running.addr(), &certs);
        ragged.send(b"one\ntwo");
        ragged
            .reader
            .get_ref()
            .sock
            .shutdown(Shutdown::Write)
            .unwrap();
        assert_eq!(ragged.rest().unwrap(), b"one\ntwo\n", "{model:?}");
        running.stop();
    }
}

#[test]
fn garbage_from_a_plain_client_is_a_tls_disconnect_and_the_server_goes_on() {
    let certs = Certs::new("garbage");
    for model in MODELS {
        let (running, reasons) = start_observed(certs.config(model));
        let mut plain = common::Client::connect(running.addr());
        plain.send("hello\nthis is not TLS\n");
        // The server answers with an alert (never the line) and closes.
        let got = common::read_all(&mut plain.stream);
        assert!(!got.windows(5).any(|w| w == b"hello"), "{got:?}");
        assert_eq!(
            reasons.recv_timeout(GUARD).unwrap(),
            CloseReason::Tls,
            "{model:?}"
        );
        let mut client = TlsClient::connect(running.addr(), &certs);
        client.send(b"still serving\n");
        assert_eq!(client.recv(), "still serving");
        running.stop();
    }
}

#[test]
fn a_handshake_that_never_completes_ends_by_the_idle_timeout() {
    let certs = Certs::new("idle");
    for model in MODELS {
        let config = ServerConfig {
            idle_timeout: Some(Duration::from_millis(800)),
            ..certs.config(model)
        };
        let (running, reasons) = start_observed(config);
        let mut half = common::Client::connect(running.addr());
        // The start of a ClientHello record, and nothing more.
        half.send([0x16, 0x03, 0x01, 0x01, 0x00, 0x01]);
        let start = Instant::now();
        if model != Model::Synchronous {
            // Meanwhile another client is served (the synchronous model
            // serves one client at a time, as Python's TCPServer).
            let mut other = TlsClient::connect(running.addr(), &certs);
            other.send(b"not stalled\n");
            assert_eq!(other.recv(), "not stalled", "{model:?}");
            drop(other);
        }
        // The stalled one's `idle` and (concurrent models) the other one's
        // `closed`, in either order: on a loaded machine the 800 ms may pass
        // before the other client is through.
        let mut got = vec![reasons.recv_timeout(GUARD).unwrap()];
        if model != Model::Synchronous {
            got.push(reasons.recv_timeout(GUARD).unwrap());
        }
        let took = start.elapsed();
        got.sort_by_key(|r| r.to_string());
        let want: &[CloseReason] = if model == Model::Synchronous {
            &[CloseReason::Idle]
        } else {
            &[CloseReason::Closed, CloseReason::Idle]
        };
        assert_eq!(got, want, "{model:?}");
        assert!(took >= Duration::from_millis(750), "{took:?}");
        // No plain-text notice: at most TLS's close_notify alert.
        let got = common::read_all(&mut half.stream);
        assert!(got.is_empty() || got[0] == 0x15, "{got:?}");
        // A client that connects and sends nothing at all: the same.
        let _silent = common::Client::connect(running.addr());
        assert_eq!(reasons.recv_timeout(GUARD).unwrap(), CloseReason::Idle);
        running.stop();
    }
}

#[test]
fn a_tls_client_trickling_a_line_it_never_ends_is_cut_at_the_idle_timeout() {
    let certs = Certs::new("slowloris");
    for model in MODELS {
        let config = ServerConfig {
            idle_timeout: Some(Duration::from_millis(400)),
            ..certs.config(model)
        };
        let (running, reasons) = start_observed(config);
        let mut client = TlsClient::connect(running.addr(), &certs);
        client.send(b"answered\n");
        assert_eq!(client.recv(), "answered", "{model:?}");
        // A byte of a line every 100 ms for up to 3 s: records keep coming,
        // no line ends; the cut comes while they do.
        let mut cut = None;
        for _ in 0..30 {
            if let Ok(reason) = reasons.try_recv() {
                cut = Some(reason);
                break;
            }
            let stream = client.reader.get_mut();
            let _ = stream.write_all(b"x").and_then(|()| stream.flush());
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(cut, Some(CloseReason::Idle), "{model:?}");
        running.stop();
    }
}

#[test]
fn fifty_tls_clients_of_a_hundred_lines_each() {
    let certs = Certs::new("fifty");
    for model in MODELS {
        fifty_clients(&certs, model);
    }
}

fn fifty_clients(certs: &Certs, model: Model) {
    let running = Running::start(certs.config(model), Echo);
    let addr = running.addr();
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..50)
            .map(|c| {
                scope.spawn(move || {
                    let mut client = TlsClient::connect(addr, certs);
                    let lines: String =
                        (0..100).map(|i| format!("client {c} line {i}\n")).collect();
                    client.send(lines.as_bytes());
                    for i in 0..100 {
                        let want = format!("client {c} line {i}");
                        assert_eq!(client.recv(), want, "{model:?}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
    });
    running.stop();
}

#[test]
fn a_line_over_max_line_under_tls_gets_the_error_and_the_close() {
    let certs = Certs::new("long");
    for model in MODELS {
        let config = ServerConfig {
            max_line: 16,
            ..certs.config(model)
        };
        let (running, reasons) = start_observed(config);
        let mut client = TlsClient::connect(running.addr(), &certs);
        client.send(b"sixteen bytes ok\n");
        assert_eq!(client.recv(), "sixteen bytes ok");
        client.send(b"seventeen bytes!!\nnever seen\n");
        assert_eq!(client.recv(), "* error: line too long (max 16 bytes)");
        assert_eq!(client.rest().unwrap(), b"", "{model:?}");
        assert_eq!(reasons.recv_timeout(GUARD).unwrap(), CloseReason::TooLong);
        running.stop();
    }
}

#[test]
fn invalid_utf8_and_the_shutdown_notice_come_encrypted() {
    let certs = Certs::new("notices");
    for model in MODELS {
        let running = Running::start(certs.config(model), Echo);
        let mut client = TlsClient::connect(running.addr(), &certs);
        client.send(b"\xff\xfe\n");
        assert_eq!(client.recv(), "* error: invalid UTF-8", "{model:?}");
        client.send(b"ok\n");
        assert_eq!(client.recv(), "ok");
        running.handle.shutdown();
        assert_eq!(client.recv(), "* server shutting down", "{model:?}");
        assert_eq!(client.rest().unwrap(), b"", "{model:?}");
        running.stop();
    }
}

/// An echo server whose accepted sockets have an 8 KiB send buffer (they
/// inherit the listener's), and a client with a 4 KiB receive buffer.
fn with_small_buffers(config: ServerConfig, certs: &Certs) -> (Running, TlsClient) {
    let server = TcpServer::bind_without_activate("127.0.0.1:0", config, Echo).unwrap();
    server.socket().set_send_buffer_size(8192).unwrap();
    server.server_activate().unwrap();
    let running = Running::serve(Arc::new(server));
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&running.addr().into()).unwrap();
    let client = TlsClient::over(sock.into(), certs);
    (running, client)
}

#[test]
fn answers_the_socket_cannot_take_at_once_go_through_the_writer_thread_whole() {
    // Small socket buffers (the accepted socket inherits the listener's send
    // buffer) and a client that sends 256 lines of 1 KiB before it reads: the
    // kernel cannot take the answers, so the connection's writer thread
    // encrypts and writes the rest.
    let certs = Certs::new("slow");
    let config = certs.config(Model::ThreadPerConnection);
    let (running, mut client) = with_small_buffers(config, &certs);
    let line = format!("{}\n", "x".repeat(1023));
    let batch: String = std::iter::repeat_n(line.as_str(), 256).collect();
    let writer = || {
        common::thread_names()
            .iter()
            .any(|n| n.ends_with(" writer"))
    };
    for round in 0..4 {
        client.send(batch.as_bytes());
        if round == 0 {
            assert!(common::wait_until(GUARD, writer), "no writer thread");
        }
        for _ in 0..256 {
            assert_eq!(client.recv(), line.trim_end());
        }
    }
    running.stop();
}

#[test]
fn the_event_loop_pauses_a_tls_client_that_reads_slowly_and_loses_nothing() {
    // Answers of 1 KiB lines, a queue limit of 4 KiB, a small receive buffer
    // at the client: the scalable worker stops reading the connection until
    // its queue drains, then goes on, and every answer comes in order.
    let certs = Certs::new("backpressure");
    let config = ServerConfig {
        max_queue: 4096,
        ..certs.config(Model::Scalable)
    };
    let (running, mut client) = with_small_buffers(config, &certs);
    for round in 0..16 {
        let batch: String = (0..32)
            .map(|i| format!("{round:02} {i:02} {}\n", "x".repeat(1017)))
            .collect();
        client.send(batch.as_bytes());
        // The server paused meanwhile: nothing was dropped.
        std::thread::sleep(Duration::from_millis(20));
        for line in batch.lines() {
            assert_eq!(client.recv(), line, "round {round}");
        }
    }
    running.stop();
}

#[test]
fn chat_under_tls_in_both_concurrent_models() {
    // The synchronous model serves one client at a time: no room to chat in.
    let certs = Certs::new("chat");
    for model in [Model::Scalable, Model::ThreadPerConnection] {
        let running = Running::start(certs.config(model), ChatRoom::new());
        let mut alice = TlsClient::connect(running.addr(), &certs);
        assert!(alice.recv().starts_with("* welcome, you are "), "{model:?}");
        let mut bob = TlsClient::connect(running.addr(), &certs);
        let welcome = bob.recv();
        let bob_name = welcome
            .strip_prefix("* welcome, you are ")
            .unwrap()
            .to_string();
        assert_eq!(alice.recv(), format!("* {bob_name} joined"), "{model:?}");
        alice.send(b"/nick alice\n");
        assert!(alice.recv().contains("alice"), "{model:?}");
        assert!(bob.recv().contains("alice"), "{model:?}");
        for i in 0..50 {
            alice.send(format!("hello {i}\n").as_bytes());
        }
        for i in 0..50 {
            assert_eq!(bob.recv(), format!("alice: hello {i}"), "{model:?}");
        }
        running.stop();
    }
}

#[test]
fn tls_over_a_unix_socket_in_every_model() {
    let certs = Certs::new("unix");
    for model in MODELS {
        let dir = tempfile::Builder::new()
            .prefix("threadkit-tls-unix")
            .tempdir()
            .unwrap();
        let path = dir.path().join("s.sock");
        let server = UnixStreamServer::bind(&path, certs.config(model), Echo).unwrap();
        let running = Running::serve(Arc::new(server));
        let mut client = TlsClient::over_unix(UnixStream::connect(&path).unwrap(), &certs);
        client.send(b"over unix\n");
        assert_eq!(client.recv(), "over unix", "{model:?}");
        client.reader.get_mut().conn.send_close_notify();
        client.reader.get_mut().flush().unwrap();
        assert_eq!(client.rest().unwrap(), b"", "{model:?}");
        running.stop();
    }
}

#[test]
fn bind_never_serves_plain_text_where_tls_was_asked_for() {
    let certs = Certs::new("refused");

    struct Raw;
    impl RequestHandler for Raw {
        fn handle(&mut self, _conn: &Socket, _peer: SocketAddr) -> io::Result<()> {
            Ok(())
        }
    }
    let handler = TcpServer::bind(
        "127.0.0.1:0",
        certs.config(Model::ThreadPerConnection),
        threadkit::server::Service::handler(|| Raw),
    )
    .unwrap_err();
    assert_eq!(handler.kind(), ErrorKind::InvalidInput);
    assert!(handler.to_string().contains("RequestHandler"), "{handler}");

    let udp = UdpServer::bind(
        "127.0.0.1:0",
        certs.config(Model::ThreadPerConnection),
        UdpEcho,
    )
    .unwrap_err();
    assert_eq!(udp.kind(), ErrorKind::InvalidInput);
}

#[test]
fn pem_errors_name_the_file_and_what_is_wrong() {
    let certs = Certs::new("pem");
    let missing = certs.files.dir.join("missing.pem");
    let err = TlsConfig::from_pem_files(&missing, &certs.files.key).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&show(&missing)), "{err}");

    let err = TlsConfig::from_pem_files(&certs.files.cert, &missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&show(&missing)), "{err}");

    // The two files swapped: no certificate in the key file, and the other way.
    let err = TlsConfig::from_pem_files(&certs.files.key, &certs.files.key).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let err = TlsConfig::from_pem_files(&certs.files.cert, &certs.files.cert).unwrap_err();
    assert!(err.to_string().contains("no PEM private key"), "{err}");
    assert!(err.to_string().contains(&show(&certs.files.cert)), "{err}");

    // Another certificate's key does not fit.
    let other = Certs::new("pem-other");
    let err = TlsConfig::from_pem_files(&certs.files.cert, &other.files.key).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("does not fit"), "{err}");

    let empty = certs.files.write("empty.pem", "");
    let err = TlsConfig::from_pem_files(&empty, &certs.files.key).unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

fn show(p: &Path) -> String {
    p.display().to_string()
}
