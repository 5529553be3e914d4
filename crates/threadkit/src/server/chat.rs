//! [`ChatRoom`]: the chat protocol of `threadkit serve --chat`.

use std::borrow::Cow;
use std::collections::HashMap;
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

/// What every character a client must not send to another's terminal becomes.
const REPLACEMENT: char = '\u{FFFD}';

/// Unicode's format characters (general category Cf: bidi controls and
/// isolates, zero-width spaces and joiners, the byte-order mark, tags, ...), as
/// of Unicode 15. A test checks the table against CPython's `unicodedata`.
// Hand-written: no small, well-kept crate among the ones at hand does only this,
// and 21 ranges are easier to review than a dependency.
const FORMAT: [(char, char); 21] = [
    ('\u{AD}', '\u{AD}'),
    ('\u{600}', '\u{605}'),
    ('\u{61C}', '\u{61C}'),
    ('\u{6DD}', '\u{6DD}'),
    ('\u{70F}', '\u{70F}'),
    ('\u{890}', '\u{891}'),
    ('\u{8E2}', '\u{8E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    // U+2028 LINE and U+2029 PARAGRAPH SEPARATOR (Zl, Zp) sit between the two
    // Cf runs: some clients break lines there, so they go too.
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// One chat room: every client of the server is in it.
///
/// The protocol (lines without `\n`, server notices start with `* `):
///
/// - one trailing `\r` is stripped from every line; empty lines are ignored;
/// - a new client gets `* welcome, you are guest-N` and the others
///   `* guest-N joined`. N counts up from 1 over the room's life, skipping names
///   in use (a name is not handed out again right after its owner left);
/// - `/nick NAME`: NAME has 1 to 32 characters, no whitespace or control
///   characters, does not start with `*`, and no one else has it *ignoring
///   case* (`Bob` and `bob` cannot both be online; a client may change the case
///   of its own name); otherwise `* error: invalid name` or
///   `* error: name taken`. The name is kept as typed, but for its format
///   characters (below). On success everyone gets `* OLD is now NAME`;
/// - `/who` answers `* online: a, b, c` (sorted);
/// - `/help` lists the commands, one `* ` line each;
/// - `/quit` answers `* bye` and closes the connection;
/// - any other `/x ...` gets `* error: unknown command /x`;
/// - any other line goes to every other client as `NAME: text`;
/// - leaving tells the rest `* NAME left`, or `* NAME dropped (too slow)` when the
///   server dropped the client for not reading ([`CloseReason::TooSlow`]).
///
/// # What a client cannot do to another's terminal
///
/// Every control character but tab (ESC, a bare `\r`, backspace, the other C0
/// codes, DEL, the C1 codes) and every format character (Unicode's category
/// Cf: the bidi overrides and isolates U+202A..U+202E and U+2066..U+2069, the
/// zero-width U+200B..U+200F, U+FEFF, ...), as well as U+2028 and U+2029, is
/// replaced by U+FFFD in what the room relays, names included. So no client
/// can move another's cursor, clear a line or a screen, or reorder text: no
/// line a client sends reaches another as a server notice (`* ...`) or under
/// another client's `NAME:` prefix.
///
/// **A known limit:** names that merely *look* alike are distinct names. A
/// Cyrillic `а` (U+0430) is not a Latin `a`, so `аlice` can join next to
/// `alice`, and the room does not detect confusable scripts (Unicode TR 39).
/// Whoever needs that must check names with a confusables table of their own.
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
/// room.on_connect(ConnId::new(2), peer, &mut out);
/// out.drain().for_each(drop);
///
/// // A carriage return and an escape sequence cannot forge a notice.
/// room.on_line(ConnId::new(1), "hi\r* server shutting down\x1b[K", &mut out);
/// assert_eq!(out.actions()[0], Action::Broadcast {
///     except: Some(ConnId::new(1)),
///     text: "guest-1: hi\u{FFFD}* server shutting down\u{FFFD}[K".to_string(),
/// });
/// ```
#[derive(Debug, Default)]
pub struct ChatRoom {
    state: Mutex<Room>,
}

/// The room's members, under the room's lock.
#[derive(Debug, Default)]
struct Room {
    /// Each member's name, as shown.
    names: HashMap<ConnId, String>,
    /// The names in use by their [`fold`]ed form, so that uniqueness ignores
    /// case.
    taken: HashMap<String, ConnId>,
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
        self.room().sorted_names()
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
            if !self.taken.contains_key(&fold(&name)) {
                break name;
            }
        };
        self.taken.insert(fold(&name), conn);
        self.names.insert(conn, name.clone());
        name
    }

    fn nick(&mut self, conn: ConnId, arg: &str, out: &mut Outbox) {
        let Some(old) = self.names.get(&conn).cloned() else {
            return;
        };
        if !valid_name(arg) {
            out.send(conn, "* error: invalid name");
            return;
        }
        let name = clean(arg);
        let key = fold(&name);
        let owner = self.taken.get(&key).copied();
        // Taken by someone else, or the caller asked for the name it has.
        if owner.is_some_and(|owner| owner != conn) || old == name {
            out.send(conn, "* error: name taken");
            return;
        }
        self.taken.remove(&fold(&old));
        self.taken.insert(key, conn);
        self.names.insert(conn, name.to_string());
        out.broadcast(None, format!("* {old} is now {name}"));
    }

    fn who(&self, conn: ConnId, out: &mut Outbox) {
        out.send(
            conn,
            format!("* online: {}", self.sorted_names().join(", ")),
        );
    }

    fn sorted_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.names.values().cloned().collect();
        names.sort_unstable();
        names
    }
}

