//! Socket options, each set then read back on real sockets: 127.0.0.1, and [::1]
//! when the machine has it (skipped with a message when it does not).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use threadkit::socket::{self, Family, Kind, Socket};

fn ipv6_available() -> bool {
    let ok = Socket::new(Family::Inet6, Kind::Stream)
        .and_then(|s| s.bind("[::1]:0"))
        .is_ok();
    if !ok {
        eprintln!("skipped: no [::1] on this machine");
    }
    ok
}

/// A TCP socket bound to the loopback of `family`.
fn tcp(family: Family) -> Socket {
    let s = Socket::new(family, Kind::Stream).unwrap();
    s.bind(loopback(family)).unwrap();
    s
}

fn udp(family: Family) -> Socket {
    let s = Socket::new(family, Kind::Datagram).unwrap();
    s.bind(loopback(family)).unwrap();
    s
}

fn loopback(family: Family) -> &'static str {
    match family {
        Family::Inet => "127.0.0.1:0",
        _ => "[::1]:0",
    }
}

/// Every option both families share, on `family`'s loopback.
fn set_then_get_on(family: Family) {
    let s = tcp(family);
    s.set_reuse_address(true).unwrap();
    assert!(s.reuse_address().unwrap());
    s.set_reuse_address(false).unwrap();
    assert!(!s.reuse_address().unwrap());

    s.set_reuse_port(true).unwrap();
    assert!(s.reuse_port().unwrap());
    s.set_reuse_port(false).unwrap();
    assert!(!s.reuse_port().unwrap());

    s.set_nodelay(true).unwrap();
    assert!(s.nodelay().unwrap());
    s.set_nodelay(false).unwrap();
    assert!(!s.nodelay().unwrap());

    s.set_keepalive(true).unwrap();
    assert!(s.keepalive().unwrap());
    s.set_keepalive(false).unwrap();
    assert!(!s.keepalive().unwrap());
    s.set_keepalive_idle(Duration::from_secs(30)).unwrap();
    assert_eq!(s.keepalive_idle().unwrap(), Duration::from_secs(30));
    assert!(
        s.keepalive().unwrap(),
        "setting a parameter turns keepalive on"
    );
    s.set_keepalive_interval(Duration::from_secs(7)).unwrap();
    assert_eq!(s.keepalive_interval().unwrap(), Duration::from_secs(7));
    s.set_keepalive_count(4).unwrap();
    assert_eq!(s.keepalive_count().unwrap(), 4);
    assert_eq!(
        s.keepalive_idle().unwrap(),
        Duration::from_secs(30),
        "one parameter leaves the others"
    );

    // Linux doubles the size asked for (and clamps it to the system's maximum).
    s.set_recv_buffer_size(32 * 1024).unwrap();
    assert!(s.recv_buffer_size().unwrap() >= 32 * 1024);
    s.set_send_buffer_size(32 * 1024).unwrap();
    assert!(s.send_buffer_size().unwrap() >= 32 * 1024);

    assert_eq!(s.linger().unwrap(), None);
    s.set_linger(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(5)));
    s.set_linger(Some(Duration::ZERO)).unwrap();
    assert_eq!(s.linger().unwrap(), Some(Duration::ZERO));
    s.set_linger(None).unwrap();
    assert_eq!(s.linger().unwrap(), None);

    s.set_ttl(42).unwrap();
    assert_eq!(s.ttl().unwrap(), 42);
    assert!(s.set_ttl(256).is_err());

    assert!(s.take_error().unwrap().is_none());

    let u = udp(family);
    u.set_broadcast(true).unwrap();
    assert!(u.broadcast().unwrap());
    u.set_broadcast(false).unwrap();
    assert!(!u.broadcast().unwrap());
    u.set_ttl(9).unwrap();
    assert_eq!(u.ttl().unwrap(), 9);
}

