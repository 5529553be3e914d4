//! Serving one connection's slice: its unserved input first, then reads of
//! the socket, line by line through the splitter and the service, until the
//! slice's [`SLICE_LINES`] are spent, the socket is drained, or the
//! connection pauses or ends.

use std::mem;
use std::panic::{self, AssertUnwindSafe};

use super::conn::conn_at;
use super::wire::Input;
use super::{Worker, READ_BUDGET, SLICE_LINES};
use crate::server::conn::{CloseReason, ConnId};
use crate::server::connection::reason_of;
use crate::server::lines::{self, LineEvent, LineSplitter};
use crate::threading::deadline_after;

/// How a chunk of input was served.
enum Served {
    /// All of it: the connection may read more.
    All,
    /// Not all (the slice is spent, or it paused), or it ends: stop here.
    Stop,
}

impl Worker<'_> {
    /// Serves one slice of a serving connection. `to_end`: read until
    /// `WouldBlock` even after a short read (the peer closed its side).
    pub(super) fn serve_slice(&mut self, token: usize, id: ConnId, to_end: bool) {
        let mut budget = SLICE_LINES;
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        if !conn.takes_input() {
            return;
        }
        if conn.input_at < conn.input.len() {
            let input = mem::take(&mut conn.input);
            let at = conn.input_at;
            if let Served::Stop = self.serve_chunk(token, id, &input[at..], &mut budget, Some(at)) {
                // `serve_chunk` kept the rest in place (the same vector).
                if let Some(conn) = conn_at(&mut self.conns, token, id) {
                    if conn.input_at > 0 {
                        conn.input = input;
                    }
                }
                return;
            }
        }
        let mut scratch = mem::take(&mut self.scratch);
        let mut cipher = mem::take(&mut self.cipher);
        let mut again = false;
        for _ in 0..READ_BUDGET {
            let Some(conn) = conn_at(&mut self.conns, token, id) else {
                break;
            };
            if !conn.takes_input() {
                break;
            }
            if budget == 0 {
                again = true;
                break;
            }
            match conn.read_input(&mut scratch, &mut cipher) {
                Ok(Input::End) => {
                    // The unterminated last line is still a line.
                    if conn.splitter.has_partial() {
                        let (end, mut unbounded) = (lines::END_OF_INPUT, usize::MAX);
                        if let Served::Stop = self.serve_chunk(token, id, end, &mut unbounded, None)
                        {
                            break;
                        }
                    }
                    self.end(token, id, CloseReason::Closed);
                    break;
                }
                Ok(Input::Bytes { n, drained }) => {
                    // Idle means no complete line: trickling one never moves
                    // the deadline (slowloris is cut).
                    if scratch[..n].contains(&b'\n') {
                        let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
                        self.set_deadline(token, id, deadline);
                    }
                    if let Served::Stop =
                        self.serve_chunk(token, id, &scratch[..n], &mut budget, None)
                    {
                        break;
                    }
                    if drained && !to_end {
                        break;
                    }
                    again = true;
                }
                // The service hears of it before its first line.
                #[cfg(feature = "tls")]
                Ok(Input::Handshaken) => self.connect(token, id),
                Ok(Input::Nothing) => {
                    again = false;
                    break;
                }
                Err(e) => {
                    self.end(token, id, reason_of(&e));
                    again = false;
                    break;
                }
            }
        }
        self.cipher = cipher;
        self.scratch = scratch;
        if again {
            self.make_ready(token, id);
        }
    }

    /// Serves `chunk`'s lines within `budget`. What is left of it is kept in
    /// the connection, and it goes on the `ready` list unless it paused;
    /// `kept_at`: `chunk` is the connection's own `input` from this offset on
    /// (the caller puts the vector back), else the rest is copied.
    fn serve_chunk(
        &mut self,
        token: usize,
        id: ConnId,
        chunk: &[u8],
        budget: &mut usize,
        kept_at: Option<usize>,
    ) -> Served {
        let (used, ended) = self.handle_lines(token, id, chunk, budget);
        if let Some(reason) = ended {
            self.stop(token, id, reason);
            return Served::Stop;
        }
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return Served::Stop;
        };
        if used < chunk.len() {
            match kept_at {
                Some(at) => conn.input_at = at + used,
                None => {
                    conn.input = chunk[used..].to_vec();
                    conn.input_at = 0;
                }
            }
            if !conn.paused {
                self.make_ready(token, id);
            }
            return Served::Stop;
        }
        conn.input_at = 0;
        if conn.paused || *budget == 0 {
            if !conn.paused {
                self.make_ready(token, id);
            }
            return Served::Stop;
        }
        Served::All
    }

    /// Feeds `chunk` through the splitter and the service, a line at a time,
    /// each under the service lock (for a service that needs one order), until
    /// `budget` lines were served or the connection's own output reached
    /// `max_queue` (it pauses). Returns the bytes used, and `Some` when the
    /// connection must end.
    fn handle_lines(
        &mut self,
        token: usize,
        id: ConnId,
        chunk: &[u8],
        budget: &mut usize,
    ) -> (usize, Option<CloseReason>) {
        let hub = self.hub;
        let max_own = self.max_queue.max(1);
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return (chunk.len(), None);
        };
        let mut splitter = mem::replace(&mut conn.splitter, LineSplitter::new(0));
        // A service that only answers its caller (echo) needs no server-wide
        // order: its lines are handled without the service lock.
        let ordered = hub.service.needs_global_order();
        let mut rest = chunk;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            while *budget > 0 {
                let Some(event) = splitter.next(&mut rest) else {
                    break;
                };
                match event {
                    LineEvent::Line(line) => {
                        *budget -= 1;
                        let mut open = ordered.then(|| self.lock());
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
                        drop(open);
                        self.take_items();
                        self.flush_urgent();
                        self.wake_others();
                        if closed {
                            return Some(CloseReason::Closed);
                        }
                    }
                    LineEvent::InvalidUtf8 => self.queue_own(token, id, lines::INVALID_UTF8),
                    LineEvent::TooLong => return Some(CloseReason::TooLong),
                }
                if self.pause_if_full(token, id, max_own) {
                    break;
                }
            }
            None
        }));
        let used = chunk.len() - rest.len();
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            conn.splitter = splitter;
        }
        match outcome {
            Ok(ended) => (used, ended),
            Err(payload) => (used, Some(self.service_panicked(id, payload.as_ref()))),
        }
    }

    /// Pauses a connection whose own output queue reached `max_own`: true.
    fn pause_if_full(&mut self, token: usize, id: ConnId, max_own: usize) -> bool {
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return true;
        };
        if conn.pending() < max_own {
            return false;
        }
        conn.paused = true;
        let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
        self.set_deadline(token, id, deadline);
        true
    }
}