/// A name's form for telling names apart ignoring case: upper then lower case,
/// so that `ß` and `SS` (and the Kelvin sign and `k`) are one name too.
fn fold(name: &str) -> String {
    name.to_uppercase().to_lowercase()
}

/// Whether `c` must not reach another client's terminal: a control character
/// other than tab, or a format character (see [`FORMAT`]).
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\t') || is_format(c)
}

fn is_format(c: char) -> bool {
    // Every format character is above U+00AC: most text never reaches the search.
    c >= '\u{AD}'
        && FORMAT
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
}

/// `text` with every [`forbidden`] character replaced by U+FFFD; borrowed when
/// there is none (the common case).
fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(forbidden) {
        Cow::Owned(
            text.chars()
                .map(|c| if forbidden(c) { REPLACEMENT } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
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
        if !line.starts_with('/') {
            // Cleaned before the room's lock is taken: the lock is only for
            // the name.
            let text = clean(line);
            let room = self.room();
            if let Some(name) = room.names.get(&conn) {
                out.broadcast(Some(conn), format!("{name}: {text}"));
            }
            return;
        }
        let mut room = self.room();
        if !room.names.contains_key(&conn) {
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
            _ => out.send(conn, format!("* error: unknown command {}", clean(command))),
        }
    }

    fn on_close(&self, conn: ConnId, reason: CloseReason, out: &mut Outbox) {
        let mut room = self.room();
        let Some(name) = room.names.remove(&conn) else {
            return;
        };
        room.taken.remove(&fold(&name));
        drop(room);
        let text = match reason {
            CloseReason::TooSlow => format!("* {name} dropped (too slow)"),
            _ => format!("* {name} left"),
        };
        out.broadcast(Some(conn), text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code points CPython's `unicodedata` puts in category `cat`, as
    /// `(first, last)` runs.
    fn python_category(cat: &str) -> Option<Vec<(u32, u32)>> {
        let script = format!(
            "import unicodedata as u\n\
             r = [c for c in range(0x110000) if u.category(chr(c)) == '{cat}']\n\
             print(u.unidata_version)\n\
             print(' '.join(map(str, r)))"
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for c in text
            .lines()
            .nth(1)?
            .split(' ')
            .map(|c| c.parse::<u32>().unwrap())
        {
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == c => *last = c,
                _ => runs.push((c, c)),
            }
        }
        Some(runs)
    }

    #[test]
    fn the_format_table_is_sorted_and_covers_every_cf_character_python_knows() {
        assert!(FORMAT.windows(2).all(|w| w[0].1 < w[1].0));
        let Some(cf) = python_category("Cf") else {
            return; // no python3 here
        };
        let within = |runs: &[(u32, u32)], n: u32| runs.iter().any(|&(a, b)| (a..=b).contains(&n));
        for &(lo, hi) in &cf {
            for c in (lo..=hi).filter_map(char::from_u32) {
                assert!(is_format(c), "U+{:04X} is Cf", c as u32);
            }
        }
        // What the table has beyond CPython's Cf: U+2028/U+2029 on purpose, and
        // what a later Unicode version made Cf (unassigned, Cn, in CPython's).
        let unassigned = python_category("Cn").unwrap();
        for (lo, hi) in FORMAT {
            for n in lo as u32..=hi as u32 {
                assert!(
                    within(&cf, n) || n == 0x2028 || n == 0x2029 || within(&unassigned, n),
                    "U+{n:04X} is not Cf"
                );
            }
        }
    }

    #[test]
    fn clean_replaces_controls_but_tab_and_format_characters() {
        assert!(matches!(clean("plain text\tand tab"), Cow::Borrowed(_)));
        for bad in [
            '\r',
            '\x1b',
            '\x08',
            '\0',
            '\x7f',
            '\u{85}',
            '\u{9b}',
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{feff}',
            '\u{2028}',
            '\u{e0041}',
        ] {
            assert_eq!(clean(&format!("a{bad}b")), "a\u{FFFD}b", "{bad:?}");
        }
        assert_eq!(clean("é ü 日本 🙂"), "é ü 日本 🙂");
    }
}
