//! `threadkit::selectors`: Python's calls, errors and level-triggered `select`, on
//! 127.0.0.1 sockets and Unix socket pairs.

mod primitives;

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::selectors::{
    DefaultSelector, Error, Events, Fd, SelectorKey, EVENT_READ, EVENT_WRITE,
};
use threadkit::socket::{self, Socket};

/// The longest any `select` in these tests waits for something that must come.
const GUARD: Duration = Duration::from_secs(10);
/// A `select` that must find nothing polls for this long.
const QUIET: Duration = Duration::from_millis(100);

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// A connected (client, accepted) pair of TCP sockets on 127.0.0.1, non-blocking.
fn tcp_pair() -> (Socket, Socket) {
    let listener = socket::create_server("127.0.0.1:0").unwrap();
    let client = socket::create_connection(listener.getsockname().unwrap(), Some(GUARD)).unwrap();
    listener.settimeout(Some(GUARD)).unwrap();
    let (conn, _) = listener.accept().unwrap();
    client.setblocking(false).unwrap();
    conn.setblocking(false).unwrap();
    (client, conn)
}

/// A selector watching `source` for `events`, with no data.
fn watching(source: &impl AsRawFd, events: Events) -> DefaultSelector {
    let mut sel = DefaultSelector::new().unwrap();
    sel.register(source, events, ()).unwrap();
    sel
}

/// The ready (fd, events) pairs of one `select`.
fn ready<T: Clone>(sel: &mut DefaultSelector<T>, timeout: Duration) -> Vec<(RawFd, Events)> {
    let mut got: Vec<_> = sel
        .select(Some(timeout))
        .unwrap()
        .into_iter()
        .map(|(key, events)| (key.fd, events))
        .collect();
    got.sort_unstable_by_key(|&(fd, _)| fd);
    got
}

#[test]
fn register_returns_the_key_that_get_key_and_get_map_find() {
    let (a, b) = pair();
    let mut sel = DefaultSelector::new().unwrap();
    let key = sel.register(&a, EVENT_READ | EVENT_WRITE, "a").unwrap();
    assert_eq!(key.fd, a.as_raw_fd());
    assert_eq!(key.events, EVENT_READ | EVENT_WRITE);
    assert_eq!(key.data, "a");
    sel.register(&b, EVENT_READ, "b").unwrap();

    assert_eq!(sel.get_key(&a).unwrap(), &key);
    // The number names the same registration as the object, as in Python.
    assert_eq!(sel.get_key(&Fd(b.as_raw_fd())).unwrap().data, "b");
    let map = sel.get_map();
    assert_eq!(map.len(), 2);
    assert_eq!(map[&b.as_raw_fd()].events, EVENT_READ);
}

#[test]
fn misuse_is_refused_with_pythons_errors_and_messages() {
    let (a, b) = pair();
    let mut sel = DefaultSelector::new().unwrap();

    let empty = sel.register(&a, Events::default(), ()).unwrap_err();
    assert!(matches!(empty, Error::InvalidEvents(0)), "{empty:?}");
    assert_eq!(empty.to_string(), "invalid events: 0");
    let four = Events::from_bits(4).unwrap_err();
    assert_eq!(four.to_string(), "invalid events: 4");
    let negative = sel.register(&Fd(-1), EVENT_READ, ()).unwrap_err();
    assert!(matches!(negative, Error::InvalidFd(-1)), "{negative:?}");
    assert_eq!(negative.to_string(), "invalid file descriptor: -1");
    assert!(
        sel.get_map().is_empty(),
        "a refused registration left a key"
    );

    sel.register(&a, EVENT_READ, ()).unwrap();
    let fd = a.as_raw_fd();
    for again in [
        sel.register(&a, EVENT_WRITE, ()),
        sel.register(&Fd(fd), EVENT_READ, ()),
    ] {
        let e = again.unwrap_err();
        assert!(matches!(e, Error::AlreadyRegistered(f) if f == fd), "{e:?}");
        assert_eq!(e.to_string(), format!("fd {fd} is already registered"));
    }
    let other = b.as_raw_fd();
    let unknown = [
        sel.unregister(&b).map(|_| ()),
        sel.modify(&b, EVENT_READ, ()).map(|_| ()),
        sel.get_key(&b).map(|_| ()),
    ];
    for e in unknown {
        let e = e.unwrap_err();
        assert!(matches!(e, Error::NotRegistered(f) if f == other), "{e:?}");
        assert_eq!(e.to_string(), format!("fd {other} is not registered"));
    }
    // CPython's epoll selector lets modify() set no events; register's rule holds here.
    let e = sel.modify(&a, Events::default(), ()).unwrap_err();
    assert!(matches!(e, Error::InvalidEvents(0)), "{e:?}");
    assert_eq!(sel.get_key(&a).unwrap().events, EVENT_READ);
}

