//! One TCP connection of a [`TcpServer`](super::TcpServer), from accept to
//! close, the same in every blocking model (on its own thread, or on the
//! serving thread): [`run`] drives a `LineService` step by step as the module
//! docs of [`server`](super) say, or calls a `RequestHandler`.
//!
//! # A line connection
//!
//! The connection's thread reads (blocking, with the idle timeout as the
//! socket's timeout), splits lines and calls the service. Output goes through
//! the connection's [`Outgoing`] queue; a writer thread exists only while a
//! client reads slowly. Every service call, and the queueing of its outbox,
//! happens under the server's one service lock, so every client sees the lines
//! of all the others in the same order.
//!
//! - a read chunk is served in slices of a few hundred lines, each under the
//!   lock, each slice's output written after it with the lock released; the
//!   lines it sends itself are gathered and queued with one write; parsing
//!   stops once its own answers reach `max_queue` (the rest waits, unparsed,
//!   until the queue drains);
//! - the connection's own answers never drop it: when its queue reaches
//!   `max_queue` it is simply not read until the queue shrinks (backpressure);
//!   if nothing is written for the idle timeout meanwhile it is closed
//!   (`too slow`);
//! - a line for another connection that would grow that one's queue past
//!   `max_queue` is not queued, and that connection is dropped (`too slow`);
//! - another thread stops a connection (shutdown, a service's `close`, too
//!   slow) by recording the reason and shutting its socket down for reading,
//!   which wakes its blocked `recv`.
//!
//! At the end: `on_close` (exactly once, also after a panicking service), the
//! server's notice (`* idle timeout`, `* error: line too long ...`,
//! `* server shutting down`), a flush that ends when nothing was written for
//! [`FLUSH_TIMEOUT`], a shutdown
//! of the write side, and for `closed`, `too long` and `shutdown` a moment
//! ([`LINGER`], [`SHUTDOWN_DISCARD`]) reading and discarding what the client
//! still sends, so it reads the last lines and a clean end, not a reset. A drop guard gives back the client slot, the registry entry
//! and the descriptor whatever happens, then reports the disconnect.

use crate::threading::{self, panic_message};
use std::io;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::conn::{CloseReason, ConnId};
use super::events::ServerEvent;
use super::lines::{self, LineEvent, LineSplitter};
use super::outbox::{Action, Outbox};
use super::outgoing::{release, Outgoing, Push, WriterSpec};
use super::peer::{Client, Peer};
use super::service::{LineService, ServiceKind};
use super::shared::{Conn, Shared};
use super::threaded::Slot;
use crate::socket::Socket;
use crate::sys;
use crate::wire::{self, Wire};

/// How long a closing connection may go without writing a byte of what is
/// queued for it (a client still reading its last answers keeps it going;
/// `server_close` bounds the whole).
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a connection closed while the client may still be sending (a line
/// too long, a service's close) reads and discards the rest before closing, so
/// the client gets the last lines and a clean end instead of a reset.
pub(crate) const LINGER: Duration = Duration::from_millis(200);

/// How long a connection closed by the server's shutdown reads and discards
/// what the client still sends, after the notice and the shutdown of its
/// write side: the client reads the notice and a clean end, not a reset.
pub(crate) const SHUTDOWN_DISCARD: Duration = Duration::from_secs(1);

/// How often a lingering connection whose receive side is shut down looks
/// whether the client closed.
const LINGER_POLL: Duration = Duration::from_millis(10);

/// The most bytes discarded while lingering.
pub(crate) const LINGER_BYTES: usize = 4 << 20;

/// The read buffer of a line connection.
const READ_BUF: usize = 16 * 1024;

/// Lines served under one hold of the service lock.
const SLICE_LINES: usize = 256;

/// Gives everything back however the connection ends, then reports it.
struct ConnGuard<'a> {
    shared: &'a Shared,
    conn: Arc<Conn>,
    reason: CloseReason,
    slot: Option<Slot>,
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.conn.id);
        if let Some(out) = &self.conn.out {
            out.abort();
        }
        let _ = self.conn.sock.shutdown(Shutdown::Both);
        // The slot first: a client that sees the disconnect may connect again.
        drop(self.slot.take());
        self.shared.events.emit(ServerEvent::Disconnect {
            conn: self.conn.id,
            peer: self.conn.peer.clone(),
            reason: self.reason,
        });
    }
}

