//! Unix-domain servers: `UnixStreamServer` running echo and chat in every
//! model with the TCP server's limits and events, Python's `AF_UNIX` as a
//! client, the socket file's life (stale replaced, live refused, a regular
//! file left alone, removed on close), abstract names, and
//! `UnixDatagramServer`.

mod common;

use std::fs;
use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{wait_until, Client, Running, GUARD, MODELS};
use threadkit::server::{
    ChatRoom, CloseReason, DatagramRequests, Echo, Model, ServerConfig, ServerEvent, Service,
    UdpEcho, UnixDatagramServer, UnixStreamServer,
};
use threadkit::socket::{Family, Socket, UnixAddr};

/// A directory of its own under the system's temp dir, removed on drop.
fn temp_dir(name: &str) -> tempfile::TempDir {
    let prefix = format!("tk-unix-{name}-");
    tempfile::Builder::new().prefix(&prefix).tempdir().unwrap()
}

fn start(
    path: &Path,
    config: ServerConfig,
    service: impl Into<Service>,
) -> Running<UnixStreamServer> {
    let server = UnixStreamServer::bind(path, config, service).expect("bind");
    Running::serve(Arc::new(server))
}

fn is_socket(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[test]
fn echo_over_a_unix_socket_in_every_model() {
    for model in MODELS {
        let dir = temp_dir("echo");
        let path = dir.path().join("echo.sock");
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = start(&path, config, Echo);
        assert_eq!(server.addr().as_pathname(), Some(path.as_path()));
        let mut client = Client::connect_unix(&server.addr());
        client.line("hello");
        assert_eq!(client.recv(), "hello", "{model:?}");
        client.send("split ");
        client.send("line\n");
        assert_eq!(client.recv(), "split line", "{model:?}");
        client.send(b"\xff\n");
        assert_eq!(client.recv(), "* error: invalid UTF-8", "{model:?}");
        client.half_close();
        client.expect_closed();
        server.stop();
        assert!(
            !path.exists(),
            "{model:?}: the socket file is removed at close"
        );
    }
}

#[test]
fn chat_over_a_unix_socket_in_every_model() {
    for model in MODELS {
        if model == Model::Synchronous {
            continue; // one client at a time: no one to chat with
        }
        let dir = temp_dir("chat");
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = start(&dir.path().join("chat.sock"), config, ChatRoom::new());
        let mut alice = Client::connect_unix(&server.addr());
        alice.recv_until_prefix("* welcome, you are ");
        let mut bob = Client::connect_unix(&server.addr());
        bob.recv_until_prefix("* welcome, you are ");
        alice.recv_until_prefix("* guest-2 joined");
        alice.line("hi bob");
        assert_eq!(
            bob.recv_until_prefix("guest-1:"),
            "guest-1: hi bob",
            "{model:?}"
        );
        server.stop();
    }
}

#[test]
fn unix_clients_get_the_limits_and_events_of_tcp() {
    for model in MODELS {
        let dir = temp_dir("limits");
        let config = ServerConfig {
            model,
            max_line: 8,
            max_clients: 1,
            ..ServerConfig::default()
        };
        let server = start(&dir.path().join("limits.sock"), config, Echo);
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        server
            .server
            .on_event(move |e| seen.lock().unwrap().push(e.to_string()));

        let mut first = Client::connect_unix(&server.addr());
        first.line("ok");
        assert_eq!(first.recv(), "ok");
        if model != Model::Synchronous {
            // The synchronous model leaves the second one in the backlog.
            let mut second = Client::connect_unix(&server.addr());
            assert_eq!(second.recv(), "* error: server full", "{model:?}");
            second.expect_closed();
        }
        first.line("far too long a line");
        assert_eq!(
            first.recv(),
            "* error: line too long (max 8 bytes)",
            "{model:?}"
        );
        first.expect_closed();
        assert!(
            wait_until(GUARD, || events
                .lock()
                .unwrap()
                .iter()
                .any(|e| e == "disconnect unix:#1 (too long)")),
            "{model:?}: {:?}",
            events.lock().unwrap()
        );
        let events = events.lock().unwrap().clone();
        assert_eq!(events[0], "connect unix:#1", "{model:?}");
        if model != Model::Synchronous {
            assert!(
                events.contains(&"disconnect unix:#2 (full)".to_string()),
                "{events:?}"
            );
        }
        server.stop();
    }
}

#[test]
fn a_handler_gets_the_unix_socket_and_no_internet_address() {
    for model in [Model::ThreadPerConnection, Model::Synchronous] {
        let dir = temp_dir("handler");
        let seen = Arc::new(Mutex::new(None));
        let s = Arc::clone(&seen);
        let handler = move || {
            let s = Arc::clone(&s);
            move |conn: &Socket, peer: std::net::SocketAddr| -> io::Result<()> {
                *s.lock().unwrap() = Some((peer, conn.family(), conn.getsockname_unix()?));
                conn.sendall(b"hi\n")
            }
        };
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = start(
            &dir.path().join("h.sock"),
            config,
            Service::handler(handler),
        );
        let mut client = Client::connect_unix(&server.addr());
        assert_eq!(client.recv(), "hi");
        client.expect_closed();
        let (peer, family, local) = seen.lock().unwrap().clone().unwrap();
        assert_eq!(peer, "0.0.0.0:0".parse().unwrap());
        assert_eq!(family, Family::Unix);
        assert_eq!(
            local.as_pathname(),
            Some(dir.path().join("h.sock").as_path())
        );
        server.stop();
    }
}

#[test]
fn python_af_unix_clients_are_served() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    for model in MODELS {
        let dir = temp_dir("python");
        let path = dir.path().join("py.sock");
        let config = ServerConfig {
            model,
            ..ServerConfig::default()
        };
        let server = start(&path, config, Echo);
        let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in (b"one\n", "zwei \u00fc\n".encode(), b"three\n"):
    f.write(line); f.flush()
    sys.stdout.buffer.write(f.readline())
s.shutdown(socket.SHUT_WR)
print("end:", f.read() == b"")
"#;
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "one\nzwei ü\nthree\nend: True\n",
            "{model:?}"
        );
        server.stop();
    }
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = temp_dir("stale");
    let path = dir.path().join("stale.sock");
    drop(UnixListener::bind(&path).unwrap()); // a server that died: its file stays
    assert!(is_socket(&path));
    let server = start(&path, ServerConfig::default(), Echo);
    let mut client = Client::connect_unix(&server.addr());
    client.line("fresh");
    assert_eq!(client.recv(), "fresh");
    server.stop();
    assert!(!path.exists());
}