#[test]
fn a_regular_file_is_refused_by_epoll_with_eperm() {
    let file = File::open("/proc/self/stat").unwrap();
    let mut sel = DefaultSelector::new().unwrap();
    let e = sel.register(&file, EVENT_READ, ()).unwrap_err();
    match &e {
        Error::Io(io) => assert_eq!(io.raw_os_error(), Some(libc::EPERM)),
        other => panic!("expected Error::Io, got {other:?}"),
    }
    assert!(e
        .to_string()
        .starts_with("cannot register with the selector: "));
    assert!(
        sel.get_key(&file).is_err(),
        "a refused registration left a key"
    );
}

#[test]
fn errors_convert_to_io_errors_of_the_nearest_kind() {
    let kinds = [
        (Error::InvalidEvents(0), ErrorKind::InvalidInput),
        (Error::InvalidFd(-1), ErrorKind::InvalidInput),
        (Error::AlreadyRegistered(3), ErrorKind::AlreadyExists),
        (Error::NotRegistered(3), ErrorKind::NotFound),
        (
            Error::Io(io::Error::from(ErrorKind::PermissionDenied)),
            ErrorKind::PermissionDenied,
        ),
    ];
    for (e, kind) in kinds {
        let message = e.to_string();
        let io = io::Error::from(e);
        assert_eq!(io.kind(), kind);
        if kind != ErrorKind::PermissionDenied {
            assert_eq!(io.to_string(), message);
        }
    }
}

#[test]
fn a_socketpair_is_reported_readable_once_its_peer_writes() {
    let (a, mut b) = pair();
    let mut sel = DefaultSelector::new().unwrap();
    sel.register(&a, EVENT_READ, 'a').unwrap();
    assert!(ready(&mut sel, Duration::ZERO).is_empty());

    b.write_all(b"ping").unwrap();
    let got = sel.select(Some(GUARD)).unwrap();
    assert_eq!(got.len(), 1);
    let (key, events) = &got[0];
    assert_eq!(
        (key.fd, key.data, *events),
        (a.as_raw_fd(), 'a', EVENT_READ)
    );
}

#[test]
fn data_left_unread_is_reported_again_until_it_is_read() {
    let (mut a, mut b) = pair();
    let mut sel = watching(&a, EVENT_READ);
    b.write_all(b"0123456789").unwrap();

    let fd = a.as_raw_fd();
    for round in 0..3 {
        assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_READ)], "round {round}");
    }
    // Half read: still ready, still reported.
    let mut half = [0; 5];
    a.read_exact(&mut half).unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_READ)]);
    // All read: no longer reported.
    a.read_exact(&mut half).unwrap();
    assert!(ready(&mut sel, QUIET).is_empty());
    // New data: reported again.
    b.write_all(b"x").unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_READ)]);
}

#[test]
fn a_writable_socket_is_reported_on_every_select_it_is_watched_for_writing() {
    let (client, conn) = tcp_pair();
    let mut sel = watching(&client, EVENT_READ | EVENT_WRITE);
    let fd = client.as_raw_fd();
    for round in 0..3 {
        assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_WRITE)], "round {round}");
    }
    conn.sendall(b"both").unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_READ | EVENT_WRITE)]);
}

