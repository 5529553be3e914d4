//! `setdefaulttimeout` is process-wide: this file is its own test binary, with
//! one test, so no other test's sockets see the default it sets.

use std::time::{Duration, Instant};

use threadkit::socket::{self, Family, Kind, Socket};

#[test]
fn default_timeout_applies_to_new_and_accepted_sockets_only() {
    assert_eq!(socket::getdefaulttimeout(), None);
    let before = Socket::new(Family::Inet, Kind::Stream).unwrap();

    let d = Duration::from_millis(200);
    socket::setdefaulttimeout(Some(d));
    assert_eq!(socket::getdefaulttimeout(), Some(d));
    assert_eq!(
        before.gettimeout(),
        None,
        "existing sockets keep their mode"
    );

    let sock = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    sock.bind("127.0.0.1:0").unwrap();
    assert_eq!(sock.gettimeout(), Some(d));
    let start = Instant::now();
    let err = sock.recv(16).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(start.elapsed() >= d, "the system really has the timeout");

    // Python: accepted sockets take the default, whatever the listener's mode.
    let server = socket::create_server("127.0.0.1:0").unwrap();
    server.settimeout(Some(Duration::from_secs(10))).unwrap();
    let client = socket::create_connection(server.getsockname().unwrap(), None).unwrap();
    assert_eq!(
        client.gettimeout(),
        None,
        "create_connection's own argument wins"
    );
    let (conn, _) = server.accept().unwrap();
    assert_eq!(conn.gettimeout(), Some(d));
    let start = Instant::now();
    assert_eq!(
        conn.recv(16).unwrap_err().kind(),
        std::io::ErrorKind::TimedOut
    );
    assert!(start.elapsed() >= d);

    // The same for Unix sockets: new, accepted, and both ends of socketpair.
    let name = format!("\0threadkit-default-timeout-{}", std::process::id());
    let unix = Socket::new(Family::Unix, Kind::Stream).unwrap();
    assert_eq!(unix.gettimeout(), Some(d));
    unix.bind_unix(&name).unwrap();
    unix.listen(1).unwrap();
    let start = Instant::now();
    assert_eq!(
        unix.accept_unix().unwrap_err().kind(),
        std::io::ErrorKind::TimedOut
    );
    assert!(start.elapsed() >= d);
    let unix_client = Socket::new(Family::Unix, Kind::Stream).unwrap();
    unix_client.connect_unix(&name).unwrap();
    unix.settimeout(Some(Duration::from_secs(10))).unwrap();
    let (unix_conn, _) = unix.accept_unix().unwrap();
    assert_eq!(unix_conn.gettimeout(), Some(d));
    let (a, b) = socket::socketpair().unwrap();
    assert_eq!((a.gettimeout(), b.gettimeout()), (Some(d), Some(d)));
    let start = Instant::now();
    assert_eq!(b.recv(16).unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    assert!(start.elapsed() >= d, "the system really has the timeout");

    socket::setdefaulttimeout(Some(Duration::ZERO));
    let nb = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    nb.bind("127.0.0.1:0").unwrap();
    assert_eq!(
        nb.recv(16).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );

    socket::setdefaulttimeout(None);
    assert_eq!(socket::getdefaulttimeout(), None);
    let after = Socket::new(Family::Inet, Kind::Stream).unwrap();
    assert_eq!(after.gettimeout(), None);
    drop(client);
}
