//! [`Wire`]: how a blocking loop's bytes reach a connected socket: as they are,
//! or through TLS (feature `tls`). The servers' blocking models and the
//! client read and write through it, so neither knows which it is.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use crate::socket::Socket;
#[cfg(feature = "tls")]
use crate::tls::stream::TlsStream;

/// A connected socket, plain or under TLS; cheap to clone (shared).
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    sock: Arc<Socket>,
    #[cfg(feature = "tls")]
    tls: Option<Arc<TlsStream>>,
}

impl Wire {
    /// Bytes as they are.
    pub(crate) fn plain(sock: Arc<Socket>) -> Wire {
        Wire {
            sock,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Bytes through `tls`.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(tls: TlsStream) -> Wire {
        Wire {
            sock: Arc::clone(tls.socket()),
            tls: Some(Arc::new(tls)),
        }
    }

    /// The socket underneath (for options, timeouts and shutdowns).
    pub(crate) fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Runs the TLS handshake, for at most `timeout`; plain: nothing to do.
    ///
    /// # Errors
    ///
    /// As `TlsStream::handshake`: `TimedOut`, `UnexpectedEof` (closed
    /// before a byte), a TLS failure ([`is_tls_error`]).
    pub(crate) fn handshake(&self, timeout: Option<Duration>) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.handshake(timeout);
        }
        let _ = timeout;
        Ok(())
    }

    /// Reads into `buf` (blocking, with the socket's timeout); `Ok(0)` at
    /// the end of input.
    ///
    /// # Errors
    ///
    /// `Interrupted` when TLS records without data came: call again. The
    /// socket's errors, a TLS failure.
    pub(crate) fn recv_into(&self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.recv_into(buf);
        }
        self.sock.recv_into(buf)
    }

    /// Writes what the socket takes of `data` now, without waiting; how many
    /// bytes are done (0: none now). After a partial write, the next call must
    /// pass the rest of the same bytes first (TLS may have taken more than it
    /// reported).
    ///
    /// # Errors
    ///
    /// The socket's errors other than `WouldBlock`.
    pub(crate) fn send_now(&self, data: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.send_now(data);
        }
        let mut sent = 0;
        while sent < data.len() {
            match self.sock.send_no_wait(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// Writes at least one byte of `data`, waiting as a blocking `send` does
    /// (the socket's write timeout); how many bytes are done. The rule of
    /// [`send_now`](Wire::send_now) holds.
    ///
    /// # Errors
    ///
    /// `TimedOut` / `WouldBlock` when nothing went out in time; the socket's
    /// errors.
    pub(crate) fn send(&self, data: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.send(data);
        }
        self.sock.send(data)
    }

    /// Sends all of `data`, waiting as long as the socket's timeout lets it.
    ///
    /// # Errors
    ///
    /// As [`send`](Wire::send); part of `data` may have gone out.
    pub(crate) fn sendall(&self, data: &[u8]) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.sendall(data);
        }
        self.sock.sendall(data)
    }

    /// Shuts the write side down, after TLS's close_notify.
    ///
    /// # Errors
    ///
    /// What `shutdown` fails with.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.shutdown_write();
        }
        self.sock.shutdown(Shutdown::Write)
    }
}

/// Whether `e` is a TLS failure (always false without the `tls` feature).
pub(crate) fn is_tls_error(e: &io::Error) -> bool {
    #[cfg(feature = "tls")]
    {
        crate::tls::session::is_tls_error(e)
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = e;
        false
    }
}
