//! `server::ChatRoom`, driven through an `Outbox` without sockets: every sentence
//! of the chat protocol, asserted exactly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use threadkit::server::{Action, ChatRoom, CloseReason, ConnId, LineService, Outbox};

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn id(n: u64) -> ConnId {
    ConnId::new(n)
}

fn send(to: u64, text: &str) -> Action {
    Action::Send {
        to: id(to),
        text: text.to_string(),
    }
}

fn to_others(from: u64, text: &str) -> Action {
    Action::Broadcast {
        except: Some(id(from)),
        text: text.to_string(),
    }
}

fn to_all(text: &str) -> Action {
    Action::Broadcast {
        except: None,
        text: text.to_string(),
    }
}

/// A room with its own outbox; each call returns the actions it produced.
struct Harness {
    room: ChatRoom,
    out: Outbox,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            room: ChatRoom::new(),
            out: Outbox::new(),
        }
    }

    fn connect(&mut self, conn: u64) -> Vec<Action> {
        self.room.on_connect(id(conn), peer(), &mut self.out);
        self.out.drain().collect()
    }

    fn line(&mut self, conn: u64, line: &str) -> Vec<Action> {
        self.room.on_line(id(conn), line, &mut self.out);
        self.out.drain().collect()
    }

    fn close(&mut self, conn: u64, reason: CloseReason) -> Vec<Action> {
        self.room.on_close(id(conn), reason, &mut self.out);
        self.out.drain().collect()
    }

    /// Connects `conn` and renames it to `name`.
    fn join_as(&mut self, conn: u64, name: &str) {
        self.connect(conn);
        let actions = self.line(conn, &format!("/nick {name}"));
        assert!(
            matches!(&actions[..], [Action::Broadcast { except: None, .. }]),
            "{actions:?}"
        );
    }
}

#[test]
fn a_new_client_is_welcomed_and_announced() {
    let mut h = Harness::new();
    assert_eq!(
        h.connect(1),
        [
            send(1, "* welcome, you are guest-1"),
            to_others(1, "* guest-1 joined")
        ]
    );
    assert_eq!(
        h.connect(2),
        [
            send(2, "* welcome, you are guest-2"),
            to_others(2, "* guest-2 joined")
        ]
    );
}

#[test]
fn guest_numbers_skip_names_in_use() {
    let mut h = Harness::new();
    h.connect(1);
    h.line(1, "/nick guest-2");
    assert_eq!(h.connect(2)[0], send(2, "* welcome, you are guest-3"));
}

#[test]
fn guest_numbers_keep_counting_after_a_client_left() {
    let mut h = Harness::new();
    h.connect(1);
    h.close(1, CloseReason::Closed);
    assert_eq!(h.connect(2)[0], send(2, "* welcome, you are guest-2"));
}

#[test]
fn a_line_goes_to_every_other_client_with_the_name() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    assert_eq!(
        h.line(1, "hello everyone"),
        [to_others(1, "guest-1: hello everyone")]
    );
    assert_eq!(
        h.line(2, "  spaced  "),
        [to_others(2, "guest-2:   spaced  ")]
    );
}

#[test]
fn one_trailing_carriage_return_is_stripped() {
    let mut h = Harness::new();
    h.connect(1);
    assert_eq!(h.line(1, "hi\r"), [to_others(1, "guest-1: hi")]);
    assert_eq!(h.line(1, "hi\r\r"), [to_others(1, "guest-1: hi\r")]);
    assert_eq!(h.line(1, "/who\r"), [send(1, "* online: guest-1")]);
}

#[test]
fn empty_lines_are_ignored() {
    let mut h = Harness::new();
    h.connect(1);
    assert_eq!(h.line(1, ""), []);
    assert_eq!(h.line(1, "\r"), []);
}

#[test]
fn nick_tells_everyone() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    assert_eq!(h.line(1, "/nick alice"), [to_all("* guest-1 is now alice")]);
    assert_eq!(h.line(1, "hi"), [to_others(1, "alice: hi")]);
    assert_eq!(h.room.names(), ["alice", "guest-2"]);
    assert_eq!(h.line(1, "/nick Alice"), [to_all("* alice is now Alice")]);
}

#[test]
fn nick_rejects_invalid_names() {
    let mut h = Harness::new();
    h.connect(1);
    let long = "x".repeat(33);
    for bad in [
        "/nick",
        "/nick ",
        "/nick a b",
        "/nick *star",
        "/nick bell\u{7}",
        "/nick tab\tx",
    ] {
        assert_eq!(
            h.line(1, bad),
            [send(1, "* error: invalid name")],
            "{bad:?}"
        );
    }
    assert_eq!(
        h.line(1, &format!("/nick {long}")),
        [send(1, "* error: invalid name")]
    );
    assert_eq!(h.room.names(), ["guest-1"]);
}