#[test]
fn every_option_set_then_get_on_ipv4() {
    set_then_get_on(Family::Inet);
}

#[test]
fn every_option_set_then_get_on_ipv6() {
    if ipv6_available() {
        set_then_get_on(Family::Inet6);
    }
}

#[test]
fn keepalive_times_under_a_second_are_invalid_input() {
    let s = tcp(Family::Inet);
    let err = s
        .set_keepalive_idle(Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let err = s.set_keepalive_interval(Duration::ZERO).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    s.set_keepalive_idle(Duration::from_millis(2500)).unwrap();
    assert_eq!(s.keepalive_idle().unwrap(), Duration::from_secs(2));
}

#[test]
fn take_error_reports_a_refused_non_blocking_connect_once() {
    let closed = {
        let l = socket::create_server("127.0.0.1:0").unwrap();
        l.getsockname().unwrap()
    };
    let s = Socket::new(Family::Inet, Kind::Stream).unwrap();
    s.setblocking(false).unwrap();
    let _ = s.connect(closed); // in progress, or refused at once
                               // The refusal arrives as the pending error (bounded wait for loopback's RST).
    let start = std::time::Instant::now();
    let mut seen = None;
    while seen.is_none() && start.elapsed() < Duration::from_secs(10) {
        seen = s.take_error().unwrap();
        if seen.is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    match seen {
        Some(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
            assert!(s.take_error().unwrap().is_none(), "taking clears it");
        }
        // Refused within connect itself: the error was reported there instead.
        None => assert!(s.getpeername().is_err()),
    }
}

#[test]
fn multicast_v4_join_and_leave_on_the_loopback_interface() {
    let u = udp(Family::Inet);
    let group = Ipv4Addr::new(239, 255, 42, 1);
    u.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST).unwrap();
    assert!(
        u.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_err(),
        "joining twice is refused"
    );
    u.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).unwrap();
    assert!(u.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_err());
    assert!(u
        .join_multicast_v4(&Ipv4Addr::new(127, 0, 0, 2), &Ipv4Addr::LOCALHOST)
        .is_err());
}

#[test]
fn multicast_v4_ttl_and_loop_set_then_get() {
    let u = udp(Family::Inet);
    assert_eq!(u.multicast_ttl_v4().unwrap(), 1);
    u.set_multicast_ttl_v4(3).unwrap();
    assert_eq!(u.multicast_ttl_v4().unwrap(), 3);
    assert!(u.multicast_loop_v4().unwrap());
    u.set_multicast_loop_v4(false).unwrap();
    assert!(!u.multicast_loop_v4().unwrap());
    u.set_multicast_loop_v4(true).unwrap();
    assert!(u.multicast_loop_v4().unwrap());
}

#[test]
fn multicast_v6_join_leave_hops_and_loop() {
    if !ipv6_available() {
        return;
    }
    let u = udp(Family::Inet6);
    let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
    // Interface 0: the system's choice, here the loopback's route.
    match u.join_multicast_v6(&group, 0) {
        Ok(()) => u.leave_multicast_v6(&group, 0).unwrap(),
        Err(e) => eprintln!("skipped the IPv6 join: {e}"),
    }
    assert!(u.leave_multicast_v6(&group, 0).is_err(), "not a member");
    assert_eq!(u.multicast_hops_v6().unwrap(), 1);
    u.set_multicast_hops_v6(5).unwrap();
    assert_eq!(u.multicast_hops_v6().unwrap(), 5);
    assert!(u.multicast_loop_v6().unwrap());
    u.set_multicast_loop_v6(false).unwrap();
    assert!(!u.multicast_loop_v6().unwrap());
}

#[test]
fn sockref_reaches_any_other_option() {
    let s = tcp(Family::Inet);
    let r = socket2::SockRef::from(&s);
    r.set_tcp_user_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    assert_eq!(r.tcp_user_timeout().unwrap(), Some(Duration::from_secs(3)));
}
