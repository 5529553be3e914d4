//! One worker of the scalable model: a `mio` event loop serving its share of
//! the connections, driving the line service as [`server`](crate::server)
//! "How a server loop drives a line service" says.
//!
//! # A turn of the loop
//!
//! `poll`, then: each event (a writable socket is written, a readable one
//! served one slice), the mailbox (new clients, other workers' lines), the
//! `ready` list (one slice each), the timers, and last the `dirty` list: every
//! connection that got output during the turn is written with one call (a
//! served connection's own answers go right after its slice, so a request
//! does not wait for the turn). A broadcast line costs an append per
//! recipient, not a system call, and a room of 200 costs at most two writes
//! per connection per turn however many lines went round.
//!
//! # Slices
//!
//! A connection is served at most [`SLICE_LINES`] lines per turn (one read of
//! [`READ_BUF`] bytes at most): what a read brought beyond the slice stays in
//! the connection (`input`, freed once served) and the connection goes on the
//! `ready` list for the next turn, so a flood from one client (a 64 KiB read
//! of short lines, a `/who` flood) delays the others by one slice, not by the
//! whole read. The service lock is taken for each line, around the service
//! call and the queueing of its outbox, and never across a system call:
//! writes happen after, and other workers are woken after it is released.
//!
//! # Buffers
//!
//! A connection holds no buffer while idle. The worker reads into one scratch
//! buffer of its own; the line splitter keeps only the start of an unfinished
//! line; a connection's output queue (`out`) is freed as soon as it is
//! written. A recipient whose queue passes half of `max_queue` during a turn
//! is written at once (after the line, outside the lock), so a fast reader is
//! not taken for a slow one because the turn is long.
//!
//! # Readiness
//!
//! Sockets are registered once, readable and writable, edge-triggered. A read
//! shorter than the buffer means the socket is drained (a later arrival makes
//! a new edge), unless the peer already closed its side; a connection left
//! with input to serve is on the `ready` list, and so is one that read
//! [`READ_BUDGET`] full buffers in a row.
//!
//! # Limits
//!
//! - backpressure: once a connection's own output queue reaches `max_queue`
//!   it is *paused* between two lines: the rest of its input stays unparsed
//!   and its socket unread until the queue shrinks below (then it is put on
//!   the `ready` list). Paused with no byte written for the idle timeout:
//!   `too slow`;
//! - a line for another connection that would pass `max_queue` ends that
//!   connection (`too slow`) if writing what the kernel takes does not bring
//!   it back under the limit (lines are queued under the service lock, where
//!   no write is made: the verdict comes right after it); another connection's
//!   `close` or a
//!   failed write also end it. Such ends are recorded in the connection
//!   (`ending`, which refuses further lines) and carried out right after the
//!   callback that caused them;
//! - timers: each connection has one deadline (idle, paused, flushing or
//!   lingering, by its phase) and at most a few entries in the worker's heap,
//!   checked lazily (`timers.rs`).
//!
//! Closing (`close.rs`): `on_close` under the service lock (exactly once),
//! the server's notice, the *flushing* phase, a shutdown of the write side,
//! and a *lingering* phase that reads and discards what the client still
//! sends, so it reads the last lines and a clean end instead of a reset.
//!
//! # TLS
//!
//! Under [`ServerConfig::tls`](crate::server::ServerConfig::tls) each
//! connection holds a sans-IO session (boxed: a plain connection stays
//! small) and `wire.rs` moves its bytes: a read feeds the ciphertext to the
//! session and serves its plaintext exactly as plain bytes are served (the
//! same splitter, limits and slices; drained once the socket and the session
//! have nothing more); the handshake runs inside those reads, under the idle
//! deadline, and the service hears of the connection (`on_connect`) once it
//! is done; ciphertext the socket did not take waits in the session and is
//! written when the socket is writable again; queued output is counted in
//! plaintext bytes; the close sends close_notify before the write side is
//! shut. A TLS failure ends only its connection (`tls`).
//!
//! Beside this file: `open.rs` (a new client), `read.rs` (slices),
//! `close.rs`, `conn.rs` (one connection's state and output queue), `wire.rs`
//! (plain or TLS reads and writes), `delivery.rs` (the service lock,
//! outboxes, the mailbox), `timers.rs`, `spin.rs` (busy polling before a
//! sleep, when events come close together).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::mem;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::{Events, Poll};