#[test]
fn a_live_socket_is_refused_naming_the_path() {
    let dir = temp_dir("live");
    let path = dir.path().join("live.sock");
    let server = start(&path, ServerConfig::default(), Echo);
    let err = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    // The first server is untouched and still serves.
    let mut client = Client::connect_unix(&server.addr());
    client.line("still here");
    assert_eq!(client.recv(), "still here");
    server.stop();
}

#[test]
fn a_regular_file_at_the_path_is_never_touched() {
    let dir = temp_dir("regular");
    let path = dir.path().join("notes.txt");
    fs::write(&path, "keep me").unwrap();
    let err = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    let err = UnixDatagramServer::bind(&path, ServerConfig::default(), UdpEcho).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(fs::read_to_string(&path).unwrap(), "keep me");
}

#[test]
fn close_leaves_a_file_that_replaced_the_servers_own() {
    let dir = temp_dir("replaced");
    let path = dir.path().join("s.sock");
    let server = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap();
    fs::remove_file(&path).unwrap();
    fs::write(&path, "someone else's").unwrap();
    server.server_close();
    drop(server);
    assert_eq!(fs::read_to_string(&path).unwrap(), "someone else's");
}

#[test]
fn dropping_a_server_removes_its_socket_file() {
    let dir = temp_dir("drop");
    let path = dir.path().join("d.sock");
    let server = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap();
    assert!(is_socket(&path));
    drop(server);
    assert!(!path.exists());
}

#[test]
fn abstract_names_serve_without_a_file() {
    let name = format!("tk-test-abstract-{}", std::process::id());
    let server = start(
        Path::new(&format!("\0{name}")),
        ServerConfig::default(),
        Echo,
    );
    assert_eq!(server.addr().as_abstract_name(), Some(name.as_bytes()));
    let addr = UnixAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut client = Client::connect_unix(&addr);
    client.line("no file");
    assert_eq!(client.recv(), "no file");
    server.stop();
}

