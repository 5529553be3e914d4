//! How a worker's connection moves bytes: the plain socket, or a TLS session
//! over it (feature `tls`). The serving logic above is the same for both: it
//! reads plaintext, queues plaintext, and counts every limit on plaintext.
//!
//! Under TLS a read feeds the ciphertext the socket has to the session and
//! hands out its plaintext; the handshake runs inside those reads (its
//! answers written at once, what the socket does not take kept in the session
//! and written when it is writable again) and is reported once done, so the
//! service hears of the connection before its first line. A write encrypts
//! the front of the queue with OpenSSL's "same bytes again" rule, which a
//! queue drained from the front keeps by itself.

use std::io::{self, Read};

use super::conn::Conn;
#[cfg(feature = "tls")]
use crate::tls::session::Session;

/// What one read of a connection brought.
pub(super) enum Input {
    /// `n` bytes of plaintext (under TLS possibly 0: records without
    /// plaintext, more may come); `drained`: the socket has nothing more now
    /// (a later arrival makes a new edge).
    Bytes { n: usize, drained: bool },
    /// The peer ended its side.
    End,
    /// Nothing now: wait for the next event.
    Nothing,
    /// The TLS handshake just finished: the service hears of the connection
    /// before the next read.
    #[cfg(feature = "tls")]
    Handshaken,
}

/// A connection's TLS: the session and whether its close_notify was queued.
#[cfg(feature = "tls")]
pub(super) struct Tls {
    session: Session,
    notified: bool,
}

#[cfg(feature = "tls")]
impl Tls {
    pub(super) fn new(session: Session) -> Box<Tls> {
        Box::new(Tls {
            session,
            notified: false,
        })
    }
}

impl Conn {
    /// Reads plaintext into `buf` (`cipher`: the buffer ciphertext is read
    /// into under TLS).
    ///
    /// # Errors
    ///
    /// What the socket fails with, or a TLS failure (its alert queued).
    pub(super) fn read_input(&mut self, buf: &mut [u8], cipher: &mut [u8]) -> io::Result<Input> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return read_tls(&self.stream, &mut tls.session, buf, cipher);
        }
        let _ = cipher;
        loop {
            return match (&self.stream).read(buf) {
                Ok(0) => Ok(Input::End),
                Ok(n) => Ok(Input::Bytes {
                    n,
                    drained: n < buf.len(),
                }),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Input::Nothing),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// Writes what the socket takes of `data` now: how many bytes are done
    /// (under TLS, only once their ciphertext is all out: pass the same bytes
    /// first next time). Under TLS it writes the session's waiting
    /// ciphertext (handshake, alert, close_notify) first, even when `data`
    /// is empty.
    ///
    /// # Errors
    ///
    /// What the socket fails with other than `WouldBlock`.
    pub(super) fn send_plain(&mut self, data: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return tls.session.send(data, &mut NoWait(&self.stream));
        }
        send_now(&self.stream, data)
    }

    /// Whether anything waits to be written: queued plaintext, or (under
    /// TLS) ciphertext the socket did not take yet.
    pub(super) fn has_output(&self) -> bool {
        #[cfg(feature = "tls")]
        if self.tls.as_ref().is_some_and(|t| t.session.wants_write()) {
            return true;
        }
        self.pending() > 0
    }

    /// Whether the connection still does its TLS handshake (the service has
    /// not heard of it).
    pub(super) fn handshaking(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.session.is_handshaking();
        }
        false
    }

    /// Before the write side is shut: under TLS, queues the close_notify
    /// (once) and tries to write it. True when nothing is left to write.
    pub(super) fn say_goodbye(&mut self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            if !tls.notified {
                tls.notified = true;
                tls.session.close_notify();
            }
            // A failed write: nothing more can go; the socket closes anyway.
            return tls.session.flush(&mut NoWait(&self.stream)).unwrap_or(true);
        }
        true
    }
}

/// Reads of the socket one [`Conn::read_input`] makes at most under TLS
/// before it lets the slice go on: records without plaintext (a stream of
/// them is a client's to send) never keep the worker from the others.
#[cfg(feature = "tls")]
const CIPHER_READS: usize = 4;

/// Under TLS: plaintext the session holds, else ciphertext from the socket
/// fed to it (its answers written at once), until there is plaintext, the
/// handshake finished, the socket has nothing, or the peer ended; after
/// [`CIPHER_READS`] reads without any of these, `Bytes` of 0, not drained.
#[cfg(feature = "tls")]
fn read_tls(
    stream: &socket2::Socket,
    session: &mut Session,
    buf: &mut [u8],
    cipher: &mut [u8],
) -> io::Result<Input> {
    let mut drained = false;
    let mut reads = 0;
    loop {
        match session.read_plain(buf) {
            Ok(0) => return Ok(Input::End),
            Ok(n) => {
                // All the socket had is in the session, and it had less
                // plaintext than `buf` takes: nothing more now.
                let drained = drained && n < buf.len() && !session.has_unfed();
                return Ok(Input::Bytes { n, drained });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if drained {
            return Ok(Input::Nothing);
        }
        if reads == CIPHER_READS {
            return Ok(Input::Bytes {
                n: 0,
                drained: false,
            });
        }
        reads += 1;
        let handshaking = session.is_handshaking();
        let n = match (&*stream).read(cipher) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Input::Nothing),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if handshaking && session.received_any() {
                return Err(crate::tls::session::tls_error(rustls::Error::General(
                    "the peer closed the connection during the handshake".into(),
                )));
            }
            session.receive_eof();
            // What is left of the plaintext (the next read takes the rest),
            // else the end.
            return match session.read_plain(buf) {
                Ok(0) => Ok(Input::End),
                Ok(n) => Ok(Input::Bytes { n, drained: false }),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Input::End),
                Err(e) => Err(e),
            };
        }
        drained = n < cipher.len();
        // Its error leaves the alert in the session: the close writes it.
        session.receive(&cipher[..n])?;
        session.flush(&mut NoWait(stream))?;
        if handshaking && !session.is_handshaking() {
            return Ok(Input::Handshaken);
        }
    }
}

/// Writes to a socket without waiting: `WouldBlock` when its buffer is full.
#[cfg(feature = "tls")]
struct NoWait<'a>(&'a socket2::Socket);

#[cfg(feature = "tls")]
impl io::Write for NoWait<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.send_with_flags(data, libc::MSG_NOSIGNAL)
    }

    // rustls hands over every record it holds at once: one system call for
    // a handshake flight or a burst of records, not one each.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes what the kernel takes of `data` now; 0 when it takes nothing.
fn send_now(stream: &socket2::Socket, data: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < data.len() {
        match stream.send_with_flags(&data[sent..], libc::MSG_NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}
