//! [`ChatRoom`]: the chat protocol of `threadkit serve --chat`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::conn::{CloseReason, ConnId};
use super::outbox::Outbox;
use super::service::LineService;

/// The lines `/help` answers with.
const HELP: [&str; 5] = [
    "* commands:",
    "* /nick NAME  change your name (1-32 characters, no spaces)",
    "* /who        list who is online",
    "* /help       show this help",
    "* /quit       leave the chat",
];

/// The longest name, in characters.
const MAX_NAME: usize = 32;

/// One chat room: every client of the server is in it.
///
/// The protocol (lines without `\n`, server notices start with `* `):
///
/// - one trailing `\r` is stripped from every line; empty lines are ignored;
/// - a new client gets `* welcome, you are guest-N` and the others
///   `* guest-N joined`. N counts up from 1 over the room's life, skipping names
///   in use (a name is not handed out again right after its owner left);
/// - `/nick NAME`: NAME has 1 to 32 characters, no whitespace or control
///   characters, does not start with `*`, and no one (including the caller) has
///   it (names are case-sensitive); otherwise `* error: invalid name` or
///   `* error: name taken`. On success everyone gets `* OLD is now NAME`;
/// - `/who` answers `* online: a, b, c` (sorted);
/// - `/help` lists the commands, one `* ` line each;
/// - `/quit` answers `* bye` and closes the connection;
/// - any other `/x ...` gets `* error: unknown command /x`;
/// - any other line goes to every other client as `NAME: text`;
/// - leaving tells the rest `* NAME left`, or `* NAME dropped (too slow)` when the
///   server dropped the client for not reading ([`CloseReason::TooSlow`]).
///
/// `ChatRoom` is `Send + Sync` with its own lock; it never blocks on the network
/// (it only fills [`Outbox`]es).
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use threadkit::server::{Action, ChatRoom, ConnId, LineService, Outbox};
///
/// let room = ChatRoom::new();
/// let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
/// let mut out = Outbox::new();
/// room.on_connect(ConnId::new(1), peer, &mut out);
/// assert_eq!(out.actions()[0], Action::Send {
///     to: ConnId::new(1),
///     text: "* welcome, you are guest-1".to_string(),
/// });
/// ```
#[derive(Debug, Default)]
pub struct ChatRoom {
    state: Mutex<Room>,
}

/// The room's members, under the room's lock.
#[derive(Debug, Default)]
struct Room {
    /// Each member's name.
    names: HashMap<ConnId, String>,
    /// The names in use, sorted for `/who`.
    taken: BTreeMap<String, ConnId>,
    /// The last N given as `guest-N`.
    last_guest: u64,
}

impl ChatRoom {
    /// An empty room.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::ChatRoom;
    ///
    /// let room = ChatRoom::new();
    /// assert!(room.names().is_empty());
    /// ```
    pub fn new() -> ChatRoom {
        ChatRoom::default()
    }

    /// The names of everyone in the room, sorted (what `/who` lists).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ChatRoom, ConnId, LineService, Outbox};
    ///
    /// let room = ChatRoom::new();
    /// room.on_connect(ConnId::new(1), "127.0.0.1:5000".parse().unwrap(), &mut Outbox::new());
    /// assert_eq!(room.names(), ["guest-1"]);
    /// ```
    pub fn names(&self) -> Vec<String> {
        self.room().taken.keys().cloned().collect()
    }

    fn room(&self) -> MutexGuard<'_, Room> {
        // The room is consistent between statements that can panic: recover.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Room {
    fn join(&mut self, conn: ConnId) -> String {
        let name = loop {
            self.last_guest += 1;
            let name = format!("guest-{}", self.last_guest);
            if !self.taken.contains_key(&name) {
                break name;
            }
        };
        self.taken.insert(name.clone(), conn);
        self.names.insert(conn, name.clone());
        name
    }

    fn nick(&mut self, conn: ConnId, arg: &str, out: &mut Outbox) {
        let Some(old) = self.names.get(&conn).cloned() else {
            return;
        };
        if !valid_name(arg) {
            out.send(conn, "* error: invalid name");
        } else if self.taken.contains_key(arg) {
            out.send(conn, "* error: name taken");
        } else {
            self.taken.remove(&old);
            self.taken.insert(arg.to_string(), conn);
            self.names.insert(conn, arg.to_string());
            out.broadcast(None, format!("* {old} is now {arg}"));
        }
    }

    fn who(&self, conn: ConnId, out: &mut Outbox) {
        let names: Vec<&str> = self.taken.keys().map(String::as_str).collect();
        out.send(conn, format!("* online: {}", names.join(", ")));
    }
}

/// 1 to 32 characters, no whitespace or control characters, not starting with
/// `*`.
fn valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_NAME).contains(&count)
        && !name.starts_with('*')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl LineService for ChatRoom {
    fn on_connect(&self, conn: ConnId, _peer: SocketAddr, out: &mut Outbox) {
        let name = self.room().join(conn);
        out.send(conn, format!("* welcome, you are {name}"));
        out.broadcast(Some(conn), format!("* {name} joined"));
    }

    fn on_line(&self, conn: ConnId, line: &str, out: &mut Outbox) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return;
        }
        let mut room = self.room();
        let Some(name) = room.names.get(&conn) else {
            return;
        };
        if !line.starts_with('/') {
            out.broadcast(Some(conn), format!("{name}: {line}"));
            return;
        }
        let (command, arg) = match line.find(char::is_whitespace) {
            Some(i) => (&line[..i], line[i..].trim()),
            None => (line, ""),
        };
        match command {
            "/nick" => room.nick(conn, arg, out),
            "/who" => room.who(conn, out),
            "/help" => {
                for text in HELP {
                    out.send(conn, text);
                }
            }
            "/quit" => {
                out.send(conn, "* bye");
                out.close(conn);
            }
            _ => out.send(conn, format!("* error: unknown command {command}")),
        }
    }

    fn on_close(&self, conn: ConnId, reason: CloseReason, out: &mut Outbox) {
        let mut room = self.room();
        let Some(name) = room.names.remove(&conn) else {
            return;
        };
        room.taken.remove(&name);
        drop(room);
        let text = match reason {
            CloseReason::TooSlow => format!("* {name} dropped (too slow)"),
            _ => format!("* {name} left"),
        };
        out.broadcast(Some(conn), text);
    }
}