#[test]
fn tcp_register_modify_unregister_change_what_select_reports() {
    let listener = socket::create_server("127.0.0.1:0").unwrap();
    listener.setblocking(false).unwrap();
    let mut sel = DefaultSelector::new().unwrap();
    sel.register(&listener, EVENT_READ, "listener").unwrap();
    assert!(ready(&mut sel, QUIET).is_empty(), "no client yet");

    let client = socket::create_connection(listener.getsockname().unwrap(), Some(GUARD)).unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(listener.as_raw_fd(), EVENT_READ)]);
    let (conn, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.getsockname().unwrap());
    conn.setblocking(false).unwrap();
    assert!(
        ready(&mut sel, QUIET).is_empty(),
        "accepted: nothing pending"
    );

    let cfd = conn.as_raw_fd();
    sel.register(&conn, EVENT_READ, "conn").unwrap();
    assert!(ready(&mut sel, QUIET).is_empty(), "no data yet");
    let key = sel.modify(&conn, EVENT_WRITE, "conn writing").unwrap();
    assert_eq!((key.events, key.data), (EVENT_WRITE, "conn writing"));
    assert_eq!(ready(&mut sel, GUARD), [(cfd, EVENT_WRITE)]);
    // Data only, same events: the data changes, the watch does not.
    sel.modify(&conn, EVENT_WRITE, "renamed").unwrap();
    let got = sel.select(Some(GUARD)).unwrap();
    assert_eq!(got[0].0.data, "renamed");

    sel.modify(&conn, EVENT_READ, "conn").unwrap();
    assert!(
        ready(&mut sel, QUIET).is_empty(),
        "reading again: nothing sent"
    );
    client.sendall(b"hello").unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(cfd, EVENT_READ)]);

    let key = sel.unregister(&conn).unwrap();
    assert_eq!((key.fd, key.data), (cfd, "conn"));
    assert!(
        ready(&mut sel, QUIET).is_empty(),
        "unregistered: unread data ignored"
    );
    assert_eq!(conn.recv(16).unwrap(), b"hello");
}

#[test]
fn a_timeout_with_nothing_ready_returns_empty_and_not_early() {
    let (a, _b) = pair();
    let mut sel = watching(&a, EVENT_READ);
    for timeout in [Duration::from_millis(1), Duration::from_millis(250)] {
        let start = Instant::now();
        assert!(sel.select(Some(timeout)).unwrap().is_empty());
        let waited = start.elapsed();
        assert!(
            waited >= timeout,
            "returned after {waited:?} of {timeout:?}"
        );
    }
    // A selector with nothing registered waits out its timeout too.
    let mut none: DefaultSelector = DefaultSelector::new().unwrap();
    let start = Instant::now();
    assert!(none.select(Some(QUIET)).unwrap().is_empty());
    assert!(start.elapsed() >= QUIET);
}

#[test]
fn a_zero_timeout_polls_and_a_huge_one_waits_for_readiness() {
    let (a, b) = pair();
    let mut sel = watching(&a, EVENT_READ);
    let start = Instant::now();
    assert!(sel.select(Some(Duration::ZERO)).unwrap().is_empty());
    assert!(start.elapsed() < GUARD, "a zero timeout blocked");

    let writer = primitives::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        (&b).write_all(b"wake").unwrap();
    });
    // Past TIMEOUT_MAX means "no timeout": no overflow, woken by the data.
    let got = sel.select(Some(Duration::MAX)).unwrap();
    assert_eq!(got.len(), 1);
    primitives::join(&writer);
}

#[test]
fn no_timeout_blocks_until_another_thread_writes() {
    let (a, b) = pair();
    let mut sel = watching(&a, EVENT_READ);
    let writer = primitives::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        (&b).write_all(b"wake").unwrap();
    });
    assert_eq!(ready_blocking(&mut sel), [(a.as_raw_fd(), EVENT_READ)]);
    primitives::join(&writer);
}

fn ready_blocking(sel: &mut DefaultSelector) -> Vec<(RawFd, Events)> {
    sel.select(None)
        .unwrap()
        .into_iter()
        .map(|(key, events)| (key.fd, events))
        .collect()
}

