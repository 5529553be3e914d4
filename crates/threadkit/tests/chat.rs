//! `server::ChatRoom`, driven through an `Outbox` without sockets: every sentence
//! of the chat protocol, asserted exactly; then forgery attempts over real
//! sockets in every model.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use common::{Client, Running};
use threadkit::server::{
    Action, ChatRoom, CloseReason, ConnId, LineService, Model, Outbox, ServerConfig,
};

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
    // Only one: a second is a bare `\r`, which is never relayed.
    assert_eq!(h.line(1, "hi\r\r"), [to_others(1, "guest-1: hi\u{FFFD}")]);
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
fn nick_rejects_a_name_in_use_ignoring_case() {
    let mut h = Harness::new();
    h.join_as(1, "Bob");
    h.connect(2);
    for taken in ["Bob", "bob", "BOB", "bOb"] {
        assert_eq!(
            h.line(2, &format!("/nick {taken}")),
            [send(2, "* error: name taken")],
            "{taken}"
        );
    }
    assert_eq!(h.line(1, "/nick Bob"), [send(1, "* error: name taken")]);
    // Beyond ASCII too: upper then lower case makes `ß` and `SS` one name.
    h.join_as(3, "Straße");
    assert_eq!(h.line(2, "/nick STRASSE"), [send(2, "* error: name taken")]);
    assert_eq!(h.line(2, "/nick ÉMILE"), [to_all("* guest-2 is now ÉMILE")]);
    assert_eq!(h.line(1, "/nick émile"), [send(1, "* error: name taken")]);
    assert_eq!(h.room.names(), ["Bob", "Straße", "ÉMILE"]);
}

#[test]
fn a_client_may_change_the_case_of_its_own_name() {
    let mut h = Harness::new();
    h.join_as(1, "bob");
    assert_eq!(h.line(1, "/nick BoB"), [to_all("* bob is now BoB")]);
    h.connect(2);
    assert_eq!(h.line(2, "/nick bob"), [send(2, "* error: name taken")]);
}

#[test]
fn guest_names_skip_names_in_use_ignoring_case() {
    let mut h = Harness::new();
    h.join_as(1, "GUEST-2");
    assert_eq!(h.connect(2)[0], send(2, "* welcome, you are guest-3"));
}

#[test]
fn a_name_is_free_again_ignoring_case_after_its_owner_left() {
    let mut h = Harness::new();
    h.join_as(1, "Alice");
    h.connect(2);
    h.close(1, CloseReason::Closed);
    assert_eq!(h.line(2, "/nick alice"), [to_all("* guest-2 is now alice")]);
}

/// Lines that try to forge a notice or another client's prefix on a terminal.
const FORGERIES: [&str; 12] = [
    "hi\r* server shutting down",
    "\r* guest-9 is now admin",
    "x\x1b[2K\x1b[G* server shutting down",
    "\x1b[1A\x1b[2K* guest-2 left",
    "\x1b]0;title\x07* bell",
    "abc\x08\x08\x08\x08\x08\x08\x08\x08\x08* admin: reboot now",
    "\u{9b}2K\u{85}* C1 codes",
    "\u{202e}nwod gnittuhs revres *",
    "\u{2067}* isolate\u{2069}",
    "\u{200b}\u{200f}\u{feff}* zero width",
    "\x7f\x0b\x0c* vertical tab and form feed",
    "one\u{2028}* line separator",
];

/// Whether `text` can only be shown as the plain characters it has: no control
/// but tab, no bidi or format character.
fn inert(text: &str) -> bool {
    !text.chars().any(|c| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}')
            || matches!(c, '\u{2060}'..='\u{206f}' | '\u{feff}')
    })
}

#[test]
fn forged_lines_reach_the_others_inert_under_the_senders_name() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    for forged in FORGERIES {
        let actions = h.line(1, forged);
        let [Action::Broadcast { except, text }] = &actions[..] else {
            panic!("{forged:?}: {actions:?}");
        };
        assert_eq!(*except, Some(id(1)));
        assert!(text.starts_with("guest-1: "), "{text:?}");
        assert!(inert(text), "{forged:?} relayed as {text:?}");
    }
    // Tab and every printable character pass untouched.
    assert_eq!(
        h.line(1, "a\tb é 日本 🙂 * not a notice"),
        [to_others(1, "guest-1: a\tb é 日本 🙂 * not a notice")]
    );
    assert_eq!(
        h.line(1, "\x1b[31mred\x1b[0m"),
        [to_others(1, "guest-1: \u{FFFD}[31mred\u{FFFD}[0m")]
    );
}

#[test]
fn names_with_format_characters_are_shown_with_replacements() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    // A right-to-left override would show `guest-2` reversed; a zero-width
    // space would make a second `bob` that looks like the first.
    assert_eq!(
        h.line(1, "/nick \u{202e}2-tseug"),
        [to_all("* guest-1 is now \u{FFFD}2-tseug")]
    );
    assert_eq!(
        h.line(2, "/nick bob\u{200b}"),
        [to_all("* guest-2 is now bob\u{FFFD}")]
    );
    assert_eq!(h.line(2, "hi"), [to_others(2, "bob\u{FFFD}: hi")]);
    for bad in [
        "/nick esc\x1b[2K",
        "/nick cr\rx",
        "/nick bs\x08",
        "/nick c1\u{9b}",
    ] {
        assert_eq!(
            h.line(1, bad),
            [send(1, "* error: invalid name")],
            "{bad:?}"
        );
    }
    assert_eq!(
        h.line(1, "/x\x1b[2K"),
        [send(1, "* error: unknown command /x\u{FFFD}[2K")]
    );
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

/// Over real sockets: a victim reading what a forger sends sees only inert
/// lines under the forger's name, and never a line starting with `* ` but the
/// server's own notices.
fn forged_lines_never_reach_another_terminal_as_notices(model: Model) {
    let config = ServerConfig {
        model,
        ..ServerConfig::default()
    };
    let server = Running::start(config, ChatRoom::new());
    let mut victim = Client::connect(server.addr());
    assert_eq!(victim.recv(), "* welcome, you are guest-1");
    let mut forger = Client::connect(server.addr());
    assert_eq!(forger.recv(), "* welcome, you are guest-2");
    assert_eq!(victim.recv(), "* guest-2 joined");
    for forged in FORGERIES {
        forger.send(format!("{forged}\r\n"));
    }
    forger.line("/nick \u{202e}1-tseug");
    forger.line("done");
    let mut seen = Vec::new();
    loop {
        let line = victim.recv();
        let done = line.ends_with(": done");
        seen.push(line);
        if done {
            break;
        }
    }
    assert_eq!(seen.len(), FORGERIES.len() + 2, "{seen:?}");
    for line in &seen[..FORGERIES.len()] {
        assert!(line.starts_with("guest-2: "), "{line:?}");
        assert!(inert(line), "{line:?}");
    }
    assert_eq!(seen[FORGERIES.len()], "* guest-2 is now \u{FFFD}1-tseug");
    assert_eq!(seen[FORGERIES.len() + 1], "\u{FFFD}1-tseug: done");
    server.stop();
}

#[test]
fn forged_lines_never_reach_another_terminal_as_notices_threads() {
    forged_lines_never_reach_another_terminal_as_notices(Model::ThreadPerConnection);
}

#[test]
fn forged_lines_never_reach_another_terminal_as_notices_scalable() {
    forged_lines_never_reach_another_terminal_as_notices(Model::Scalable);
}

#[test]
fn chat_room_is_send_and_sync() {
    fn check<T: LineService + Send + Sync + std::fmt::Debug + Default>() {}
    check::<ChatRoom>();
}
