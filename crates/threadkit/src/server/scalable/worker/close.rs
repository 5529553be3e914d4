//! How a connection of a worker ends: writing its queue, `on_close` and the
//! notice, the flushing and lingering phases, and its removal.

use std::io::{self, Read};
use std::net::Shutdown;
use std::time::Duration;

use super::conn::{conn_at, Conn, Phase};
use super::Worker;
use crate::server::conn::{CloseReason, ConnId};
use crate::server::connection::{FLUSH_TIMEOUT, LINGER, LINGER_BYTES, SHUTDOWN_DISCARD};
use crate::server::events::ServerEvent;
use crate::server::lines;
use crate::threading::deadline_after;
use std::panic::{self, AssertUnwindSafe};

impl Worker<'_> {
    /// Writes queued output (once this turn, or the socket is writable again).
    pub(super) fn flush(&mut self, token: usize, id: ConnId) {
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
                    self.make_ready(token, id);
                }
                if progress {
                    let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
                    self.set_deadline(token, id, deadline);
                }
            }
            Phase::Flushing { .. } if !conn.has_output() => self.finish_flush(token, id),
            // The client still reads its last lines: it gets more time.
            Phase::Flushing { .. } if progress => {
                self.set_deadline(token, id, Some(self.now + FLUSH_TIMEOUT));
            }
            _ => {}
        }
    }

    /// Marks a connection to end for `reason` after the current callback.
    pub(super) fn stop(&mut self, token: usize, id: ConnId, reason: CloseReason) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            if conn.ending.is_none() && conn.phase == Phase::Serving {
                conn.ending = Some(reason);
                self.ending.push((token, id));
            }
        }
    }

    /// Ends the connections that callbacks stopped.
    pub(super) fn finish_ending(&mut self) {
        while let Some((token, id)) = self.ending.pop() {
            let reason = conn_at(&mut self.conns, token, id).and_then(|c| c.ending);
            if let Some(reason) = reason {
                self.end(token, id, reason);
            }
        }
    }

    /// Ends a serving connection: `on_close`, the notice, then flushing (or
    /// removal at once for `too slow`, `reset`, `error`).
    pub(super) fn end(&mut self, token: usize, id: ConnId, reason: CloseReason) {
        let hub = self.hub;
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        if conn.phase != Phase::Serving {
            return;
        }
        let reason = *conn.ending.get_or_insert(reason);
        conn.paused = false;
        conn.input = Vec::new();
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
        }
        // A client still in its TLS handshake cannot read a notice.
        let handshaking = conn_at(&mut self.conns, token, id).is_some_and(|c| c.handshaking());
        let notice = match reason {
            _ if handshaking => None,
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
                    linger: linger_for(reason),
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
        // Under TLS the close_notify goes first; when the socket takes it
        // later, the next write comes back here.
        if !conn.say_goodbye() {
            return;
        }
        let _ = conn.stream.shutdown(Shutdown::Write);
        match conn.phase {
            Phase::Flushing {
                linger: Some(linger),
            } => {
                conn.phase = Phase::Lingering { discarded: 0 };
                self.set_deadline(token, id, deadline_after(self.now, linger));
                self.linger(token, id);
            }
            _ => self.remove(token, id),
        }
    }

    /// Discards what a half-closed client still sends; removes it at its end.
    pub(super) fn linger(&mut self, token: usize, id: ConnId) {
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

    /// Takes a connection out: the socket closed, the slot given back, the
    /// disconnect reported.
    pub(super) fn remove(&mut self, token: usize, id: ConnId) {
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
    pub(super) fn end_all(&mut self, reason: CloseReason) {
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
    pub(super) fn abandon(&mut self) {
        self.now = std::time::Instant::now();
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

/// How long a connection ended for `reason` reads and discards what the
/// client still sends after the last line went out: a client whose input is
/// unread would otherwise get a reset, and lose the last lines.
fn linger_for(reason: CloseReason) -> Option<Duration> {
    match reason {
        CloseReason::TooLong | CloseReason::Closed => Some(LINGER),
        CloseReason::Shutdown => Some(SHUTDOWN_DISCARD),
        _ => None,
    }
}
