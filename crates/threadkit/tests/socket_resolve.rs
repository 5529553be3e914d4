//! Names and addresses (`gethostname`, `getaddrinfo`, `getfqdn`,
//! `has_dualstack_ipv6`) checked against Python's answers on this machine, and
//! `create_connection_with`'s source address and every-address error. No name
//! is resolved but localhost and this host's own.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use threadkit::socket::{self, AddrInfoHints, ConnectOptions, Family, Kind};

/// What Python prints for `expr` (one line, stripped).
fn python(expr: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", &format!("import socket; print({expr})")])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An address where nothing listens: a port the system gave out, then freed.
fn closed_port() -> SocketAddr {
    socket::create_server("127.0.0.1:0")
        .unwrap()
        .getsockname()
        .unwrap()
}

#[test]
fn gethostname_is_pythons() {
    assert_eq!(
        socket::gethostname().unwrap(),
        python("socket.gethostname()")
    );
}

#[test]
fn getaddrinfo_localhost_is_pythons_without_raw_sockets() {
    let ours: Vec<String> = socket::getaddrinfo("localhost", 80)
        .unwrap()
        .iter()
        .map(|i| {
            let fam = match i.family {
                Family::Inet => 2,
                _ => 10,
            };
            let kind = match i.kind {
                Kind::Stream => 1,
                _ => 2,
            };
            format!("{fam} {kind} {} {}", i.proto, i.sockaddr.ip())
        })
        .collect();
    let theirs = python(
        "'|'.join(f'{int(f)} {int(t)} {p} {a[0]}' \
         for f, t, p, _, a in socket.getaddrinfo('localhost', 80) \
         if t != socket.SOCK_RAW)",
    );
    assert_eq!(ours.join("|"), theirs);
    assert!(!ours.is_empty());
}

#[test]
fn getaddrinfo_with_hints_filters_family_and_kind() {
    let hints = AddrInfoHints {
        family: Some(Family::Inet),
        kind: Some(Kind::Datagram),
        ..Default::default()
    };
    let infos = socket::getaddrinfo_with("localhost", 5353, &hints).unwrap();
    assert!(!infos.is_empty());
    for i in &infos {
        assert_eq!(
            (i.family, i.kind, i.proto),
            (Family::Inet, Kind::Datagram, 17)
        );
        assert_eq!(i.sockaddr, "127.0.0.1:5353".parse().unwrap());
        assert_eq!(i.canonname, None);
    }
}

#[test]
fn getaddrinfo_without_a_host_is_loopback_or_passive_wildcard() {
    let stream = AddrInfoHints {
        kind: Some(Kind::Stream),
        ..Default::default()
    };
    let lo = socket::getaddrinfo_with(None, 8080, &stream).unwrap();
    assert!(!lo.is_empty());
    assert!(lo.iter().all(|i| i.sockaddr.ip().is_loopback()));
    let passive = AddrInfoHints {
        passive: true,
        ..stream
    };
    let any = socket::getaddrinfo_with(None, 8080, &passive).unwrap();
    assert!(any.iter().all(|i| i.sockaddr.ip().is_unspecified()));
}

#[test]
fn getaddrinfo_canonname_and_numeric_host() {
    let hints = AddrInfoHints {
        canonname: true,
        ..Default::default()
    };
    let infos = socket::getaddrinfo_with("localhost", 0, &hints).unwrap();
    assert_eq!(infos[0].canonname.as_deref(), Some("localhost"));
    let numeric = AddrInfoHints {
        numeric_host: true,
        ..Default::default()
    };
    assert!(socket::getaddrinfo_with("localhost", 0, &numeric).is_err());
    let v4 = socket::getaddrinfo_with("127.0.0.1", 7, &numeric).unwrap();
    assert_eq!(v4[0].sockaddr, "127.0.0.1:7".parse().unwrap());
}

#[test]
fn getfqdn_is_pythons_for_this_host_localhost_and_an_address() {
    assert_eq!(socket::getfqdn("").unwrap(), python("socket.getfqdn()"));
    assert_eq!(
        socket::getfqdn("localhost").unwrap(),
        python("socket.getfqdn('localhost')")
    );
    assert_eq!(
        socket::getfqdn(" 127.0.0.1 ").unwrap(),
        python("socket.getfqdn('127.0.0.1')")
    );
}

#[test]
fn has_dualstack_ipv6_is_pythons() {
    let theirs = python("socket.has_dualstack_ipv6()");
    assert_eq!(
        socket::has_dualstack_ipv6().to_string(),
        theirs.to_lowercase()
    );
}

#[test]
fn create_connection_with_binds_the_source_address() {
    let server = socket::create_server("127.0.0.1:0").unwrap();
    let source = closed_port(); // a free port to connect from
    let opts = ConnectOptions {
        timeout: Some(Duration::from_secs(10)),
        source_address: Some(source),
    };
    let client = socket::create_connection_with(server.getsockname().unwrap(), &opts).unwrap();
    assert_eq!(client.getsockname().unwrap(), source);
    assert_eq!(client.gettimeout(), Some(Duration::from_secs(10)));
    server.settimeout(Some(Duration::from_secs(10))).unwrap();
    let (_conn, peer) = server.accept().unwrap();
    assert_eq!(peer, source);
}

#[test]
fn create_connection_with_a_source_of_the_wrong_family_fails() {
    let server = socket::create_server("127.0.0.1:0").unwrap();
    let opts = ConnectOptions {
        source_address: Some("[::1]:0".parse().unwrap()),
        ..Default::default()
    };
    let err = socket::create_connection_with(server.getsockname().unwrap(), &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn create_connection_names_every_address_error() {
    let closed = [closed_port(), closed_port()];
    let err = socket::create_connection(&closed[..], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let msg = err.to_string();
    for a in &closed {
        assert!(msg.contains(&format!("{a}: ")), "{msg}");
    }
    assert_eq!(msg.matches("refused").count(), 2, "{msg}");
}

#[test]
fn create_connection_to_one_address_passes_its_error_through() {
    let err = socket::create_connection(closed_port(), None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
}
