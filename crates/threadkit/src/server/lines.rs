//! The framing and limits of the line protocols, shared by every server model,
//! without I/O: a [`LineSplitter`] per connection turns received bytes into
//! [`LineEvent`]s, and the server notices are here so both models send the same
//! words.
//!
//! The splitter borrows: a line that arrived whole in one read is handed out as a
//! slice of that read's buffer; only a line split across reads is copied, into a
//! buffer that never holds more than `max_line` bytes and is freed once the line
//! is complete, so an idle connection holds no buffer.

/// Sent when a line is not UTF-8; the connection goes on.
pub(crate) const INVALID_UTF8: &str = "* error: invalid UTF-8";
/// Sent to a client beyond the client limit, which is then closed.
pub(crate) const SERVER_FULL: &str = "* error: server full";
/// Sent to a client silent for longer than the idle timeout, which is then closed.
pub(crate) const IDLE_TIMEOUT: &str = "* idle timeout";
/// Sent to every client when the server stops.
pub(crate) const SHUTTING_DOWN: &str = "* server shutting down";

/// The notice for a line longer than `max_line` bytes; the connection is then
/// closed.
pub(crate) fn line_too_long(max_line: usize) -> String {
    format!("* error: line too long (max {max_line} bytes)")
}

/// What the splitter found in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEvent<'a> {
    /// A complete, valid line, without its `\n` (a `\r` before it is kept).
    Line(&'a str),
    /// A complete line that is not UTF-8: send [`INVALID_UTF8`] and go on.
    InvalidUtf8,
    /// The current line passed `max_line` bytes: send
    /// [`line_too_long`]`(max_line)` and close with `CloseReason::TooLong`. The
    /// splitter yields nothing more.
    TooLong,
}

/// Splits one connection's byte stream into lines, enforcing the line limit.
///
/// What a server feeds a splitter at end of input when it holds an unfinished
/// line: the `\n` that ends it.
pub(crate) const END_OF_INPUT: &[u8] = b"\n";

/// Feed each received chunk with [`next`](LineSplitter::next) until it returns
/// `None`:
///
/// ```text
/// let mut rest = &buf[..n];
/// while let Some(event) = splitter.next(&mut rest) {
///     match event { /* ... */ }
/// }
/// ```
///
/// An unterminated last line is still a line (as Python's `readline()` returns
/// it): at end of input, when [`has_partial`](LineSplitter::has_partial) says one
/// is held, the server feeds [`END_OF_INPUT`] to end it, and answers it before
/// closing.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    max_line: usize,
    // The start of the current line when it began in an earlier chunk; at most
    // `max_line` bytes. Empty, without allocation, between lines.
    partial: Vec<u8>,
    // `partial` holds a complete line that `next` handed out last time: clear it
    // on the next call.
    handed_out: bool,
    // A line was too long: the stream is dead.
    failed: bool,
}

impl LineSplitter {
    /// A splitter allowing lines of up to `max_line` bytes before the `\n`.
    pub(crate) fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            max_line,
            partial: Vec::new(),
            handed_out: false,
            failed: false,
        }
    }

    /// Whether an unfinished line is held: at end of input, feed
    /// [`END_OF_INPUT`] to have it reported.
    pub(crate) fn has_partial(&self) -> bool {
        !self.failed && !self.handed_out && !self.partial.is_empty()
    }

    /// The line limit, in bytes.
    #[cfg(test)]
    pub(crate) fn max_line(&self) -> usize {
        self.max_line
    }

    /// How many bytes of an unfinished line are buffered.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        if self.handed_out {
            0
        } else {
            self.partial.len()
        }
    }

    /// Whether a too-long line ended the stream.
    #[cfg(test)]
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// The next event from `input`, advancing `input` past what it consumed;
    /// `None` when `input` is used up (an unfinished line is kept for the next
    /// chunk) or after [`LineEvent::TooLong`].
    pub(crate) fn next<'s, 'd: 's>(&'s mut self, input: &mut &'d [u8]) -> Option<LineEvent<'s>> {
        if self.handed_out {
            self.handed_out = false;
            if input.is_empty() {
                // Between lines and nothing more to read: hold no memory.
                self.partial = Vec::new();
            } else {
                self.partial.clear();
            }
        }
        if self.failed || input.is_empty() {
            *input = &[];
            return None;
        }
        let data: &'d [u8] = input;
        match data.iter().position(|&b| b == b'\n') {
            Some(i) => {
                *input = &data[i + 1..];
                let head = &data[..i];
                if self.partial.len() + head.len() > self.max_line {
                    return Some(self.fail(input));
                }
                if self.partial.is_empty() {
                    return Some(check(head));
                }
                self.partial.extend_from_slice(head);
                self.handed_out = true;
                Some(check(&self.partial))
            }
            None => {
                *input = &[];
                if self.partial.len() + data.len() > self.max_line {
                    return Some(self.fail(input));
                }
                self.partial.extend_from_slice(data);
                None
            }
        }
    }

    fn fail(&mut self, input: &mut &[u8]) -> LineEvent<'static> {
        self.failed = true;
        self.partial = Vec::new();
        *input = &[];
        LineEvent::TooLong
    }
}