#[test]
fn a_missing_directory_is_an_error_naming_the_path() {
    let dir = temp_dir("missing");
    let path = dir.path().join("no/such/dir.sock");
    let err = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("no/such/dir.sock"), "{err}");
}

fn start_datagram(path: &Path, config: ServerConfig) -> Running<UnixDatagramServer> {
    let server = UnixDatagramServer::bind(path, config, UdpEcho).expect("bind");
    Running::serve(Arc::new(server))
}

#[test]
fn datagrams_echo_to_a_named_or_abstract_sender_in_both_models() {
    for model in [Model::ThreadPerConnection, Model::Synchronous] {
        let dir = temp_dir("dgram");
        let path = dir.path().join("echo.sock");
        let server = start_datagram(
            &path,
            ServerConfig {
                model,
                ..ServerConfig::default()
            },
        );
        let by_path = UnixDatagram::bind(dir.path().join("client.sock")).unwrap();
        let name = format!("tk-test-dgram-{}-{model:?}", std::process::id());
        let by_name =
            UnixDatagram::bind_addr(&UnixAddr::from_abstract_name(&name).unwrap()).unwrap();
        for client in [&by_path, &by_name] {
            client.set_read_timeout(Some(GUARD)).unwrap();
            client.send_to(b"ping", &path).unwrap();
            let mut buf = [0u8; 16];
            let n = client.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"ping", "{model:?}");
        }
        server.stop();
        assert!(!path.exists(), "{model:?}");
    }
}

#[test]
fn an_unnamed_datagram_sender_is_served_without_an_answer() {
    let dir = temp_dir("unnamed");
    let path = dir.path().join("s.sock");
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let counting = DatagramRequests::new(
        move |rfile: &mut &[u8], wfile: &mut Vec<u8>, peer: std::net::SocketAddr| {
            assert_eq!(peer, "0.0.0.0:0".parse().unwrap());
            s.fetch_add(rfile.len(), Ordering::Relaxed);
            wfile.write_all(b"unheard")
        },
    );
    let server = UnixDatagramServer::bind(&path, ServerConfig::default(), counting).unwrap();
    let server = Running::serve(Arc::new(server));
    let client = UnixDatagram::unbound().unwrap();
    client.send_to(b"12345", &path).unwrap();
    assert!(wait_until(GUARD, || seen.load(Ordering::Relaxed) == 5));
    // The server goes on: a named client still gets its answer.
    let named = UnixDatagram::bind(dir.path().join("c.sock")).unwrap();
    named.set_read_timeout(Some(GUARD)).unwrap();
    named.send_to(b"x", &path).unwrap();
    let mut buf = [0u8; 16];
    let n = named.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"unheard");
    server.stop();
}

#[test]
fn a_stream_server_at_a_live_datagram_socket_is_refused() {
    let dir = temp_dir("kinds");
    let path = dir.path().join("k.sock");
    let server = start_datagram(&path, ServerConfig::default());
    let err = UnixStreamServer::bind(&path, ServerConfig::default(), Echo).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(is_socket(&path), "the live socket file stays");
    server.stop();
}

#[test]
fn a_python_client_reads_what_a_unix_server_says_first() {
    // The chat room greets first: the client reads before it writes.
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dir = temp_dir("greet");
    let path = dir.path().join("chat.sock");
    let server = start(&path, ServerConfig::default(), ChatRoom::new());
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
print(s.makefile("rb").readline().decode(), end="")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(line.starts_with("* welcome, you are guest-"), "{line:?}");
    server.stop();
}

#[test]
fn events_name_the_close_reason_of_a_unix_client() {
    let dir = temp_dir("events");
    let server = start(&dir.path().join("e.sock"), ServerConfig::default(), Echo);
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let r = Arc::clone(&reasons);
    server.server.on_event(move |e| {
        if let ServerEvent::Disconnect { reason, peer, .. } = e {
            r.lock().unwrap().push((*reason, peer.to_string()));
        }
    });
    let client = UnixStream::connect(dir.path().join("e.sock")).unwrap();
    drop(client);
    assert!(wait_until(GUARD, || !reasons.lock().unwrap().is_empty()));
    assert_eq!(
        reasons.lock().unwrap()[0],
        (CloseReason::Closed, "unix:".to_string())
    );
    server.stop();
}