#[test]
fn nick_accepts_up_to_32_characters_of_any_script() {
    let mut h = Harness::new();
    h.connect(1);
    let max = "é".repeat(32); // 32 characters, 64 bytes
    assert_eq!(
        h.line(1, &format!("/nick {max}")),
        [to_all(&format!("* guest-1 is now {max}"))]
    );
    assert_eq!(
        h.line(1, "/nick a*b"),
        [to_all(&format!("* {max} is now a*b"))]
    );
    assert_eq!(h.line(1, "/nick x"), [to_all("* a*b is now x")]);
}

#[test]
fn nick_rejects_a_name_in_use_case_sensitively() {
    let mut h = Harness::new();
    h.join_as(1, "alice");
    h.connect(2);
    assert_eq!(h.line(2, "/nick alice"), [send(2, "* error: name taken")]);
    assert_eq!(h.line(1, "/nick alice"), [send(1, "* error: name taken")]);
    assert_eq!(h.line(2, "/nick ALICE"), [to_all("* guest-2 is now ALICE")]);
}

#[test]
fn a_name_is_free_again_after_its_owner_left() {
    let mut h = Harness::new();
    h.join_as(1, "alice");
    h.connect(2);
    h.close(1, CloseReason::Closed);
    assert_eq!(h.line(2, "/nick alice"), [to_all("* guest-2 is now alice")]);
}

#[test]
fn who_lists_everyone_sorted() {
    let mut h = Harness::new();
    h.join_as(1, "carol");
    h.join_as(2, "alice");
    h.connect(3);
    h.join_as(4, "bob");
    assert_eq!(
        h.line(3, "/who"),
        [send(3, "* online: alice, bob, carol, guest-3")]
    );
}

#[test]
fn help_lists_the_commands() {
    let mut h = Harness::new();
    h.connect(1);
    let actions = h.line(1, "/help");
    let texts: Vec<&str> = actions
        .iter()
        .map(|a| match a {
            Action::Send { to, text } if *to == id(1) => text.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(texts.len() >= 4);
    assert!(texts.iter().all(|t| t.starts_with("* ")), "{texts:?}");
    for command in ["/nick NAME", "/who", "/help", "/quit"] {
        assert!(
            texts.iter().any(|t| t.contains(command)),
            "{command} missing"
        );
    }
}

#[test]
fn quit_says_bye_and_closes() {
    let mut h = Harness::new();
    h.join_as(1, "alice");
    h.connect(2);
    assert_eq!(h.line(1, "/quit"), [send(1, "* bye"), Action::Close(id(1))]);
    assert_eq!(
        h.close(1, CloseReason::Closed),
        [to_others(1, "* alice left")]
    );
    assert_eq!(h.room.names(), ["guest-2"]);
}

#[test]
fn unknown_commands_are_named_in_the_error() {
    let mut h = Harness::new();
    h.connect(1);
    assert_eq!(
        h.line(1, "/dance now"),
        [send(1, "* error: unknown command /dance")]
    );
    assert_eq!(h.line(1, "/x"), [send(1, "* error: unknown command /x")]);
    assert_eq!(
        h.line(1, "/NICK bob"),
        [send(1, "* error: unknown command /NICK")]
    );
}

#[test]
fn leaving_tells_the_rest_for_every_reason_but_too_slow() {
    for reason in [
        CloseReason::Closed,
        CloseReason::Reset,
        CloseReason::Idle,
        CloseReason::TooLong,
        CloseReason::Shutdown,
        CloseReason::Error,
    ] {
        let mut h = Harness::new();
        h.join_as(1, "alice");
        assert_eq!(
            h.close(1, reason),
            [to_others(1, "* alice left")],
            "{reason}"
        );
    }
}

#[test]
fn a_slow_client_is_dropped_with_a_notice() {
    let mut h = Harness::new();
    h.join_as(1, "alice");
    h.connect(2);
    assert_eq!(
        h.close(1, CloseReason::TooSlow),
        [to_others(1, "* alice dropped (too slow)")]
    );
}

#[test]
fn unknown_connections_are_ignored() {
    let mut h = Harness::new();
    assert_eq!(h.line(9, "hello"), []);
    assert_eq!(h.line(9, "/who"), []);
    assert_eq!(h.close(9, CloseReason::Closed), []);
    h.connect(1);
    h.close(1, CloseReason::Closed);
    assert_eq!(
        h.close(1, CloseReason::Closed),
        [],
        "on_close twice announces once"
    );
}

#[test]
fn concurrent_clients_get_unique_names() {
    let room = Arc::new(ChatRoom::new());
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let room = Arc::clone(&room);
            thread::spawn(move || {
                let mut out = Outbox::new();
                for i in 0..25 {
                    room.on_connect(id(t * 100 + i), peer(), &mut out);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let names = room.names();
    assert_eq!(names.len(), 200);
    for n in 1..=200 {
        assert!(names.contains(&format!("guest-{n}")));
    }
}

#[test]
fn chat_room_is_send_and_sync() {
    fn check<T: LineService + Send + Sync + std::fmt::Debug + Default>() {}
    check::<ChatRoom>();
}
