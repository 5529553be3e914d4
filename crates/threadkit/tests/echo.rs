//! `server::Echo`, driven through an `Outbox` without sockets.

use std::net::SocketAddr;

use threadkit::server::{Action, CloseReason, ConnId, Echo, LineService, Outbox, Service};

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn send(to: u64, text: &str) -> Action {
    Action::Send {
        to: ConnId::new(to),
        text: text.to_string(),
    }
}

#[test]
fn every_line_comes_back_exactly_as_sent() {
    let echo = Echo;
    let mut out = Outbox::new();
    for line in [
        "hello",
        "",
        "  spaced  ",
        "tab\there",
        "crlf\r",
        "héllo wörld ✓",
        "* not a notice",
    ] {
        echo.on_line(ConnId::new(1), line, &mut out);
        assert_eq!(out.drain().collect::<Vec<_>>(), [send(1, line)]);
    }
}

#[test]
fn answers_only_the_sender() {
    let echo = Echo;
    let mut out = Outbox::new();
    echo.on_line(ConnId::new(2), "a", &mut out);
    echo.on_line(ConnId::new(3), "b", &mut out);
    assert_eq!(out.actions(), [send(2, "a"), send(3, "b")]);
}

#[test]
fn connect_and_close_send_nothing() {
    let echo = Echo;
    let mut out = Outbox::new();
    echo.on_connect(ConnId::new(1), peer(), &mut out);
    echo.on_close(ConnId::new(1), CloseReason::Closed, &mut out);
    echo.on_close(ConnId::new(1), CloseReason::TooLong, &mut out);
    assert!(out.is_empty());
}

#[test]
fn echo_is_a_service() {
    let service: Service = Echo.into();
    assert_eq!(format!("{service:?}"), "Service::Lines(..)");
    fn check<T: LineService + Send + Sync + std::fmt::Debug + Default + Copy>() {}
    check::<Echo>();
}
