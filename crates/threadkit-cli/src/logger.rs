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

#[derive(Debug, Default)]
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

#[derive(Debug)]
struct Log {
    buffer: Mutex<Buffer>,
    /// Signalled when a line (or a drop) comes: the writer waits on it.
    ready: Condvar,
    /// Signalled when the writer has written a batch: `flush` waits on it.
    written: Condvar,
}

static LOG: Log = Log {
    buffer: Mutex::new(Buffer {
        lines: VecDeque::new(),
        bytes: 0,
        dropped: 0,
        writing: false,
    }),
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
    let text = text.into();
    let mut buf = buffer();
    if buf.bytes + text.len() > CAPACITY && !buf.lines.is_empty() {
        buf.dropped += text.lines().count().max(1) as u64;
    } else {
        buf.bytes += text.len();
        buf.lines.push_back(text);
    }
    drop(buf);
    LOG.ready.notify_one();
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
/// never be read); whether everything was written.
pub fn flush(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = buffer();
    while !buf.lines.is_empty() || buf.dropped > 0 || buf.writing {
        let now = Instant::now();
        if now >= deadline || !matches!(WRITER.get(), Some(Ok(()))) {
            return false;
        }
        buf = LOG
            .written
            .wait_timeout(buf, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    true
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
            buf.bytes = 0;
            let mut text = String::new();
            for line in buf.lines.drain(..) {
                text.push_str(&line);
                text.push('\n');
            }
            (text, std::mem::take(&mut buf.dropped))
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
