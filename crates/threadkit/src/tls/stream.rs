//! [`TlsStream`]: a [`Session`] over a blocking [`Socket`], shared by the
//! threads of one connection (its reader, whoever queues output for it, its
//! writer thread).
//!
//! The session's lock is held only to feed it, read it, or write to the
//! socket with `MSG_DONTWAIT`; every wait (for bytes to read, for room to
//! write) happens with the lock released, so a client that stops reading
//! never keeps the reader from the session, and the other way round.

use std::io;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::config::TlsConfig;
use super::connector::TlsConnector;
use super::session::Session;
use crate::socket::Socket;
use crate::sys;

/// The read buffer of a handshake: a ClientHello fits (a bigger one takes
/// more reads). 16 KiB kept 6.7 KB more per idle connection resident.
const HANDSHAKE_BUF: usize = 4 * 1024;

/// One connection's TLS, over its socket.
#[derive(Debug)]
pub(crate) struct TlsStream {
    sock: Arc<Socket>,
    session: Mutex<Session>,
}

/// Writes to a socket without waiting: `WouldBlock` when its buffer is full.
struct NoWait<'a>(&'a Socket);

impl io::Write for NoWait<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.send_no_wait(data)
    }

    // rustls hands over every record it holds at once: one system call for
    // a handshake flight or a burst of records, not one each.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.send_vectored_no_wait(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsStream {
    /// The server side of the accepted `sock`.
    pub(crate) fn server(sock: Arc<Socket>, config: &TlsConfig) -> io::Result<TlsStream> {
        Ok(TlsStream::new(sock, Session::server(config)?))
    }

    /// The client side of `sock`, connected to `host`.
    pub(crate) fn client(
        sock: Arc<Socket>,
        connector: &TlsConnector,
        host: &str,
    ) -> io::Result<TlsStream> {
        Ok(TlsStream::new(sock, Session::client(connector, host)?))
    }

    fn new(sock: Arc<Socket>, session: Session) -> TlsStream {
        TlsStream {
            sock,
            session: Mutex::new(session),
        }
    }

    /// The socket underneath.
    pub(crate) fn socket(&self) -> &Arc<Socket> {
        &self.sock
    }

    fn lock(&self) -> MutexGuard<'_, Session> {
        // A panic in rustls leaves a session we never use again.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the handshake to its end, for at most `timeout` (`None`: as long
    /// as it takes). The socket's timeouts are its own afterwards.
    ///
    /// # Errors
    ///
    /// `TimedOut`; `UnexpectedEof` when the peer closed before sending a
    /// byte; a TLS failure (`InvalidData`, see
    /// [`is_tls_error`](super::session::is_tls_error)), also when the peer
    /// closed in the middle; a socket error.
    pub(crate) fn handshake(&self, timeout: Option<Duration>) -> io::Result<()> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let left = || match deadline {
            None => Ok(None),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the TLS handshake timed out",
                    ))
                } else {
                    Ok(Some(left))
                }
            }
        };
        let mut buf = vec![0u8; HANDSHAKE_BUF];
        loop {
            let (done, flushed) = {
                let mut s = self.lock();
                let flushed = s.flush(&mut NoWait(&self.sock))?;
                (!s.is_handshaking(), flushed)
            };
            if !flushed {
                if !sys::wait_writable(self.sock.as_fd(), left()?)? {
                    left()?;
                }
                continue;
            }
            if done {
                return Ok(());
            }
            self.sock.settimeout(left()?)?;
            let n = self.sock.recv_into(&mut buf)?;
            let mut s = self.lock();
            if n == 0 {
                if !s.received_any() {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                return Err(super::session::tls_error(rustls::Error::General(
                    "the peer closed the connection during the handshake".into(),
                )));
            }
            if let Err(e) = s.receive(&buf[..n]) {
                // The alert, if the socket takes it now.
                let _ = s.flush(&mut NoWait(&self.sock));
                return Err(e);
            }
        }
    }

    /// Reads plaintext into `buf` (Python's `recv_into` on an `SSLSocket`):
    /// what the session holds already, else one read of the socket (blocking,
    /// with its timeout). `Ok(0)` at the end of input.
    ///
    /// # Errors
    ///
    /// `Interrupted` when the bytes read held no plaintext (TLS records of its
    /// own): call again. A TLS failure; the socket's errors.
    pub(crate) fn recv_into(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self.lock().read_plain(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
        let n = self.sock.recv_into(buf)?;
        let mut s = self.lock();
        if n == 0 {
            s.receive_eof();
        } else {
            let received = s.receive(&buf[..n]);
            // An answer of TLS's own (an alert, a key update), if the socket
            // takes it now; otherwise the next send writes it first.
            let _ = s.flush(&mut NoWait(&self.sock));
            received?;
        }
        match s.read_plain(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "TLS records without data",
            )),
            other => other,
        }
    }

    /// Encrypts and writes what the socket takes now of `data`, without
    /// waiting: how many bytes are done (0: none now). With OpenSSL's rule:
    /// after a partial write, call again with the rest of the same bytes.
    ///
    /// # Errors
    ///
    /// The socket's errors other than `WouldBlock`.
    pub(crate) fn send_now(&self, data: &[u8]) -> io::Result<usize> {
        self.lock().send(data, &mut NoWait(&self.sock))
    }

    /// Encrypts and writes at least one byte of `data`, waiting for the
    /// socket as a blocking `send` does (at most its write timeout each
    /// time); how many bytes are done.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the socket took nothing within its write timeout; the
    /// socket's errors.
    pub(crate) fn send(&self, data: &[u8]) -> io::Result<usize> {
        loop {
            let n = self.send_now(data)?;
            if n > 0 || data.is_empty() {
                return Ok(n);
            }
            let timeout = SockRef::from(&*self.sock).write_timeout()?;
            if !sys::wait_writable(self.sock.as_fd(), timeout)? {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
            }
        }
    }

    /// Sends all of `data`, waiting as long as it takes.
    ///
    /// # Errors
    ///
    /// As [`send`](TlsStream::send).
    pub(crate) fn sendall(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.send(data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Says goodbye (TLS's close_notify, if the socket takes it now) and shuts
    /// the socket's write side down.
    ///
    /// # Errors
    ///
    /// What `shutdown` fails with.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        {
            let mut s = self.lock();
            s.close_notify();
            let _ = s.flush(&mut NoWait(&self.sock));
        }
        self.sock.shutdown(Shutdown::Write)
    }
}

#[cfg(test)]
mod tests;
