//! One worker of the scalable model: a `mio` event loop serving its share of
//! the connections, driving the line service as [`server`](crate::server)
//! "How a server loop drives a line service" says.
//!
//! # Buffers
//!
//! A connection holds no buffer while idle. The worker reads into one scratch
//! buffer of its own ([`READ_BUF`]); the line splitter keeps only the start of
//! an unfinished line. Output is written at once when nothing is queued before
//! it; only what the kernel did not take is kept, in the connection's queue,
//! freed as soon as it is written. A connection's own answers from one read
//! are gathered in the worker's `staged` buffer and written with one call.
//!
//! # Readiness
//!
//! Sockets are registered once, readable and writable, edge-triggered. A read
//! shorter than the buffer means the socket is drained (a later arrival makes
//! a new edge), unless the peer already closed its side; a connection that
//! reads [`READ_BUDGET`] full buffers in a row goes to the `ready` list and
//! waits its turn, so one flood does not starve the others.
//!
//! # Limits
//!
//! - backpressure: when a connection's own output queue reaches `max_queue`
//!   it is *paused*: its readable events are ignored until the queue shrinks
//!   below, then it is put on the `ready` list (the edge may have passed).
//!   Paused with no byte written for the idle timeout: `too slow`;
//! - a line for another connection that would pass `max_queue` is not queued
//!   and that connection ends (`too slow`); another connection's `close` or a
//!   failed write also end it. Such ends are recorded in the connection
//!   (`ending`, which refuses further lines) and carried out right after the
//!   callback that caused them;
//! - timers: each connection has one deadline (idle, paused, flushing or
//!   lingering, by its phase) and at most a few entries in the worker's heap,
//!   checked lazily: activity only moves the deadline; an entry that comes due
//!   early is pushed again for the real deadline. `poll` sleeps until the
//!   first entry.
//!
//! # Closing
//!
//! `on_close` under the service lock (exactly once), the server's notice,
//! then the *flushing* phase (bounded by [`FLUSH_TIMEOUT`]), a shutdown of the
//! write side, and for `closed` and `too long` a short *lingering* phase that
//! reads and discards what the client still sends, so it gets the last lines
//! instead of a reset. `too slow`, `reset` and `error` drop the output at
//! once. Then the client slot is given back and the disconnect reported.
//!
//! On shutdown every serving connection ends with `* server shutting down`;
//! the worker leaves when its last connection is gone, and closes its
//! mailbox so the acceptor can no longer hand it clients.
//!
//! Beside this file: `conn.rs` (one connection's state and output queue),
//! `delivery.rs` (the service lock, outboxes, the mailbox), `timers.rs`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Read};
use std::mem;
use std::net::Shutdown;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

mod conn;
mod delivery;
mod timers;

use conn::{conn_at, Conn, Phase};

use super::{Accepted, Hub, Item, Mailbox, Place, WAKER};
use crate::server::conn::{CloseReason, ConnId};
use crate::server::connection::{reason_of, FLUSH_TIMEOUT, LINGER, LINGER_BYTES};
use crate::server::events::ServerEvent;
use crate::server::lines::{self, LineEvent, LineSplitter};
use crate::server::outbox::Outbox;
use crate::server::shared::Shared;
use crate::threading::{deadline_after, panic_message};

/// The worker's read buffer.
pub(super) const READ_BUF: usize = 64 * 1024;

/// Full reads of one connection in a row before the others get a turn.
const READ_BUDGET: usize = 8;

/// Readiness events taken per `poll`.
const EVENTS: usize = 1024;

/// Runs worker `index` of `hub` on the calling thread until the server shut
/// down and its connections are closed.
pub(super) fn run(shared: &Shared, hub: &Hub, index: usize, poll: Poll) {
    let idle = shared.config.idle();
    let mut worker = Worker {
        shared,
        hub,
        mailbox: &hub.mailboxes[index],
        index,
        poll,
        conns: Vec::new(),
        free: Vec::new(),
        live: 0,
        timers: BinaryHeap::new(),
        ready: VecDeque::new(),
        ending: Vec::new(),
        scratch: vec![0; READ_BUF],
        staged: Vec::new(),
        outbox: Outbox::new(),
        items: Vec::new(),
        accepted: Vec::new(),
        idle,
        max_queue: shared.config.max_queue,
        now: Instant::now(),
        shutting_down: false,
    };
    worker.serve();
}