#[test]
fn a_hang_up_is_reported_as_every_event_watched_and_recv_sees_the_end() {
    let (client, conn) = tcp_pair();
    let mut sel = watching(&conn, EVENT_READ);
    client.close();
    assert_eq!(ready(&mut sel, GUARD), [(conn.as_raw_fd(), EVENT_READ)]);
    assert!(conn.recv(16).unwrap().is_empty(), "end of stream");
    // Still at end of stream: level-triggered, so still reported.
    assert_eq!(ready(&mut sel, GUARD), [(conn.as_raw_fd(), EVENT_READ)]);

    let (a, b) = pair();
    sel.register(&a, EVENT_READ | EVENT_WRITE, ()).unwrap();
    drop(b);
    let got = ready(&mut sel, GUARD);
    assert!(
        got.contains(&(a.as_raw_fd(), EVENT_READ | EVENT_WRITE)),
        "{got:?}"
    );
}

#[test]
fn a_source_closed_without_unregistering_is_never_reported_and_unregisters() {
    let (a, mut b) = pair();
    let fd = a.as_raw_fd();
    let mut sel = watching(&a, EVENT_READ);
    b.write_all(b"unread").unwrap();
    assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_READ)]);
    drop(a); // closed while its readiness awaits re-arming
             // Another test may reuse the number meanwhile: it is still not ours to report.
    assert!(sel.select(Some(QUIET)).unwrap().is_empty());
    let key = sel.unregister(&Fd(fd)).unwrap();
    assert_eq!(key.fd, fd);
    assert!(sel.get_map().is_empty());
}

#[test]
fn one_select_reports_every_ready_source_past_the_first_capacity() {
    let pairs: Vec<_> = (0..100).map(|_| pair()).collect();
    let mut sel = DefaultSelector::new().unwrap();
    for (i, (a, b)) in pairs.iter().enumerate() {
        sel.register(a, EVENT_READ, i).unwrap();
        (&*b).write_all(b"x").unwrap();
    }
    let got = sel.select(Some(GUARD)).unwrap();
    let seen: HashSet<usize> = got.into_iter().map(|(key, _)| key.data).collect();
    assert_eq!(seen.len(), 100);
}

#[test]
fn close_keeps_the_sources_open_for_another_selector() {
    let (a, mut b) = pair();
    watching(&a, EVENT_READ).close();
    let mut second = watching(&a, EVENT_READ);
    b.write_all(b"still open").unwrap();
    assert_eq!(ready(&mut second, GUARD), [(a.as_raw_fd(), EVENT_READ)]);
}

#[test]
fn the_selector_and_its_keys_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<DefaultSelector<Arc<Socket>>>();
    send_sync::<SelectorKey<Arc<Socket>>>();
    send_sync::<Error>();

    let (a, _b) = pair();
    let shown = format!("{:?}", watching(&a, EVENT_READ | EVENT_WRITE));
    assert!(shown.contains("EVENT_READ | EVENT_WRITE"), "{shown}");
    assert_eq!(format!("{:?}", Events::default()), "0");
}

