//! How a worker takes in a new client: registered with the poll, its TLS
//! session made (under TLS), and opened to the service (`on_connect`) at
//! once, or once its handshake is done.

use std::io;
use std::os::fd::AsRawFd;
use std::panic::{self, AssertUnwindSafe};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::conn::{conn_at, Conn, Phase};
#[cfg(feature = "tls")]
use super::wire;
use super::Worker;
use crate::server::conn::{CloseReason, ConnId};
use crate::server::events::ServerEvent;
use crate::server::lines::LineSplitter;
use crate::server::peer::Client;
use crate::server::scalable::{Accepted, Place};
use crate::server::shared::Shared;
use crate::threading::deadline_after;

impl Worker<'_> {
    /// Registers a new client and opens it to the service.
    pub(super) fn open_conn(&mut self, accepted: Accepted) {
        let Accepted {
            stream,
            peer,
            id,
            slot,
        } = accepted;
        let token = self.free.pop().unwrap_or(self.conns.len());
        let setup = (|| {
            stream.set_nonblocking(true)?;
            let _ = stream.set_nodelay(true); // TCP only
            self.poll.registry().register(
                &mut SourceFd(&stream.as_raw_fd()),
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            io::Result::Ok(stream)
        })()
        .map_err(|e| (e, CloseReason::Error));
        #[cfg(feature = "tls")]
        let setup = setup.and_then(|stream| {
            let tls = match &self.shared.config.tls {
                Some(config) => Some(wire::Tls::new(
                    crate::tls::session::Session::server(config)
                        .map_err(|e| (e, CloseReason::Tls))?,
                )),
                None => None,
            };
            Ok((stream, tls))
        });
        let stream = match setup {
            Ok(stream) => stream,
            Err((e, reason)) => {
                if token < self.conns.len() {
                    self.free.push(token);
                }
                log::warn!("threadkit: cannot set up {}: {e}", Client(&peer, id));
                drop(slot);
                self.shared.events.emit(ServerEvent::Disconnect {
                    conn: id,
                    peer,
                    reason,
                });
                return;
            }
        };
        #[cfg(feature = "tls")]
        let (stream, tls) = stream;
        let conn = Conn {
            stream,
            id,
            peer,
            splitter: LineSplitter::new(self.shared.config.max_line),
            input: Vec::new(),
            input_at: 0,
            out: Vec::new(),
            sent: 0,
            phase: Phase::Serving,
            open: false,
            ending: None,
            paused: false,
            dirty: false,
            ready: false,
            over: false,
            deadline: None,
            armed: None,
            slot,
            #[cfg(feature = "tls")]
            tls,
        };
        if token == self.conns.len() {
            self.conns.push(Some(conn));
        } else {
            self.conns[token] = Some(conn);
        }
        self.live += 1;
        if conn_at(&mut self.conns, token, id).is_some_and(|c| c.handshaking()) {
            // The service hears of it once the handshake is done, which
            // must come within the idle timeout.
            let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
            self.set_deadline(token, id, deadline);
        } else {
            self.connect(token, id);
        }
        self.after_slice();
    }

    /// Opens a registered connection to the service (`on_connect`).
    pub(super) fn connect(&mut self, token: usize, id: ConnId) {
        let hub = self.hub;
        let Some(addr) = conn_at(&mut self.conns, token, id).map(|c| c.peer.socket_addr()) else {
            return;
        };
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
            hub.service.on_connect(id, addr, &mut self.outbox);
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
        if closed {
            self.stop(token, id, CloseReason::Closed);
        } else if self.shutting_down {
            self.stop(token, id, CloseReason::Shutdown);
        } else {
            let deadline = self.idle.and_then(|d| deadline_after(self.now, d));
            self.set_deadline(token, id, deadline);
        }
    }
}

/// The worker's ciphertext buffer: one of [`READ_BUF`](super::READ_BUF) under TLS.
pub(super) fn cipher_buffer(shared: &Shared) -> Vec<u8> {
    #[cfg(feature = "tls")]
    if shared.config.tls.is_some() {
        return vec![0; super::READ_BUF];
    }
    let _ = shared;
    Vec::new()
}