pub(super) fn stage(staged: &mut Vec<u8>, text: &str) {
    staged.extend_from_slice(text.as_bytes());
    staged.push(b'\n');
}

struct Worker<'a> {
    shared: &'a Shared,
    hub: &'a Hub,
    mailbox: &'a Mailbox,
    index: usize,
    poll: Poll,
    /// The connections, by token (a slab: `free` lists the empty places).
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    live: usize,
    /// (deadline, token, id), earliest first; stale entries are skipped.
    timers: BinaryHeap<Reverse<(Instant, usize, ConnId)>>,
    /// Connections to read without waiting for an event.
    ready: VecDeque<(usize, ConnId)>,
    /// Connections whose `ending` was set during a callback, to end after it.
    ending: Vec<(usize, ConnId)>,
    /// The read buffer.
    scratch: Vec<u8>,
    /// The current connection's own lines from one read, written in one go.
    staged: Vec<u8>,
    /// Reused for every callback.
    outbox: Outbox,
    /// Spare vectors swapped with the mailbox's.
    items: Vec<Item>,
    accepted: Vec<Accepted>,
    idle: Option<Duration>,
    max_queue: usize,
    /// The time after the last `poll`.
    now: Instant,
    shutting_down: bool,
}

impl<'a> Worker<'a> {
    fn serve(&mut self) {
        let mut events = Events::with_capacity(EVENTS);
        loop {
            if !self.shutting_down && self.hub.stopping(self.shared) {
                self.shutting_down = true;
                self.now = Instant::now();
                self.end_all(CloseReason::Shutdown);
            }
            if self.shutting_down && self.live == 0 {
                let mut inbox = self.mailbox.lock();
                if inbox.accepted.is_empty() {
                    inbox.closed = true;
                    inbox.items = Vec::new();
                    return;
                }
                drop(inbox);
                self.take_mailbox();
                continue;
            }
            let timeout = if self.ready.is_empty() {
                self.timers
                    .peek()
                    .map(|Reverse((at, _, _))| at.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("threadkit: a server worker cannot poll: {e}");
                self.abandon();
                return;
            }
            self.now = Instant::now();
            for event in events.iter() {
                if event.token() != WAKER {
                    self.on_event(event);
                }
            }
            self.take_mailbox();
            self.run_ready();
            self.run_timers();
        }
    }

    fn on_event(&mut self, event: &Event) {
        let token = event.token().0;
        let Some(conn) = self.conns.get(token).and_then(Option::as_ref) else {
            return;
        };
        let id = conn.id;
        if event.is_writable() && conn.pending() > 0 {
            self.flush(token, id);
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            let to_end = event.is_read_closed() || event.is_error();
            self.read(token, id, to_end);
        }
        self.finish_ending();
    }

    fn run_ready(&mut self) {
        for _ in 0..self.ready.len() {
            let Some((token, id)) = self.ready.pop_front() else {
                break;
            };
            self.read(token, id, true);
            self.finish_ending();
        }
    }

    fn read(&mut self, token: usize, id: ConnId, to_end: bool) {
        match conn_at(&mut self.conns, token, id).map(|c| c.phase) {
            Some(Phase::Serving) => self.read_lines(token, id, to_end),
            Some(Phase::Lingering { .. }) => self.linger(token, id),
            Some(Phase::Flushing { .. }) | None => {}
        }
    }

    /// Reads and serves lines until the socket is drained, the connection
    /// ends or pauses, or its budget is spent (then it goes on the `ready`
    /// list). `to_end`: read until `WouldBlock` even after a short read.
    fn read_lines(&mut self, token: usize, id: ConnId, to_end: bool) {
        let mut scratch = mem::take(&mut self.scratch);
        let mut again = true;
        for _ in 0..READ_BUDGET {
            let Some(conn) = conn_at(&mut self.conns, token, id) else {
                again = false;
                break;
            };
            if conn.ending.is_some() || conn.paused || conn.phase != Phase::Serving {
                again = false;
                break;
            }
            match (&conn.stream).read(&mut scratch) {
                Ok(0) => {
                    // The unterminated last line is still a line.
                    if conn.splitter.has_partial() {
                        if let Some(reason) = self.handle_chunk(token, id, lines::END_OF_INPUT) {
                            self.stop(token, id, reason);
                            again = false;
                            break;
                        }
                    }
                    self.end(token, id, CloseReason::Closed);
                    again = false;
                    break;
                }
                Ok(n) => {
                    // Idle means no complete line: trickling one never moves
                    // the deadline (slowloris is cut).
                    if scratch[..n].contains(&b'\n') {
                        let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
                        self.set_deadline(token, id, deadline);
                    }
                    if let Some(reason) = self.handle_chunk(token, id, &scratch[..n]) {
                        self.stop(token, id, reason);
                        again = false;
                        break;
                    }
                    if n < scratch.len() && !to_end {
                        again = false;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    again = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.end(token, id, reason_of(&e));
                    again = false;
                    break;
                }
            }
        }
        self.scratch = scratch;
        if again {
            self.ready.push_back((token, id));
        }
    }

    /// Feeds one chunk through the splitter and the service, under the
    /// service lock, then writes the connection's own answers. `Some`: the
    /// connection must end.
    fn handle_chunk(&mut self, token: usize, id: ConnId, chunk: &[u8]) -> Option<CloseReason> {
        let hub = self.hub;
        let conn = conn_at(&mut self.conns, token, id)?;
        let mut splitter = mem::replace(&mut conn.splitter, LineSplitter::new(0));
        // A service that only answers its caller (echo) needs no server-wide
        // order: its lines are handled without the service lock.
        let ordered = hub.service.needs_global_order();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut open = ordered.then(|| self.lock());
            let mut rest = chunk;
            while let Some(event) = splitter.next(&mut rest) {
                match event {
                    LineEvent::Line(line) => {
                        hub.service.on_line(id, line, &mut self.outbox);
                        self.shared.events.stats.line(self.outbox.actions());
                        let closed = match open.as_mut() {
                            Some(open) => self.carry_out(open, token, id),
                            None => match self.carry_out_own(token, id) {
                                Some(closed) => closed,
                                // It wrote to others after all: route under the lock.
                                None => {
                                    let mut open = self.lock();
                                    self.carry_out(&mut open, token, id)
                                }
                            },
                        };
                        if closed {
                            return Some(CloseReason::Closed);
                        }
                    }
                    LineEvent::InvalidUtf8 => stage(&mut self.staged, lines::INVALID_UTF8),
                    LineEvent::TooLong => return Some(CloseReason::TooLong),
                }
            }
            None
        }));
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            conn.splitter = splitter;
        }
        let ended = match outcome {
            Ok(ended) => ended,
            Err(payload) => Some(self.service_panicked(id, payload.as_ref())),
        };
        self.write_staged(token, id);
        ended
    }

    fn service_panicked(
        &mut self,
        id: ConnId,
        payload: &(dyn std::any::Any + Send),
    ) -> CloseReason {
        let peer = self
            .conns
            .iter()
            .flatten()
            .find(|c| c.id == id)
            .map(|c| c.peer.to_string())
            .unwrap_or_default();
        log::error!(
            "threadkit: the line service panicked on {peer}: {}",
            panic_message(payload)
        );
        self.outbox.drain().for_each(drop);
        self.staged.clear();
        CloseReason::Error
    }

    /// Writes the staged answers of the current connection; pauses it when its
    /// queue reached `max_queue`.
    fn write_staged(&mut self, token: usize, id: ConnId) {
        if self.staged.is_empty() {
            return;
        }
        let max_own = self.max_queue.max(1);
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            self.staged.clear();
            return;
        };
        let result = conn.queue(&self.staged, None);
        self.staged.clear();
        if self.staged.capacity() > 4 * READ_BUF {
            self.staged = Vec::new();
        }
        match result {
            Err(_) => self.stop(token, id, CloseReason::Reset),
            Ok(_) => {
                if conn.phase == Phase::Serving && !conn.paused && conn.pending() >= max_own {
                    conn.paused = true;
                    let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
                    self.set_deadline(token, id, deadline);
                }
            }
        }
    }

    /// Writes queued output (the socket is writable again).
    fn flush(&mut self, token: usize, id: ConnId) {
        let max_own = self.max_queue.max(1);
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        let progress = match conn.write_queued() {
            Ok(progress) => progress,
            Err(_) => {
                conn.out = Vec::new();
                conn.sent = 0;
                match conn.phase {
                    Phase::Serving => self.stop(token, id, CloseReason::Reset),
                    _ => self.remove(token, id),
                }
                return;
            }
        };
        match conn.phase {
            Phase::Serving if conn.paused => {
                if conn.pending() < max_own {
                    conn.paused = false;
                    self.ready.push_back((token, id));
                }
                if progress {
                    let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
                    self.set_deadline(token, id, deadline);
                }
            }
            Phase::Flushing { .. } if conn.pending() == 0 => self.finish_flush(token, id),
            _ => {}
        }
    }

    /// Marks a connection to end for `reason` after the current callback.
    fn stop(&mut self, token: usize, id: ConnId, reason: CloseReason) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            if conn.ending.is_none() && conn.phase == Phase::Serving {
                conn.ending = Some(reason);
                self.ending.push((token, id));
            }
        }
    }

    /// Ends the connections that callbacks stopped.
    fn finish_ending(&mut self) {
        while let Some((token, id)) = self.ending.pop() {
            let reason = conn_at(&mut self.conns, token, id).and_then(|c| c.ending);
            if let Some(reason) = reason {
                self.end(token, id, reason);
            }
        }
    }

    /// Ends a serving connection: `on_close`, the notice, then flushing (or
    /// removal at once for `too slow`, `reset`, `error`).
    fn end(&mut self, token: usize, id: ConnId, reason: CloseReason) {
        let hub = self.hub;
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        if conn.phase != Phase::Serving {
            return;
        }
        let reason = *conn.ending.get_or_insert(reason);
        conn.paused = false;
        if conn.open {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut open = self.lock();
                if let Some(conn) = conn_at(&mut self.conns, token, id) {
                    conn.open = false;
                }
                open.conns.remove(&id);
                open.per_worker[self.index] -= 1;
                hub.service.on_close(id, reason, &mut self.outbox);
                self.carry_out(&mut open, token, id);
            }));
            if let Err(payload) = outcome {
                self.service_panicked(id, payload.as_ref());
            }
            self.staged.clear();
        }
        let notice = match reason {
            CloseReason::Idle => Some(lines::IDLE_TIMEOUT.to_string()),
            CloseReason::TooLong => Some(lines::line_too_long(self.shared.config.max_line)),
            CloseReason::Shutdown => Some(lines::SHUTTING_DOWN.to_string()),
            _ => None,
        };
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        match reason {
            CloseReason::TooSlow | CloseReason::Reset | CloseReason::Error => {
                conn.out = Vec::new();
                conn.sent = 0;
                self.remove(token, id);
            }
            _ => {
                if let Some(notice) = notice {
                    conn.out.extend_from_slice(notice.as_bytes());
                    conn.out.push(b'\n');
                }
                conn.phase = Phase::Flushing {
                    linger: matches!(reason, CloseReason::TooLong | CloseReason::Closed),
                };
                let deadline = self.now + FLUSH_TIMEOUT;
                self.set_deadline(token, id, Some(deadline));
                self.flush(token, id);
            }
        }
    }

    /// Everything is written: half-close, then linger or remove.
    fn finish_flush(&mut self, token: usize, id: ConnId) {
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        let _ = conn.stream.shutdown(Shutdown::Write);
        if conn.phase == (Phase::Flushing { linger: true }) {
            conn.phase = Phase::Lingering { discarded: 0 };
            let deadline = self.now + LINGER;
            self.set_deadline(token, id, Some(deadline));
            self.linger(token, id);
        } else {
            self.remove(token, id);
        }
    }

    /// Discards what a half-closed client still sends; removes it at its end.
    fn linger(&mut self, token: usize, id: ConnId) {
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        let Phase::Lingering { mut discarded } = conn.phase else {
            return;
        };
        let mut buf = [0u8; 8192];
        let done = loop {
            if discarded >= LINGER_BYTES {
                break true;
            }
            match (&conn.stream).read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => discarded += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(_) => break true,
            }
        };
        conn.phase = Phase::Lingering { discarded };
        if done {
            self.remove(token, id);
        }
    }

    /// Registers a new client and opens it to the service.
    fn open_conn(&mut self, accepted: Accepted) {
        let Accepted {
            stream,
            peer,
            id,
            slot,
        } = accepted;
        let token = self.free.pop().unwrap_or(self.conns.len());
        let setup = (|| {
            stream.set_nonblocking(true)?;
            let _ = stream.set_nodelay(true);
            let mut stream = TcpStream::from_std(stream);
            self.poll.registry().register(
                &mut stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            io::Result::Ok(stream)
        })();
        let stream = match setup {
            Ok(stream) => stream,
            Err(e) => {
                if token < self.conns.len() {
                    self.free.push(token);
                }
                log::warn!("threadkit: cannot set up {peer}: {e}");
                drop(slot);
                self.shared.events.emit(ServerEvent::Disconnect {
                    conn: id,
                    peer,
                    reason: CloseReason::Error,
                });
                return;
            }
        };
        let conn = Conn {
            stream,
            id,
            peer,
            splitter: LineSplitter::new(self.shared.config.max_line),
            out: Vec::new(),
            sent: 0,
            phase: Phase::Serving,
            open: false,
            ending: None,
            paused: false,
            deadline: None,
            armed: None,
            slot,
        };
        if token == self.conns.len() {
            self.conns.push(Some(conn));
        } else {
            self.conns[token] = Some(conn);
        }
        self.live += 1;
        let hub = self.hub;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut open = self.lock();
            if let Some(conn) = conn_at(&mut self.conns, token, id) {
                conn.open = true;
            }
            open.conns.insert(
                id,
                Place {
                    worker: self.index,
                    token,
                },
            );
            open.per_worker[self.index] += 1;
            hub.service.on_connect(id, peer, &mut self.outbox);
            self.carry_out(&mut open, token, id)
        }));
        let closed = match outcome {
            Ok(closed) => closed,
            Err(payload) => {
                let reason = self.service_panicked(id, payload.as_ref());
                self.stop(token, id, reason);
                false
            }
        };
        self.write_staged(token, id);
        if closed {
            self.stop(token, id, CloseReason::Closed);
        } else if self.shutting_down {
            self.stop(token, id, CloseReason::Shutdown);
        } else {
            let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
            self.set_deadline(token, id, deadline);
        }
        self.finish_ending();
    }

    /// Takes a connection out: the socket closed, the slot given back, the
    /// disconnect reported.
    fn remove(&mut self, token: usize, id: ConnId) {
        if conn_at(&mut self.conns, token, id).is_none() {
            return;
        }
        let Some(conn) = self.conns[token].take() else {
            return;
        };
        self.free.push(token);
        self.live -= 1;
        let reason = conn.ending.unwrap_or(CloseReason::Error);
        let Conn {
            stream, slot, peer, ..
        } = conn;
        let _ = stream.shutdown(Shutdown::Both);
        drop(stream);
        // The slot first: a client that sees the disconnect may connect again.
        drop(slot);
        self.shared.events.emit(ServerEvent::Disconnect {
            conn: id,
            peer,
            reason,
        });
    }

    /// Ends every serving connection for `reason`.
    fn end_all(&mut self, reason: CloseReason) {
        for token in 0..self.conns.len() {
            if let Some(c) = &self.conns[token] {
                if c.phase == Phase::Serving {
                    let id = c.id;
                    self.end(token, id, reason);
                }
            }
            self.finish_ending();
        }
    }

    /// The loop cannot go on: every connection ends now.
    fn abandon(&mut self) {
        self.now = Instant::now();
        self.end_all(CloseReason::Error);
        for token in 0..self.conns.len() {
            if let Some(id) = self.conns[token].as_ref().map(|c| c.id) {
                self.remove(token, id);
            }
        }
        let mut inbox = self.mailbox.lock();
        inbox.closed = true;
        inbox.items = Vec::new();
        // Clients handed over meanwhile are dropped with their slots.
        inbox.accepted = Vec::new();
    }
}
