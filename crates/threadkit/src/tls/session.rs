//! [`Session`]: one TLS connection without I/O of its own, for any loop.
//!
//! The caller moves the bytes: ciphertext read from the socket goes in with
//! [`receive`](Session::receive) (or [`receive_eof`](Session::receive_eof)),
//! plaintext comes out of [`read_plain`](Session::read_plain) until it says
//! `WouldBlock`; plaintext goes out through [`send`](Session::send), which
//! writes the ciphertext to a writer that may say `WouldBlock` (a
//! non-blocking socket, or `MSG_DONTWAIT`), and [`flush`](Session::flush)
//! writes what is left. A blocking loop waits for the socket between calls;
//! an event loop waits for readiness. Nothing here blocks.
//!
//! [`send`](Session::send) follows OpenSSL's `SSL_write` rule: when it could
//! not write all the ciphertext of the bytes it took, it reports them only
//! once that ciphertext is out, so the caller calls it again with the same
//! bytes first (an output queue drained from the front does that by itself).
//! The bytes written but not yet reported are never more than one
//! [`CHUNK`].

use std::io::{self, Read, Write};
use std::sync::Arc;

use super::config::TlsConfig;
use super::connector::TlsConnector;

/// The most plaintext [`Session::send`] encrypts before it writes: a few TLS
/// records, so the ciphertext not yet reported stays small.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The crypto provider of every configuration threadkit builds.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Whether `e` is a TLS failure (a refused handshake, a bad record) from a
/// [`Session`].
pub(crate) fn is_tls_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

/// A TLS failure as an `io::Error` (`InvalidData`, the rustls error inside).
pub(crate) fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// One TLS connection, server or client side (see the module docs).
#[derive(Debug)]
pub(crate) struct Session {
    conn: rustls::Connection,
    /// Ciphertext received and not fed yet: rustls takes more only once the
    /// plaintext of what it has was read. Empty, without allocation, most
    /// of the time.
    unfed: Vec<u8>,
    /// Plaintext taken by `send` whose ciphertext is not all written yet.
    unreported: usize,
    /// Some ciphertext was received.
    received: bool,
}

impl Session {
    /// The server side of a new connection.
    pub(crate) fn server(config: &TlsConfig) -> io::Result<Session> {
        let conn =
            rustls::ServerConnection::new(Arc::clone(config.rustls_config())).map_err(tls_error)?;
        Ok(Session::new(conn.into()))
    }

    /// The client side of a new connection to `host` (a name or an IP
    /// address: what the server's certificate must name).
    pub(crate) fn client(connector: &TlsConnector, host: &str) -> io::Result<Session> {
        let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} is not a host name or an IP address for TLS: {e}"),
            )
        })?;
        let conn = rustls::ClientConnection::new(Arc::clone(connector.rustls_config()), name)
            .map_err(tls_error)?;
        Ok(Session::new(conn.into()))
    }

    fn new(conn: rustls::Connection) -> Session {
        Session {
            conn,
            unfed: Vec::new(),
            unreported: 0,
            received: false,
        }
    }

    /// Whether the handshake is still going on.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Whether ciphertext waits to be written ([`flush`](Session::flush)).
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Whether received ciphertext waits to be fed (more plaintext may come
    /// without another read of the socket).
    pub(crate) fn has_unfed(&self) -> bool {
        !self.unfed.is_empty()
    }

    /// Whether any ciphertext came from the peer yet.
    pub(crate) fn received_any(&self) -> bool {
        self.received
    }

    /// Takes ciphertext from the peer. Call it only once
    /// [`read_plain`](Session::read_plain) said `WouldBlock`; what rustls
    /// cannot take yet is kept and fed as the plaintext is read.
    ///
    /// # Errors
    ///
    /// A TLS failure ([`is_tls_error`]): the session is dead; the alert for
    /// the peer waits in [`flush`](Session::flush).
    pub(crate) fn receive(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.received = true;
        let used = self.feed(data)?;
        self.unfed.extend_from_slice(&data[used..]);
        Ok(())
    }

    /// The peer closed the connection (the socket read 0 bytes).
    pub(crate) fn receive_eof(&mut self) {
        // Reading from an empty reader is how rustls hears of the end.
        let _ = self.conn.read_tls(&mut io::empty());
    }

    /// Feeds rustls from `data` until it holds plaintext to read; how many
    /// bytes it took.
    fn feed(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            match self.conn.read_tls(&mut rest) {
                // The peer's close_notify came: nothing after it counts.
                Ok(0) => return Ok(data.len()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let state = self.conn.process_new_packets().map_err(tls_error)?;
            if state.plaintext_bytes_to_read() > 0 {
                break;
            }
        }
        Ok(data.len() - rest.len())
    }

    /// Plaintext from the peer: `Ok(n)` bytes into `buf`; `Ok(0)` at the end
    /// (the peer's close_notify, or the connection closed without one: a line
    /// protocol ends either way); `WouldBlock` when more ciphertext is needed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as said; a TLS failure met feeding kept ciphertext.
    pub(crate) fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && !self.unfed.is_empty() => {
                    let unfed = std::mem::take(&mut self.unfed);
                    let used = self.feed(&unfed)?;
                    if used < unfed.len() {
                        self.unfed = unfed[used..].to_vec();
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes waiting ciphertext to `wr` until it is all out (`Ok(true)`) or
    /// `wr` says `WouldBlock` (`Ok(false)`).
    ///
    /// # Errors
    ///
    /// What `wr` fails with otherwise.
    pub(crate) fn flush(&mut self, wr: &mut dyn Write) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(wr) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Encrypts the front of `data` and writes it to `wr`: how many bytes of
    /// `data` are done (0 when `wr` takes nothing now). Bytes taken whose
    /// ciphertext `wr` did not all take are reported by a later call, which
    /// must pass the same bytes first (see the module docs).
    ///
    /// # Errors
    ///
    /// What `wr` fails with other than `WouldBlock`.
    pub(crate) fn send(&mut self, data: &[u8], wr: &mut dyn Write) -> io::Result<usize> {
        if !self.flush(wr)? {
            return Ok(0);
        }
        let mut done = std::mem::take(&mut self.unreported);
        while done < data.len() {
            let end = data.len().min(done + CHUNK);
            let taken = self.conn.writer().write(&data[done..end])?;
            if taken == 0 {
                break;
            }
            if !self.flush(wr)? {
                self.unreported = taken;
                break;
            }
            done += taken;
        }
        Ok(done)
    }

    /// Queues the close_notify alert (the caller flushes it).
    pub(crate) fn close_notify(&mut self) {
        self.conn.send_close_notify();
    }
}

#[cfg(test)]
mod tests;
