//! One connection of a scalable worker: its socket, framing, output queue,
//! phase and timer fields (see `worker.rs` for how the loop drives it).

use std::io;
use std::time::{Duration, Instant};

use super::READ_BUF;
use crate::server::conn::{CloseReason, ConnId};
use crate::server::lines::LineSplitter;
use crate::server::memory;
use crate::server::peer::Peer;
use crate::server::threaded::Slot;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Read, framed, served.
    Serving,
    /// Ended: writing what is queued, then shutting the write side down;
    /// `linger`: then reading and discarding input for at most that long.
    Flushing { linger: Option<Duration> },
    /// Written and half-closed: discarding input until the client closes.
    Lingering { discarded: usize },
}

/// One connection of the worker.
pub(super) struct Conn {
    /// The connection's socket (TCP or Unix), non-blocking, registered with
    /// the worker's poll by its descriptor.
    pub(super) stream: socket2::Socket,
    pub(super) id: ConnId,
    pub(super) peer: Peer,
    pub(super) splitter: LineSplitter,
    /// Input read but not served yet (a slice ended in the middle of a read,
    /// or the connection paused): `input[input_at..]`, at most one read.
    /// Served before the socket is read again; freed once served.
    pub(super) input: Vec<u8>,
    pub(super) input_at: usize,
    /// Output the kernel did not take yet: `out[sent..]`. Freed once written.
    pub(super) out: Vec<u8>,
    pub(super) sent: usize,
    pub(super) phase: Phase,
    /// The service knows it (between `on_connect` and `on_close`); changed
    /// under the service lock only.
    pub(super) open: bool,
    /// Why it ends (the first reason wins); set, it takes no more lines.
    pub(super) ending: Option<CloseReason>,
    /// Backpressure: not read until its own output queue shrinks.
    pub(super) paused: bool,
    /// On the worker's `dirty` list: output queued this turn, to write.
    pub(super) dirty: bool,
    /// On the worker's `ready` list: to serve without waiting for an event.
    pub(super) ready: bool,
    /// A line for it passed `max_queue` while the service lock was held (no
    /// write possible then): the verdict comes after the next write attempt.
    pub(super) over: bool,
    /// When its timer fires (meaning by phase; see the module docs).
    pub(super) deadline: Option<Instant>,
    /// The earliest entry it has in the timer heap.
    pub(super) armed: Option<Instant>,
    /// Its place among `max_clients`, given back when it is removed.
    pub(super) slot: Slot,
    /// Its TLS session when the server runs TLS (boxed: a plain connection
    /// stays small).
    #[cfg(feature = "tls")]
    pub(super) tls: Option<Box<super::wire::Tls>>,
}

impl Conn {
    pub(super) fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// Whether it is served: serving, not ending, not paused.
    pub(super) fn takes_input(&self) -> bool {
        self.phase == Phase::Serving && self.ending.is_none() && !self.paused
    }

    /// Queues `data` (no system call: the worker writes once per turn).
    /// False, and nothing queued, when with a `limit` bytes are already
    /// waiting and `data` would make them pass it (into an empty queue any
    /// line goes: it is written this turn).
    pub(super) fn append(&mut self, data: &[u8], limit: Option<usize>) -> bool {
        let pending = self.pending();
        if limit.is_some_and(|max| pending > 0 && pending + data.len() > max) {
            return false;
        }
        self.out.extend_from_slice(data);
        true
    }

    /// Writes what the socket takes of the queue (and, under TLS, of the
    /// session's ciphertext); true if any of the queue went.
    pub(super) fn write_queued(&mut self) -> io::Result<bool> {
        let (out, sent) = (std::mem::take(&mut self.out), self.sent);
        let written = self.send_plain(&out[sent..]);
        self.out = out;
        let n = written?;
        self.sent += n;
        if self.sent == self.out.len() {
            memory::freed(std::mem::take(&mut self.out).capacity());
            self.sent = 0;
        } else if self.sent >= READ_BUF && self.sent * 2 >= self.out.len() {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        Ok(n > 0)
    }
}

/// The connection at `token` if it is still `id`.
pub(super) fn conn_at(conns: &mut [Option<Conn>], token: usize, id: ConnId) -> Option<&mut Conn> {
    conns
        .get_mut(token)
        .and_then(Option::as_mut)
        .filter(|c| c.id == id)
}

/// `None`, or an instant after `at`.
pub(super) trait NoneOrLater {
    fn is_none_or_later(&self, at: Instant) -> bool;
}

impl NoneOrLater for Option<Instant> {
    fn is_none_or_later(&self, at: Instant) -> bool {
        self.is_none_or(|armed| at < armed)
    }
}