mod close;
mod conn;
mod delivery;
mod open;
mod read;
mod spin;
mod timers;
mod wire;

use conn::{conn_at, Conn, Phase};
use open::cipher_buffer;
use spin::Spin;

use super::{Accepted, Hub, Item, Mailbox, WAKER};
use crate::server::conn::{CloseReason, ConnId};
use crate::server::events::ServerEvent;
use crate::server::outbox::Outbox;
use crate::server::shared::Shared;
use crate::threading::panic_message;

/// The worker's read buffer: the most one read (and so one slice) brings.
pub(super) const READ_BUF: usize = 16 * 1024;

/// Lines of one connection served per turn.
pub(super) const SLICE_LINES: usize = 256;

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
        dirty: Vec::new(),
        urgent: Vec::new(),
        to_wake: vec![false; hub.mailboxes.len()],
        scratch: vec![0; READ_BUF],
        cipher: cipher_buffer(shared),
        outbox: Outbox::new(),
        items: Vec::new(),
        accepted: Vec::new(),
        idle,
        max_queue: shared.config.max_queue,
        now: Instant::now(),
        shutting_down: false,
        spin: Spin::new(shared.config.busy_poll),
    };
    worker.serve();
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
    /// Connections to serve without waiting for an event.
    ready: VecDeque<(usize, ConnId)>,
    /// Connections whose `ending` was set during a callback, to end after it.
    ending: Vec<(usize, ConnId)>,
    /// Connections with output queued this turn, written at its end.
    dirty: Vec<(usize, ConnId)>,
    /// Connections whose queue passed half of `max_queue` this turn, written
    /// after the current line.
    urgent: Vec<(usize, ConnId)>,
    /// Workers whose mailbox got items under the lock, woken after it.
    to_wake: Vec<bool>,
    /// The read buffer.
    scratch: Vec<u8>,
    /// Under TLS, the buffer ciphertext is read into (empty otherwise).
    cipher: Vec<u8>,
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
    /// Busy polling before a sleep (`spin.rs`).
    spin: Spin,
}

