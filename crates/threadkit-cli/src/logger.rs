//! The program's stderr log, which never blocks serving: a line is handed to a
//! bounded buffer that one thread writes. When the buffer is full (stderr is a
//! pipe nobody reads), lines are dropped and counted, and once writing works
//! again the writer says `(N log lines dropped)`.
//!
//! The first line (`listening on ADDR`) is written directly, before the writer
//! starts: lines logged before [`start`] wait in the buffer, so it stays first.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use threadkit::threading::Thread;

/// Bytes of unwritten log text kept before lines are dropped (about a thousand
/// connect lines); a longer text (a large thread dump) still goes into an empty
/// buffer.
const CAPACITY: usize = 64 * 1024;

#[derive(Debug)]
struct Buffer {
    /// Lines not yet taken by the writer, without their `\n`.
    lines: VecDeque<String>,
    /// Bytes in `lines`, the bound.
    bytes: usize,
    /// Lines dropped since the writer last said so.
    dropped: u64,
    /// The writer holds a batch it has not finished writing: `flush` waits for it.
    writing: bool,
}

impl Buffer {
    const fn new() -> Buffer {
        Buffer {
            lines: VecDeque::new(),
            bytes: 0,
            dropped: 0,
            writing: false,
        }
    }

    /// Queues `text`, or counts its lines as dropped when it would take the
    /// buffer past `capacity` (an empty buffer takes any text).
    fn push(&mut self, text: String, capacity: usize) {
        if self.bytes + text.len() > capacity && !self.lines.is_empty() {
            self.dropped += text.lines().count().max(1) as u64;
        } else {
            self.bytes += text.len();
            self.lines.push_back(text);
        }
    }

    /// Takes everything queued, as one text with a `\n` after each line, and the
    /// count of lines dropped meanwhile.
    fn take(&mut self) -> (String, u64) {
        self.bytes = 0;
        let mut text = String::new();
        for line in self.lines.drain(..) {
            text.push_str(&line);
            text.push('\n');
        }
        (text, std::mem::take(&mut self.dropped))
    }
}

#[derive(Debug)]
struct Log {
    buffer: Mutex<Buffer>,
    /// Signalled when a line (or a drop) comes: the writer waits on it.
    ready: Condvar,
    /// Signalled when the writer has written a batch: `flush` waits on it.
    written: Condvar,
}

static LOG: Log = Log {
    buffer: Mutex::new(Buffer::new()),
    ready: Condvar::new(),
    written: Condvar::new(),
};

/// The writer thread, once started.
static WRITER: OnceLock<Result<(), String>> = OnceLock::new();

fn buffer() -> MutexGuard<'static, Buffer> {
    LOG.buffer.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Queues `text` (one line, or several for a thread dump) for stderr; never
/// blocks on stderr. When the buffer is full the text is dropped and counted.
pub fn line(text: impl Into<String>) {
    let mut buf = buffer();
    // The writer waits only on an empty buffer: wake it only then (one wake per
    // batch, not per line).
    let was_empty = buf.lines.is_empty() && buf.dropped == 0;
    buf.push(text.into(), CAPACITY);
    drop(buf);
    if was_empty {
        LOG.ready.notify_one();
    }
}

/// Starts the writer thread (once; later calls do nothing).
///
/// # Errors
///
/// When no thread can be started: the lines then stay queued (and dropped once
/// the buffer is full), and serving goes on.
pub fn start() -> io::Result<()> {
    WRITER
        .get_or_init(|| {
            Thread::builder()
                .name("log")
                .daemon(true)
                .target(write_forever)
                .spawn()
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(io::Error::other)
}

/// Waits until every queued line is written, for at most `limit` (stderr may
/// never be read).
pub fn flush(limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buf = buffer();
    while !buf.lines.is_empty() || buf.dropped > 0 || buf.writing {
        let now = Instant::now();
        if now >= deadline || !matches!(WRITER.get(), Some(Ok(()))) {
            return;
        }
        buf = LOG
            .written
            .wait_timeout(buf, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// The writer: takes everything queued, writes it in one call, then the count of
/// what was dropped meanwhile (those lines came after the ones it wrote).
fn write_forever() {
    loop {
        let (text, dropped) = {
            let mut buf = buffer();
            while buf.lines.is_empty() && buf.dropped == 0 {
                buf = LOG.ready.wait(buf).unwrap_or_else(PoisonError::into_inner);
            }
            buf.writing = true;
            buf.take()
        };
        let mut err = io::stderr().lock();
        // A closed stderr loses the lines; serving goes on.
        let _ = err.write_all(text.as_bytes());
        if dropped > 0 {
            let _ = writeln!(err, "({dropped} log lines dropped)");
        }
        drop(err);
        buffer().writing = false;
        LOG.written.notify_all();
    }
}

/// The library's warnings and errors (accept failures, say), one line each.
#[derive(Debug)]
pub struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = if record.level() == log::Level::Error {
                "error"
            } else {
                "warning"
            };
            line(format!("{level}: {}", record.args()));
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::Buffer;

    #[test]
    fn a_full_buffer_drops_and_counts_lines_and_take_hands_over_both() {
        let mut buf = Buffer::new();
        buf.push("connect a".to_string(), 20);
        buf.push("connect b".to_string(), 20);
        buf.push("disconnect a (closed)".to_string(), 20);
        buf.push("two\nlines".to_string(), 20);
        assert_eq!(buf.take(), ("connect a\nconnect b\n".to_string(), 3));
        // Taken: room again, and nothing counted twice.
        buf.push("after".to_string(), 20);
        assert_eq!(buf.take(), ("after\n".to_string(), 0));
    }

    #[test]
    fn an_empty_buffer_takes_a_text_longer_than_its_capacity() {
        let mut buf = Buffer::new();
        let dump = "row\n".repeat(100);
        buf.push(dump.clone(), 20);
        assert_eq!(buf.take(), (format!("{dump}\n"), 0));
    }
}