fn check(line: &[u8]) -> LineEvent<'_> {
    match std::str::from_utf8(line) {
        Ok(s) => LineEvent::Line(s),
        Err(_) => LineEvent::InvalidUtf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one after another; each event as a string.
    fn run(max: usize, chunks: &[&[u8]]) -> (Vec<String>, LineSplitter) {
        let mut sp = LineSplitter::new(max);
        let mut events = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            while let Some(ev) = sp.next(&mut rest) {
                events.push(match ev {
                    LineEvent::Line(s) => format!("line {s:?}"),
                    LineEvent::InvalidUtf8 => "invalid".to_string(),
                    LineEvent::TooLong => "too long".to_string(),
                });
            }
            assert!(rest.is_empty());
        }
        (events, sp)
    }

    #[test]
    fn splits_lines_within_one_chunk() {
        let (ev, sp) = run(100, &[b"a\nbc\n\nd"]);
        assert_eq!(ev, ["line \"a\"", "line \"bc\"", "line \"\""]);
        assert_eq!(sp.buffered(), 1);
    }

    #[test]
    fn joins_lines_across_chunks() {
        let (ev, sp) = run(100, &[b"hel", b"lo wo", b"rld\nnext", b"\n"]);
        assert_eq!(ev, ["line \"hello world\"", "line \"next\""]);
        assert_eq!(sp.buffered(), 0);
    }

    #[test]
    fn keeps_carriage_return() {
        let (ev, _) = run(100, &[b"a\r\n"]);
        assert_eq!(ev, ["line \"a\\r\""]);
    }

    #[test]
    fn invalid_utf8_is_reported_and_the_stream_goes_on() {
        let (ev, sp) = run(100, &[b"ok\n\xff\xfe\nfine\n"]);
        assert_eq!(ev, ["line \"ok\"", "invalid", "line \"fine\""]);
        assert!(!sp.failed());
    }

    #[test]
    fn utf8_split_across_chunks_is_valid() {
        let s = "héllo\n".as_bytes();
        let (ev, _) = run(100, &[&s[..2], &s[2..]]);
        assert_eq!(ev, ["line \"héllo\""]);
    }

    #[test]
    fn exactly_max_line_bytes_is_allowed() {
        let (ev, _) = run(4, &[b"abcd\n"]);
        assert_eq!(ev, ["line \"abcd\""]);
        let (ev, _) = run(4, &[b"ab", b"cd", b"\n"]);
        assert_eq!(ev, ["line \"abcd\""]);
    }

    #[test]
    fn one_byte_over_is_too_long_and_ends_the_stream() {
        let (ev, sp) = run(4, &[b"ok\nabcde\nmore\n", b"still more\n"]);
        assert_eq!(ev, ["line \"ok\"", "too long"]);
        assert!(sp.failed());
        assert_eq!(sp.buffered(), 0);
    }

    #[test]
    fn too_long_is_found_before_the_newline_without_buffering_past_the_limit() {
        let mut sp = LineSplitter::new(8);
        let mut rest: &[u8] = b"12345678";
        assert_eq!(sp.next(&mut rest), None);
        assert_eq!(sp.buffered(), 8);
        let mut rest: &[u8] = b"9";
        assert_eq!(sp.next(&mut rest), Some(LineEvent::TooLong));
        assert_eq!(sp.buffered(), 0);
        let mut rest: &[u8] = b"\n";
        assert_eq!(sp.next(&mut rest), None);
    }

    #[test]
    fn too_long_across_chunks_with_newline() {
        let (ev, _) = run(5, &[b"abc", b"def\n"]);
        assert_eq!(ev, ["too long"]);
    }

    #[test]
    fn zero_max_line_allows_only_empty_lines() {
        let (ev, _) = run(0, &[b"\n\nx"]);
        assert_eq!(ev, ["line \"\"", "line \"\"", "too long"]);
    }

    #[test]
    fn unterminated_last_line_is_held_until_end_of_input() {
        let (ev, sp) = run(100, &[b"done\npartial"]);
        assert_eq!(ev, ["line \"done\""]);
        assert_eq!(sp.buffered(), 7);
        assert!(sp.has_partial());
        let (ev, sp) = run(100, &[b"done\npartial", END_OF_INPUT]);
        assert_eq!(ev, ["line \"done\"", "line \"partial\""]);
        assert!(!sp.has_partial());
        let (_, sp) = run(100, &[b"done\n"]);
        assert!(!sp.has_partial());
    }

    #[test]
    fn idle_splitter_holds_no_buffer() {
        let (_, sp) = run(100, &[b"ab", b"c\n"]);
        assert_eq!(sp.partial.capacity(), 0);
    }

    #[test]
    fn notices_have_the_protocol_texts() {
        assert_eq!(
            line_too_long(65536),
            "* error: line too long (max 65536 bytes)"
        );
        assert_eq!(INVALID_UTF8, "* error: invalid UTF-8");
        assert_eq!(SERVER_FULL, "* error: server full");
        assert_eq!(IDLE_TIMEOUT, "* idle timeout");
        assert_eq!(SHUTTING_DOWN, "* server shutting down");
    }

    #[test]
    fn max_line_is_kept() {
        assert_eq!(LineSplitter::new(9).max_line(), 9);
    }
}