/// Serves one accepted connection until it ends, on the calling thread.
pub(crate) fn run(shared: &Shared, sock: Socket, peer: Peer, id: ConnId, slot: Slot) {
    let sock = Arc::new(sock);
    let config = &shared.config;
    // Plain, or a TLS session (only line services run under TLS).
    let wire = match config.wire(Arc::clone(&sock)) {
        Ok(wire) => wire,
        Err(e) => {
            log::warn!("threadkit: cannot start TLS for {peer}: {e}");
            drop((sock, slot));
            let reason = CloseReason::Tls;
            shared.events.emit(ServerEvent::Disconnect {
                conn: id,
                peer,
                reason,
            });
            return;
        }
    };
    let out = match shared.service.kind() {
        ServiceKind::Lines(_) => Some(Outgoing::new(
            wire.clone(),
            WriterSpec {
                client: Client(&peer, id).to_string(),
                daemon: config.daemon_threads,
                stack_size: config.handler_stack_size,
            },
        )),
        ServiceKind::Handler(_) => None,
    };
    let conn = Arc::new(Conn::new(id, peer, sock, out));
    let mut guard = ConnGuard {
        shared,
        conn: Arc::clone(&conn),
        reason: CloseReason::Error,
        slot: Some(slot),
    };
    shared.register(&conn);
    guard.reason = match shared.service.kind() {
        ServiceKind::Lines(service) => LineConn::new(shared, &conn, wire, &**service).serve(),
        ServiceKind::Handler(factory) => {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut handler = factory();
                handler.handle(&conn.sock, conn.peer.socket_addr())
            }));
            handler_reason(shared, &conn, outcome)
        }
    };
}

/// The close reason of a handler's connection; an error (not caused by a
/// stop) or a panic is reported as a [`ServerEvent::HandlerError`].
fn handler_reason(
    shared: &Shared,
    conn: &Conn,
    outcome: std::thread::Result<io::Result<()>>,
) -> CloseReason {
    let (reason, error) = match outcome {
        Ok(Ok(())) => (CloseReason::Closed, None),
        Ok(Err(e)) => {
            let error = conn.stop_reason().is_none().then(|| e.to_string());
            (reason_of(&e), error)
        }
        Err(payload) => (
            CloseReason::Error,
            Some(format!("panicked: {}", panic_message(payload.as_ref()))),
        ),
    };
    if let Some(error) = error {
        shared.events.emit(ServerEvent::HandlerError {
            conn: conn.id,
            peer: conn.peer.clone(),
            error,
        });
    }
    conn.stop_reason().unwrap_or(reason)
}

/// The close reason for an I/O error on a connection.
pub(crate) fn reason_of(e: &io::Error) -> CloseReason {
    if wire::is_tls_error(e) {
        return CloseReason::Tls;
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => CloseReason::Idle,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::NotConnected
        | io::ErrorKind::UnexpectedEof => CloseReason::Reset,
        _ => CloseReason::Error,
    }
}

/// The state of one line connection on its thread.
struct LineConn<'a> {
    shared: &'a Shared,
    conn: &'a Conn,
    /// The socket, plain or under TLS.
    wire: Wire,
    out: &'a Outgoing,
    service: &'a dyn LineService,
    /// Reused for every callback.
    outbox: Outbox,
    /// This connection's own lines from the current callbacks, queued in one
    /// write when they are done.
    staged: Vec<u8>,
    /// Input read but not parsed: the rest of a chunk whose answers reached
    /// `max_queue`. Served before the socket is read again; freed once served.
    unread: Vec<u8>,
    /// Other connections given lines under the service lock, to flush after it.
    touched: Vec<Arc<Conn>>,
}

