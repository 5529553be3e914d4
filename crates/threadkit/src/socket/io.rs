//! The calls that move data: Python's `send`, `sendall`, `recv`, `recv_into`,
//! `recvfrom`, `recvfrom_into`, `sendto`, `recv(n, MSG_PEEK)` as
//! [`Socket::peek`], `sendfile`; and `connect_ex`, the `connect` that returns
//! the errno instead of failing.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::time::Instant;

use super::socket::{retry_interrupted, timed_out};
use super::{Kind, Socket};

/// The most one `sendfile` call is asked to send (Python's block size).
const SENDFILE_BLOCK: u64 = 1 << 30;

impl Socket {
    /// Sends data on a connected socket, returning how many bytes went out, which
    /// may be fewer than `data.len()` (Python's `send`).
    ///
    /// # Errors
    ///
    /// `TimedOut` / `WouldBlock` per the timeout mode; `BrokenPipe` or
    /// `ConnectionReset` when the peer is gone; `NotConnected`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let n = client.send(b"hi")?;
    /// assert_eq!(n, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.call(|| self.fd.send(data))
    }

    /// One `send` that never waits, whatever the timeout mode
    /// (`MSG_DONTWAIT`, no `SIGPIPE`): `WouldBlock` when the socket's buffer
    /// is full. For the servers' loops, which write from threads that must
    /// not block.
    pub(crate) fn send_no_wait(&self, data: &[u8]) -> io::Result<usize> {
        retry_interrupted(|| {
            self.sock()
                .send_with_flags(data, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
        })
    }

    /// [`send_no_wait`](Socket::send_no_wait) of several buffers in one
    /// `sendmsg`, in order.
    #[cfg(feature = "tls")]
    pub(crate) fn send_vectored_no_wait(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        retry_interrupted(|| {
            self.sock()
                .send_vectored_with_flags(bufs, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
        })
    }

    /// Sends all of `data`, calling `send` until every byte went out (Python's
    /// `sendall`).
    ///
    /// With a timeout `d`, it gives up with `TimedOut` once `d` has passed since the
    /// call began (checked between sends; as one send may itself wait up to `d`,
    /// the whole call takes less than about `2 * d`). On failure, an unknown part
    /// of `data` may have been sent.
    ///
    /// # Errors
    ///
    /// As [`send`](Socket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// client.sendall(b"every byte")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendall(&self, mut data: &[u8]) -> io::Result<()> {
        let deadline = match self.gettimeout() {
            Some(d) if !d.is_zero() => Some((Instant::now(), d)),
            _ => None,
        };
        while !data.is_empty() {
            if let Some((start, d)) = deadline {
                if start.elapsed() >= d {
                    return Err(timed_out());
                }
            }
            let n = self.send(data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Receives at most `bufsize` bytes; an empty `Vec` means the peer closed the
    /// connection (or `shutdown(Read)` was called) (Python's `recv`).
    ///
    /// # Errors
    ///
    /// `TimedOut` / `WouldBlock` per the timeout mode; `ConnectionReset` when the
    /// peer aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// client.sendall(b"last words")?;
    /// client.shutdown(Shutdown::Write)?;
    /// assert_eq!(conn.recv(1024)?, b"last words");
    /// assert!(conn.recv(1024)?.is_empty()); // the peer closed its side
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(&self, bufsize: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; bufsize];
        let n = self.recv_into(&mut buf)?;
        shrink(&mut buf, n);
        Ok(buf)
    }

    /// Receives into `buf`, returning how many bytes arrived; 0 (for a non-empty
    /// `buf`) means the peer closed the connection (Python's `recv_into`).
    ///
    /// # Errors
    ///
    /// As [`recv`](Socket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// client.sendall(b"abc")?;
    /// let mut buf = [0u8; 16];
    /// let n = conn.recv_into(&mut buf)?;
    /// assert_eq!(&buf[..n], b"abc");
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_into(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.call(|| self.fd.recv(buf))
    }

    /// Receives one datagram of at most `bufsize` bytes (the rest of a longer one
    /// is discarded) and the address it came from (Python's `recvfrom`).
    ///
    /// On a stream socket this is [`recv`](Socket::recv) plus the peer's address.
    ///
    /// # Errors
    ///
    /// As [`recv`](Socket::recv); and `NotConnected` when a `shutdown` of the
    /// receive side (from another thread, say) ends the wait with no datagram
    /// (Python returns `(b'', None)` there); `InvalidInput` on a Unix socket (use
    /// [`recvfrom_unix`](Socket::recvfrom_unix)).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Datagram)?;
    /// server.bind("127.0.0.1:0")?;
    /// let client = Socket::new(Family::Inet, Kind::Datagram)?;
    /// client.sendto(b"hello", server.getsockname()?)?;
    /// server.settimeout(Some(Duration::from_secs(5)))?;
    /// let (data, from) = server.recvfrom(65507)?;
    /// server.sendto(&data, from)?; // echo it back
    /// # Ok(())
    /// # }
    /// ```
    pub fn recvfrom(&self, bufsize: usize) -> io::Result<(Vec<u8>, SocketAddr)> {
        let mut buf = vec![0; bufsize];
        let (n, from) = self.recvfrom_into(&mut buf)?;
        shrink(&mut buf, n);
        Ok((buf, from))
    }

    /// Sends one datagram to `addr`, returning the bytes sent (Python's `sendto`).
    ///
    /// The first resolved address of the socket's family is used. An unbound
    /// socket is bound to a free port first, by the system.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when no address of the socket's family resolves (on a Unix
    /// socket, use [`sendto_unix`](Socket::sendto_unix)); the
    /// system's error for a datagram that is too long; `TimedOut` / `WouldBlock`
    /// per the timeout mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// let n = sock.sendto(b"fire and forget", "127.0.0.1:9")?;
    /// assert_eq!(n, 15);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendto(&self, data: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let addr = self.resolve(addr, "sendto")?[0];
        self.call(|| self.fd.send_to(data, addr))
    }

    /// Receives into `buf`, returning how many bytes arrived and from where
    /// (Python's `recvfrom_into`): one datagram on a datagram socket (the rest
    /// of a longer one is discarded), on a stream socket what
    /// [`recv_into`](Socket::recv_into) gets, with the peer's address.
    ///
    /// # Errors
    ///
    /// As [`recvfrom`](Socket::recvfrom).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Datagram)?;
    /// server.bind("127.0.0.1:0")?;
    /// let client = Socket::new(Family::Inet, Kind::Datagram)?;
    /// client.bind("127.0.0.1:0")?;
    /// client.sendto(b"ping", server.getsockname()?)?;
    /// let mut buf = [0u8; 64];
    /// let (n, from) = server.recvfrom_into(&mut buf)?;
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], client.getsockname()?));
    /// # Ok(())
    /// # }
    /// ```
    pub fn recvfrom_into(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.check_inet("recvfrom", "recvfrom_unix")?;
        if self.kind == Kind::Stream {
            let n = self.recv_into(buf)?;
            return Ok((n, self.getpeername()?));
        }
        let (n, from) = self.call(|| crate::sys::recv_from(&self.sock(), buf))?;
        // No sender: the receive side was shut down (Python returns `None` here).
        let from = from.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "no datagram: the socket's receive side was shut down",
            )
        })?;
        Ok((n, from))
    }

    /// Reads what has arrived into `buf` without taking it: the next
    /// [`recv`](Socket::recv) gets the same bytes (Python's `recv(n, MSG_PEEK)`).
    /// Waits, as `recv` does, when nothing has arrived; on a datagram socket it
    /// looks at the next datagram.
    ///
    /// # Errors
    ///
    /// As [`recv_into`](Socket::recv_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// client.sendall(b"GET /")?;
    /// let mut head = [0u8; 3];
    /// let n = conn.peek(&mut head)?;
    /// assert_eq!(&head[..n], &b"GET"[..n]);
    /// assert!(conn.recv(16)?.starts_with(&head[..n])); // still there
    /// # Ok(())
    /// # }
    /// ```
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.call(|| self.fd.peek(buf))
    }

    /// Sends `count` bytes of `file` from `offset` (all of it to the end of the
    /// file when `count` is `None`) over this connected stream socket, with the
    /// system's `sendfile(2)`, which copies inside the kernel (Python's
    /// `sendfile(file, offset, count)`). Returns the bytes sent: fewer than asked
    /// only when the file ended first.
    ///
    /// As in Python, the file's position is left just after the last byte sent,
    /// and with a timeout each wait for the peer is bounded by it (not the whole
    /// call). `file` must be something `sendfile(2)` reads from: a regular file.
    ///
    /// # Errors
    ///
    /// `InvalidInput` on a datagram or non-blocking socket (Python's
    /// `ValueError`); `TimedOut` when the peer stops reading for longer than the
    /// timeout (some bytes may have been sent); `BrokenPipe` or
    /// `ConnectionReset` when the peer is gone; the system's error for a file it
    /// cannot send from.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::io::Seek;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let path = std::env::temp_dir().join(format!("threadkit-sendfile-{}", std::process::id()));
    /// std::fs::write(&path, b"a file's worth of bytes")?;
    /// let mut file = std::fs::File::open(&path)?;
    ///
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// assert_eq!(client.sendfile(&file, 2, None)?, 21);
    /// assert_eq!(file.stream_position()?, 23);
    /// client.shutdown(std::net::Shutdown::Write)?;
    /// let mut got = Vec::new();
    /// std::io::copy(&mut &conn, &mut got)?;
    /// assert_eq!(got, b"file's worth of bytes");
    /// # std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendfile(&self, file: &File, offset: u64, count: Option<u64>) -> io::Result<u64> {
        if self.kind != Kind::Stream {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "only stream sockets are supported",
            ));
        }
        if self.gettimeout().is_some_and(|d| d.is_zero()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "non-blocking sockets are not supported",
            ));
        }
        let end = match count {
            Some(n) => offset.saturating_add(n),
            None => file.metadata()?.len(),
        };
        let mut pos = offset;
        let result = loop {
            let Some(block) = NonZeroUsize::new(block_len(end.saturating_sub(pos))) else {
                break Ok(());
            };
            let offset = usize::try_from(pos)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
            match self.call(|| self.sock().sendfile(file, offset, Some(block))) {
                Ok(0) => break Ok(()), // the file ended early
                Ok(n) => pos += n as u64,
                Err(e) => break Err(e),
            }
        };
        if pos > offset {
            // Python leaves the file just after what was sent, even on failure.
            (&*file).seek(SeekFrom::Start(pos))?;
        }
        result.map(|()| pos - offset)
    }

    /// Connects as [`connect`](Socket::connect) does, but returns the system's
    /// error number instead of failing: 0 on success, `ECONNREFUSED` (111) when
    /// nothing listens, `EINPROGRESS` on a non-blocking socket (Python's
    /// `connect_ex`).
    ///
    /// With a timeout that passes, it returns `EWOULDBLOCK` (11), as Python does.
    /// With several addresses, each is tried in turn and the last one's number is
    /// returned.
    ///
    /// # Errors
    ///
    /// Only for what is not the system's `connect` answer: `addr` does not
    /// resolve, or to no address of the socket's family (`InvalidInput`), as
    /// Python raises `gaierror` there; on a Unix socket (`InvalidInput`: use
    /// [`connect_ex_unix`](Socket::connect_ex_unix)).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{self, Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert_eq!(sock.connect_ex(server.getsockname()?)?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_ex(&self, addr: impl ToSocketAddrs) -> io::Result<i32> {
        let mut errno = 0;
        for addr in self.resolve(addr, "connect_ex")? {
            match self.connect_one(addr) {
                Ok(()) => return Ok(0),
                Err(e) => errno = errno_of(&e),
            }
        }
        Ok(errno)
    }
}

/// How much of `remaining` one `sendfile` call is asked for.
fn block_len(remaining: u64) -> usize {
    usize::try_from(remaining.min(SENDFILE_BLOCK)).unwrap_or(usize::MAX)
}

/// The errno Python's `connect_ex` returns for `e`: the system's own number, or
/// for a timeout, which socket2 reports without one, `EWOULDBLOCK`.
pub(super) fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => libc::EWOULDBLOCK,
        _ => libc::EIO,
    })
}

/// Truncates a receive buffer to the `n` bytes received, giving back most of an
/// oversized allocation (Python's `recv` returns an exact-size `bytes`).
pub(super) fn shrink(buf: &mut Vec<u8>, n: usize) {
    buf.truncate(n);
    if buf.capacity() > 2 * n + 64 {
        buf.shrink_to_fit();
    }
}