impl<'a> Worker<'a> {
    fn serve(&mut self) {
        let mut events = Events::with_capacity(EVENTS);
        loop {
            if !self.shutting_down && self.hub.stopping(self.shared) {
                self.shutting_down = true;
                self.now = Instant::now();
                self.end_all(CloseReason::Shutdown);
                self.end_turn();
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
                self.end_turn();
                continue;
            }
            let timeout = if self.ready.is_empty() && self.dirty.is_empty() {
                self.timers
                    .peek()
                    .map(|Reverse((at, _, _))| at.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            let timeout = self.spin.timeout(timeout);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("threadkit: a server worker cannot poll: {e}");
                self.abandon();
                return;
            }
            self.now = Instant::now();
            self.spin.polled(!events.is_empty());
            for event in events.iter() {
                if event.token() != WAKER {
                    self.on_event(event);
                }
            }
            self.take_mailbox();
            self.run_ready();
            self.run_timers();
            self.end_turn();
        }
    }

    fn on_event(&mut self, event: &Event) {
        let token = event.token().0;
        let Some(conn) = self.conns.get(token).and_then(Option::as_ref) else {
            return;
        };
        let id = conn.id;
        if event.is_writable() && conn.has_output() {
            self.flush(token, id);
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            let to_end = event.is_read_closed() || event.is_error();
            self.read(token, id, to_end);
        }
        self.after_slice();
    }

    fn run_ready(&mut self) {
        for _ in 0..self.ready.len() {
            let Some((token, id)) = self.ready.pop_front() else {
                break;
            };
            if let Some(conn) = conn_at(&mut self.conns, token, id) {
                conn.ready = false;
                self.read(token, id, true);
            }
            self.after_slice();
        }
    }

    /// Puts a connection on the `ready` list (once).
    fn make_ready(&mut self, token: usize, id: ConnId) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            if !conn.ready {
                conn.ready = true;
                self.ready.push_back((token, id));
            }
        }
    }

    fn read(&mut self, token: usize, id: ConnId, to_end: bool) {
        match conn_at(&mut self.conns, token, id).map(|c| c.phase) {
            Some(Phase::Serving) => {
                self.serve_slice(token, id, to_end);
                // Its own answers go out now (one write): a request does not
                // wait for the rest of the turn. Lines others send it later
                // in the turn go with the turn's writes.
                if conn_at(&mut self.conns, token, id).is_some_and(|c| c.has_output()) {
                    self.flush(token, id);
                }
            }
            Some(Phase::Lingering { .. }) => self.linger(token, id),
            Some(Phase::Flushing { .. }) | None => {}
        }
    }

    /// After one connection's slice, outside the service lock: the ends it
    /// caused, the recipients near their limit, the other workers to wake.
    fn after_slice(&mut self) {
        self.finish_ending();
        self.take_items();
        self.flush_urgent();
        self.finish_ending();
        self.wake_others();
    }

    /// Writes the recipients whose queue passed half of `max_queue` (called
    /// between lines, with the service lock released).
    /// A connection whose queue passed `max_queue` still has more than that
    /// once written as far as the kernel takes: `too slow`.
    pub(super) fn flush_urgent(&mut self) {
        let max = self.max_queue;
        while let Some((token, id)) = self.urgent.pop() {
            if conn_at(&mut self.conns, token, id).is_some_and(|c| c.has_output()) {
                self.flush(token, id);
            }
            let Some(conn) = conn_at(&mut self.conns, token, id) else {
                continue;
            };
            if std::mem::take(&mut conn.over) && conn.pending() > max {
                self.stop(token, id, CloseReason::TooSlow);
            }
        }
    }

    /// The end of a turn: every connection that got output is written once.
    fn end_turn(&mut self) {
        self.after_slice();
        // Closing a connection may queue lines for others (`* NAME left`):
        // a few rounds, the rest next turn (`poll` does not wait then).
        for _ in 0..4 {
            if self.dirty.is_empty() {
                break;
            }
            let mut dirty = mem::take(&mut self.dirty);
            for (token, id) in dirty.drain(..) {
                let Some(conn) = conn_at(&mut self.conns, token, id) else {
                    continue;
                };
                conn.dirty = false;
                if conn.has_output() {
                    self.flush(token, id);
                }
            }
            if self.dirty.is_empty() {
                self.dirty = dirty;
            } else {
                self.dirty.append(&mut dirty);
            }
            self.after_slice();
        }
    }

    /// Wakes the workers whose mailbox got items (called with the service
    /// lock released).
    pub(super) fn wake_others(&mut self) {
        for (worker, wake) in self.to_wake.iter_mut().enumerate() {
            if mem::take(wake) {
                if let Err(e) = self.hub.mailboxes[worker].waker.wake() {
                    log::error!("threadkit: cannot wake a server worker: {e}");
                }
            }
        }
    }

    fn service_panicked(
        &mut self,
        id: ConnId,
        payload: &(dyn std::any::Any + Send),
    ) -> CloseReason {
        if let Some(peer) = self
            .conns
            .iter()
            .flatten()
            .find(|c| c.id == id)
            .map(|c| c.peer.clone())
        {
            self.shared.events.emit(ServerEvent::HandlerError {
                conn: id,
                peer,
                error: format!("panicked: {}", panic_message(payload)),
            });
        }
        self.outbox.drain().for_each(drop);
        CloseReason::Error
    }
}