impl<'a> LineConn<'a> {
    fn new(
        shared: &'a Shared,
        conn: &'a Conn,
        wire: Wire,
        service: &'a dyn LineService,
    ) -> LineConn<'a> {
        LineConn {
            shared,
            conn,
            wire,
            out: conn.out.as_ref().expect("a line connection has a queue"),
            service,
            outbox: Outbox::new(),
            staged: Vec::new(),
            unread: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Opens, reads until the end, closes; returns the close reason.
    fn serve(mut self) -> CloseReason {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let reason = self.handshake().or_else(|| self.open());
            reason.unwrap_or_else(|| self.read_loop())
        }));
        let reason = match outcome {
            Ok(reason) => reason,
            Err(payload) => {
                self.shared.events.emit(ServerEvent::HandlerError {
                    conn: self.conn.id,
                    peer: self.conn.peer.clone(),
                    error: format!("panicked: {}", panic_message(payload.as_ref())),
                });
                self.outbox.drain().for_each(drop);
                self.staged.clear();
                CloseReason::Error
            }
        };
        if panic::catch_unwind(AssertUnwindSafe(|| self.close(reason))).is_err() {
            log::error!(
                "threadkit: the line service panicked closing {}",
                Client(&self.conn.peer, self.conn.id)
            );
        }
        reason
    }

    /// Before step 2, under TLS: the handshake, within the idle timeout (the
    /// service never hears of a client that fails it). `Some` when it ended
    /// the connection: `tls`, `idle`, or `closed` for a client that left
    /// without a byte.
    fn handshake(&mut self) -> Option<CloseReason> {
        let e = self.wire.handshake(self.shared.config.idle()).err()?;
        let reason = match e.kind() {
            io::ErrorKind::UnexpectedEof => CloseReason::Closed,
            _ => reason_of(&e),
        };
        Some(self.conn.stop_reason().unwrap_or(reason))
    }

    /// Step 2: the service hears of the connection. `Some` when it already
    /// ended (the service closed it at once).
    fn open(&mut self) -> Option<CloseReason> {
        let config = &self.shared.config;
        if let Err(e) = self.conn.sock.settimeout(config.idle()) {
            log::warn!(
                "threadkit: cannot set up {}: {e}",
                Client(&self.conn.peer, self.conn.id)
            );
            return Some(CloseReason::Error);
        }
        let _ = self.conn.sock.set_nodelay(true);
        let closed = {
            let _lock = self.lock_service();
            self.conn.open.store(true, Ordering::Relaxed);
            self.service
                .on_connect(self.conn.id, self.conn.peer.socket_addr(), &mut self.outbox);
            let closed = self.carry_out();
            self.flush_staged();
            closed
        };
        self.send_queued();
        closed.then_some(CloseReason::Closed)
    }

    /// Step 3: reads and handles lines until something ends the connection.
    fn read_loop(&mut self) -> CloseReason {
        let config = &self.shared.config;
        let idle = config.idle();
        let mut buf = vec![0u8; READ_BUF];
        let mut splitter = LineSplitter::new(config.max_line);
        // At least one byte, or a zero limit would never let the client be read.
        let max_queue = config.max_queue.max(1);
        // Idle means no complete line: the deadline moves only when a line
        // ends, so a client trickling an unfinished line is cut (slowloris).
        let mut idle_at = idle.and_then(threading::deadline);
        // The socket's read timeout now (`open` set it to `idle`).
        let mut read_timeout = idle;
        loop {
            if let Some(reason) = self.conn.stop_reason() {
                return reason;
            }
            // Backpressure: the client's own answers wait to be written.
            if self.out.pending() >= max_queue {
                if !self
                    .out
                    .wait_below(max_queue, idle, || self.conn.stop_reason().is_some())
                {
                    return CloseReason::TooSlow;
                }
                if self.out.is_broken() {
                    return self.conn.stop_reason().unwrap_or(CloseReason::Reset);
                }
                // It reads its answers: not idle.
                idle_at = idle.and_then(threading::deadline);
                continue; // stopped, or room again: look again
            }
            if !self.unread.is_empty() {
                let unread = std::mem::take(&mut self.unread);
                if let Some(reason) = self.handle_chunk(&unread, &mut splitter) {
                    return reason;
                }
                continue;
            }
            if let (Some(full), Some(at)) = (idle, idle_at) {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return CloseReason::Idle;
                }
                // Without a line in progress the deadline was just moved.
                let want = if splitter.has_partial() { left } else { full };
                if read_timeout != Some(want) {
                    let _ = SockRef::from(&*self.conn.sock)
                        .set_read_timeout(Some(want.max(Duration::from_micros(1))));
                    read_timeout = Some(want);
                }
            }
            match self.wire.recv_into(&mut buf) {
                Ok(0) => {
                    if let Some(reason) = self.conn.stop_reason() {
                        return reason;
                    }
                    // The unterminated last line is still a line.
                    if splitter.has_partial() {
                        if let Some(reason) = self.handle_chunk(lines::END_OF_INPUT, &mut splitter)
                        {
                            return reason;
                        }
                    }
                    return CloseReason::Closed;
                }
                Ok(n) => {
                    if let Some(reason) = self.conn.stop_reason() {
                        return reason;
                    }
                    if buf[..n].contains(&b'\n') {
                        idle_at = idle.and_then(threading::deadline);
                    }
                    if let Some(reason) = self.handle_chunk(&buf[..n], &mut splitter) {
                        return reason;
                    }
                }
                // TLS records without data: look at the limits again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.conn.stop_reason().unwrap_or_else(|| reason_of(&e)),
            }
        }
    }

    /// Feeds one chunk through the splitter and the service. `Some` when the
    /// connection must end.
    ///
    /// The chunk is served in slices of [`SLICE_LINES`] lines, each under the
    /// service lock, and the slice's output is written after it, with the
    /// lock released: a burst of short lines holds the others up one slice
    /// at a time. Its own answers stop the parsing once its queue reaches
    /// `max_queue`: the rest of the chunk is kept in `unread`, served before
    /// the socket is read again.
    fn handle_chunk(&mut self, chunk: &[u8], splitter: &mut LineSplitter) -> Option<CloseReason> {
        let mut rest = chunk;
        loop {
            let (ended, more) = self.handle_slice(&mut rest, splitter);
            self.send_queued();
            if ended.is_some() {
                return ended;
            }
            if rest.is_empty() {
                return None;
            }
            if !more {
                self.unread = rest.to_vec();
                return None;
            }
        }
    }

    /// One slice of [`handle_chunk`](Self::handle_chunk), under the service
    /// lock: the end, if the connection must end, and whether it may go on
    /// (its own queue is below `max_queue`).
    fn handle_slice(
        &mut self,
        rest: &mut &[u8],
        splitter: &mut LineSplitter,
    ) -> (Option<CloseReason>, bool) {
        let _lock = self.lock_service();
        let (queued, max_own) = (self.out.pending(), self.shared.config.max_queue.max(1));
        let mut ended = None;
        let mut more = true;
        for _ in 0..SLICE_LINES {
            let Some(event) = splitter.next(rest) else {
                break;
            };
            match event {
                LineEvent::Line(line) => {
                    self.service.on_line(self.conn.id, line, &mut self.outbox);
                    self.shared.events.stats.line(self.outbox.actions());
                    if self.carry_out() {
                        ended = Some(CloseReason::Closed);
                        break;
                    }
                }
                LineEvent::InvalidUtf8 => self.stage(lines::INVALID_UTF8),
                LineEvent::TooLong => {
                    ended = Some(CloseReason::TooLong);
                    break;
                }
            }
            if queued + self.staged.len() >= max_own {
                more = false;
                break;
            }
        }
        self.flush_staged();
        (ended, more)
    }

    /// Carries out the outbox (under the service lock); true when it closed
    /// this connection.
    fn carry_out(&mut self) -> bool {
        let me = self.conn.id;
        let max_queue = self.shared.config.max_queue;
        let mut closed_me = false;
        let mut outbox = std::mem::take(&mut self.outbox);
        for action in outbox.drain() {
            match action {
                Action::Send { to, mut text } => {
                    if to == me {
                        if !closed_me && self.conn.is_open() {
                            self.stage(&text);
                        }
                    } else if let Some(other) = self.shared.find(to) {
                        text.push('\n');
                        self.deliver(&other, text.as_bytes(), max_queue);
                    }
                }
                Action::Broadcast { except, mut text } => {
                    text.push('\n');
                    let conns = self.shared.conns();
                    for other in conns.values() {
                        if Some(other.id) == except || !other.is_open() {
                            continue;
                        }
                        if other.id == me {
                            if !closed_me {
                                self.staged.extend_from_slice(text.as_bytes());
                            }
                        } else {
                            self.deliver(other, text.as_bytes(), max_queue);
                        }
                    }
                }
                Action::Close(id) if id == me => closed_me = true,
                Action::Close(id) => {
                    if let Some(other) = self.shared.find(id) {
                        other.stop(CloseReason::Closed);
                    }
                }
            }
        }
        self.outbox = outbox;
        if closed_me {
            self.flush_staged();
            self.out.refuse();
        }
        closed_me
    }

    fn stage(&mut self, text: &str) {
        self.staged.extend_from_slice(text.as_bytes());
        self.staged.push(b'\n');
    }

    /// Queues the gathered own lines (under the service lock); no limit: the read
    /// loop waits instead.
    fn flush_staged(&mut self) {
        if !self.staged.is_empty() {
            self.out.enqueue(&self.staged, None);
            self.staged.clear();
            release(&mut self.staged);
        }
    }

    /// Queues `line` for another connection (under the service lock); one whose
    /// queue would pass `max_queue` is dropped as too slow instead.
    fn deliver(&mut self, other: &Arc<Conn>, line: &[u8], max_queue: usize) {
        if let Some(out) = &other.out {
            match out.enqueue(line, Some(max_queue)) {
                Push::Full => other.stop(CloseReason::TooSlow),
                Push::Queued { flush: true } => self.touched.push(Arc::clone(other)),
                Push::Queued { flush: false } => {}
                Push::Closed => {}
            }
        }
    }

    /// The server-wide lock that keeps one order of lines for every client, when
    /// the service needs it.
    fn lock_service(&self) -> Option<std::sync::MutexGuard<'a, ()>> {
        self.service
            .needs_global_order()
            .then(|| self.shared.lock_service())
    }

    /// Writes what was queued under the service lock, after releasing it.
    fn send_queued(&mut self) {
        self.out.flush();
        for other in self.touched.drain(..) {
            if let Some(out) = &other.out {
                out.flush();
            }
        }
    }

    /// Step 4: `on_close`, the server's notice, flush, shutdown.
    fn close(&mut self, reason: CloseReason) {
        {
            let _lock = self.lock_service();
            if self.conn.open.swap(false, Ordering::Relaxed) {
                self.service
                    .on_close(self.conn.id, reason, &mut self.outbox);
                self.carry_out();
            }
        }
        self.send_queued();
        let notice = match reason {
            CloseReason::Idle => Some(lines::IDLE_TIMEOUT.to_string()),
            CloseReason::TooLong => Some(lines::line_too_long(self.shared.config.max_line)),
            CloseReason::Shutdown => Some(lines::SHUTTING_DOWN.to_string()),
            _ => None,
        };
        let sock = &self.conn.sock;
        match reason {
            CloseReason::TooSlow | CloseReason::Reset | CloseReason::Tls | CloseReason::Error => {
                self.out.abort()
            }
            _ => {
                if let Some(mut notice) = notice {
                    notice.push('\n');
                    self.out.push_final(notice.as_bytes());
                }
                if !self.out.finish(FLUSH_TIMEOUT) {
                    self.out.abort();
                }
            }
        }
        let discard = match reason {
            CloseReason::TooLong | CloseReason::Closed => Some(LINGER),
            CloseReason::Shutdown => Some(SHUTDOWN_DISCARD),
            _ => None,
        };
        match discard {
            // Another thread shut the receive side down to wake the read:
            // Linux resets a connection that gets data once both sides are
            // shut, so the write side waits for the client's end (or the
            // limit) here. The client has the notice already.
            Some(limit) if self.conn.stop_reason().is_some() => {
                linger(sock, limit);
                let _ = self.wire.shutdown_write();
            }
            Some(limit) => {
                let _ = self.wire.shutdown_write();
                linger(sock, limit);
            }
            None => {
                let _ = self.wire.shutdown_write();
            }
        }
        let _ = sock.shutdown(Shutdown::Both);
        self.out.join_writer();
    }
}

/// Reads and discards what the client still sends, for at most `limit`, so
/// closing does not reset the connection before it read our last lines.
///
/// A connection stopped by another thread had its receive side shut down (to
/// wake its read): `recv` then returns 0 when nothing is queued, whether the
/// client closed or not, and the TCP state tells which.
fn linger(sock: &Socket, limit: Duration) {
    let deadline = threading::deadline(limit);
    let mut buf = [0u8; 8192];
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        let left = deadline.map_or(limit, |d| d.saturating_duration_since(Instant::now()));
        if left.is_zero() || sock.settimeout(Some(left)).is_err() {
            return;
        }
        match sock.recv_into(&mut buf) {
            Ok(0) => {
                if sys::tcp_peer_closed(sock.as_fd()).unwrap_or(true) {
                    // What came before the client's end may have come after
                    // that `recv`: read it too, or the close resets.
                    let _ = sock.setblocking(false);
                    while let Ok(1..) = sock.recv_into(&mut buf) {}
                    return;
                }
                std::thread::sleep(left.min(LINGER_POLL));
            }
            Ok(n) => discarded += n,
            Err(_) => return,
        }
    }
}