/// One selector thread echoes for many clients at once, as Python's docs example
/// does; every byte comes back, in order, per client.
#[test]
fn a_selector_loop_echoes_for_many_clients_at_once() {
    #[derive(Clone)]
    enum Job {
        Accept,
        Echo(Arc<Socket>),
    }
    let clients = 16;
    let lines = primitives::stress_count(50);
    let listener = socket::create_server("127.0.0.1:0").unwrap();
    listener.setblocking(false).unwrap();
    let addr = listener.getsockname().unwrap();

    let client_threads: Vec<_> = (0..clients)
        .map(|c| {
            primitives::spawn(move || {
                let sock = socket::create_connection(addr, Some(GUARD)).unwrap();
                for i in 0..lines {
                    let line = format!("client {c} line {i}\n");
                    sock.sendall(line.as_bytes()).unwrap();
                    let mut back = Vec::new();
                    while back.len() < line.len() {
                        let data = sock.recv(4096).unwrap();
                        assert!(!data.is_empty(), "closed early");
                        back.extend(data);
                    }
                    assert_eq!(back, line.as_bytes());
                }
            })
        })
        .collect();

    let mut sel = DefaultSelector::new().unwrap();
    sel.register(&listener, EVENT_READ, Job::Accept).unwrap();
    let (mut accepted, mut closed) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while closed < clients {
        assert!(Instant::now() < deadline, "the echo loop hung");
        for (key, _) in sel.select(Some(GUARD)).unwrap() {
            match key.data {
                Job::Accept => {
                    let (conn, _) = listener.accept().unwrap();
                    conn.setblocking(false).unwrap();
                    let conn = Arc::new(conn);
                    sel.register(&*conn, EVENT_READ, Job::Echo(Arc::clone(&conn)))
                        .unwrap();
                    accepted += 1;
                }
                Job::Echo(conn) => match conn.recv(1000) {
                    Ok(data) if data.is_empty() => {
                        sel.unregister(&*conn).unwrap();
                        closed += 1;
                    }
                    Ok(data) => {
                        conn.setblocking(true).unwrap();
                        conn.sendall(&data).unwrap();
                        conn.setblocking(false).unwrap();
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("recv: {e}"),
                },
            }
        }
    }
    assert_eq!(accepted, clients);
    for t in &client_threads {
        primitives::join(t);
    }
}

#[test]
fn a_modify_epoll_refuses_drops_the_registration_as_python_does() {
    let (a, _b) = pair();
    let fd = a.as_raw_fd();
    let mut sel = watching(&a, EVENT_READ);
    drop(a); // closed before it was unregistered: epoll has forgotten it
    let e = sel.modify(&Fd(fd), EVENT_WRITE, ()).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    let gone = sel.get_key(&Fd(fd));
    assert!(
        matches!(gone, Err(Error::NotRegistered(f)) if f == fd),
        "{gone:?}"
    );
}

#[test]
fn unregister_after_the_number_was_closed_and_reused_works_and_frees_it() {
    let (a, _b) = pair();
    let fd = a.as_raw_fd();
    let mut sel = watching(&a, EVENT_READ);
    drop(a);
    // The kernel hands out the lowest free number, but a parallel test may take it.
    let mut held = Vec::new();
    let reused = (0..64).find_map(|_| {
        let (c, d) = pair();
        if c.as_raw_fd() == fd {
            Some(c)
        } else if d.as_raw_fd() == fd {
            Some(d)
        } else {
            held.push((c, d));
            None
        }
    });
    sel.unregister(&Fd(fd)).unwrap();
    if let Some(new) = reused {
        // The new file under the old number is watched like any other.
        sel.register(&new, EVENT_WRITE, ()).unwrap();
        assert_eq!(ready(&mut sel, GUARD), [(fd, EVENT_WRITE)]);
    }
}

/// The marker the child below prints once it is about to wait.
const SELECTING: &str = "selecting now";

/// The child half of `a_stop_and_continue_during_select_is_retried_with_what_remains`
/// (run alone in its own process, so stopping it stops no other test).
#[test]
#[ignore = "a child process of a_stop_and_continue_during_select_is_retried_with_what_remains"]
fn child_selects_for_a_second_and_a_half() {
    let (a, _b) = pair();
    let mut sel = watching(&a, EVENT_READ);
    let timeout = Duration::from_millis(1500);
    println!("{SELECTING}");
    let start = Instant::now();
    let got = sel.select(Some(timeout)).expect("select failed");
    assert!(got.is_empty());
    let waited = start.elapsed();
    assert!(waited >= timeout, "returned after {waited:?}");
}

/// On Linux a stopped and continued process sees `EINTR` from `epoll_wait` even
/// without a signal handler (signal(7)); Python retries with the time that remains
/// (PEP 475), so `select` neither fails nor returns early.
#[test]
fn a_stop_and_continue_during_select_is_retried_with_what_remains() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_selects_for_a_second_and_a_half"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = lines.any(|l| l.is_ok_and(|l| l.contains(SELECTING)));
    assert!(started, "the child never reached select");
    // Let it block in epoll_wait, then stop and continue it.
    std::thread::sleep(Duration::from_millis(300));
    for signal in ["-STOP", "-CONT"] {
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success(), "kill {signal} failed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "child failed:\n{}", output.join("\n"));
}
