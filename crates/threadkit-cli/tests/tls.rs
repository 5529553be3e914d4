//! The program under TLS: `serve --tls-cert/--tls-key` against Python's `ssl`
//! module as the client, `connect --tls --ca` against a Python `ssl` server,
//! and the flags' errors (a missing file is exit 1 naming it, half a pair is a
//! usage error).

#[path = "../../threadkit/tests/certs/mod.rs"]
mod certs;
mod common;

use std::io::Write;
use std::process::Command;

use certs::PemFiles;
use common::{run, Server, THREADS};

/// A certificate's PEM files, and their paths as arguments.
struct Certs {
    files: PemFiles,
    cert: String,
    key: String,
}

impl Certs {
    fn new(tag: &str) -> Certs {
        let files = PemFiles::new(&format!("cli-tls-{tag}"));
        Certs {
            cert: files.cert.display().to_string(),
            key: files.key.display().to_string(),
            files,
        }
    }
}

/// Whether python3 runs here; says so when it does not.
fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: python3 is not installed (it is the independent TLS peer)");
    }
    ok
}

/// Python's `ssl` client: sends two lines and a line too long, prints what
/// comes back, one repr per line.
const PY_CLIENT: &str = r#"
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        f = s.makefile("rb")
        s.sendall(b"hello\n")
        print(f.readline().decode().rstrip("\n"))
        s.sendall("héllo wörld\n".encode())
        print(f.readline().decode().rstrip("\n"))
        s.sendall(b"x" * 100 + b"\n")
        print(f.readline().decode().rstrip("\n"))
        print(repr(f.read()))
"#;

#[test]
fn python_ssl_clients_against_serve_tls_with_and_without_threads_per_connection() {
    if !have_python() {
        return;
    }
    let certs = Certs::new("serve");
    // A thread per client, then the default: the event-loop workers.
    for extra in [THREADS, &[]] {
        let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--max-line", "64"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--tls-cert", &certs.cert, "--tls-key", &certs.key]);
        let server = Server::start(&args);
        let py_client = || {
            let port = server.addr.port().to_string();
            let out = Command::new("python3")
                .args(["-c", PY_CLIENT, &port, &certs.cert])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            out
        };
        let out = py_client();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello\nhéllo wörld\n* error: line too long (max 64 bytes)\nb''\n",
            "{extra:?}"
        );
        assert!(server.next_line().starts_with("connect "));
        let disconnect = server.next_line();
        assert!(disconnect.ends_with("(too long)"), "{disconnect}");

        // A plain client on the TLS port: `tls`, and the server goes on.
        let (mut plain, _) = common::client(server.addr);
        plain.write_all(b"not tls\n").unwrap();
        assert!(server.next_line().starts_with("connect "));
        let disconnect = server.next_line();
        assert!(disconnect.ends_with("(tls)"), "{disconnect}");
        py_client();
    }
}

#[test]
fn connect_tls_with_ca_against_a_python_ssl_server() {
    if !have_python() {
        return;
    }
    let certs = Certs::new("connect");
    let script = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
with ctx.wrap_socket(conn, server_side=True) as s:
    f = s.makefile("rb")
    for line in f:
        s.sendall(b"py: " + line)
"#;
    let (mut py, port) = common::start_python(script, &[&certs.cert, &certs.key]);
    let addr = format!("localhost:{port}");
    let out = common::run_with_input(
        &["connect", "--tls", "--ca", &certs.cert, &addr],
        b"hi\nthere\n",
    );
    let _ = py.kill();
    let _ = py.wait();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "py: hi\npy: there\n");
}

#[test]
fn connect_tls_refuses_a_server_it_does_not_trust() {
    let certs = Certs::new("untrusted");
    let other = Certs::new("untrusted-other");
    let server = Server::start(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--threads-per-connection",
        "--tls-cert",
        &certs.cert,
        "--tls-key",
        &certs.key,
    ]);
    let addr = format!("localhost:{}", server.addr.port());
    let out = run(&["connect", "--tls", "--ca", &other.cert, &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("TLS handshake with {addr} failed")),
        "{stderr}"
    );
    assert!(server.next_line().starts_with("connect "));
    assert!(server.next_line().ends_with("(tls)"));
}

#[test]
fn a_missing_or_wrong_certificate_or_key_is_exit_1_naming_the_file() {
    let certs = Certs::new("missing");
    let missing = format!("{}/nope.pem", certs.files.dir.display());
    for (cert, key, named, what) in [
        (&missing, &certs.key, &missing, "no such file"),
        (&certs.cert, &missing, &missing, "no such file"),
        (&certs.key, &certs.key, &certs.key, "no PEM certificate"),
        (&certs.cert, &certs.cert, &certs.cert, "no PEM private key"),
    ] {
        let out = run(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(named.as_str()) && stderr.contains(what),
            "{stderr}"
        );
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
    let out = run(&["connect", "--tls", "--ca", &missing, "localhost:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&missing));
}

#[test]
fn half_a_pair_of_tls_flags_is_a_usage_error() {
    let certs = Certs::new("usage");
    for args in [
        vec!["serve", "--tls-cert", &certs.cert],
        vec!["serve", "--tls-key", &certs.key],
        vec!["connect", "--ca", &certs.cert, "localhost:1"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[test]
fn help_shows_the_tls_flags() {
    let serve = String::from_utf8(run(&["serve", "--help"]).stdout).unwrap();
    assert!(serve.contains("--tls-cert <CERT.pem>") && serve.contains("--tls-key <KEY.pem>"));
    let connect = String::from_utf8(run(&["connect", "--help"]).stdout).unwrap();
    assert!(connect.contains("--tls") && connect.contains("--ca <CA.pem>"));
}
