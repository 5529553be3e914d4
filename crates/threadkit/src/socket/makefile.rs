//! `dup` and `makefile`: [`Socket::try_clone`] and [`SocketFile`], Python's
//! `makefile('rwb')`: a buffered line reader and a writer over a socket.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::Arc;

use super::Socket;

impl Socket {
    /// A second handle to the same socket, on a duplicated descriptor (Python's
    /// `dup()`; std's `try_clone`): data read through one is gone for the
    /// other, and the connection stays open until both are closed.
    ///
    /// The clone shares the timeout mode: [`settimeout`](Socket::settimeout) on
    /// either applies to both, as the system keeps the mode in the shared
    /// socket. A typical use: one thread reads from the socket while another
    /// writes to its clone.
    ///
    /// # Errors
    ///
    /// Fails when the system cannot duplicate the descriptor (too many open
    /// files).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::thread;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// let writer = client.try_clone()?;
    /// let t = thread::spawn(move || writer.sendall(b"from the clone"));
    /// t.join().unwrap()?;
    /// let mut buf = [0u8; 14];
    /// std::io::Read::read_exact(&mut &conn, &mut buf)?;
    /// assert_eq!(&buf, b"from the clone");
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_clone(&self) -> io::Result<Socket> {
        Ok(Socket {
            fd: self.fd.try_clone()?,
            family: self.family,
            kind: self.kind,
            timeout: Arc::clone(&self.timeout),
        })
    }

    /// A buffered file over this socket (Python's `makefile('rwb')`): read lines
    /// with [`SocketFile::readline`] or any [`BufRead`] method, and write with
    /// [`Write`]. It holds a [clone](Socket::try_clone) of the socket, so it
    /// lives on its own; the connection closes when both are dropped.
    ///
    /// # Errors
    ///
    /// As [`try_clone`](Socket::try_clone).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::io::Write;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let (conn, _) = server.accept()?;
    /// let mut f = conn.makefile()?;
    /// client.sendall(b"hello\nworld\n")?;
    /// assert_eq!(f.readline()?, b"hello\n");
    /// f.write_all(b"echo: hello\n")?;
    /// assert_eq!(client.makefile()?.readline()?, b"echo: hello\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn makefile(&self) -> io::Result<SocketFile> {
        Ok(SocketFile {
            reader: BufReader::new(self.try_clone()?),
        })
    }
}

/// A buffered reader and writer over a socket, from [`Socket::makefile`]:
/// Python's socket file (`makefile('rwb')`, the `rfile` and `wfile` of
/// `socketserver.StreamRequestHandler` in one).
///
/// Reads are buffered: [`readline`](SocketFile::readline) and every [`BufRead`]
/// method (`lines()`, `read_until`, `read_line`) take whole lines, and bytes
/// past a line stay in the buffer for the next call. Writes are not: each
/// `write` sends at once (so `flush` has nothing to do and dropping loses
/// nothing), as `StreamRequestHandler`'s `wfile` with its default `wbufsize = 0`.
///
/// The socket's timeout applies to each read; as in Python, after a read timed
/// out, the bytes of a half-read line that it had taken are lost.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
/// use std::io::{BufRead, Write};
///
/// # fn main() -> std::io::Result<()> {
/// let server = socket::create_server("127.0.0.1:0")?;
/// let client = socket::create_connection(server.getsockname()?, None)?;
/// let (conn, _) = server.accept()?;
/// let rfile = conn.makefile()?;
/// let mut wfile = client.makefile()?;
/// wfile.write_all(b"one\ntwo\n")?;
/// client.shutdown(std::net::Shutdown::Write)?;
/// let lines: Vec<String> = rfile.lines().collect::<Result<_, _>>()?;
/// assert_eq!(lines, ["one", "two"]);
/// # Ok(())
/// # }
/// ```
pub struct SocketFile {
    // The buffered reads; its inner socket (a clone) is also what writes go to.
    reader: BufReader<Socket>,
}

impl SocketFile {
    /// Reads one line, ending in `\n` unless the peer closed first; an empty
    /// `Vec` at end of file (Python's `readline()`).
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`]: `TimedOut` / `WouldBlock` per the timeout mode,
    /// `ConnectionReset`.
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
    /// client.sendall(b"last line, no newline")?;
    /// drop(client);
    /// let mut f = conn.makefile()?;
    /// assert_eq!(f.readline()?, b"last line, no newline");
    /// assert!(f.readline()?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn readline(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        Ok(line)
    }

    /// Reads one line of at most `limit` bytes (Python's `readline(size)`): a
    /// longer line comes back in pieces of `limit` bytes, the last ending in
    /// `\n`. A server reads with it to bound what one client can make it hold.
    ///
    /// # Errors
    ///
    /// As [`readline`](SocketFile::readline).
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
    /// client.sendall(b"abcdef\n")?;
    /// let mut f = conn.makefile()?;
    /// assert_eq!(f.readline_limit(4)?, b"abcd");
    /// assert_eq!(f.readline_limit(4)?, b"ef\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn readline_limit(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut line)?;
        Ok(line)
    }

    /// The socket this file reads from and writes to (a clone of the one
    /// `makefile` was called on): set its timeout, shut it down.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = socket::create_server("127.0.0.1:0")?;
    /// let client = socket::create_connection(server.getsockname()?, None)?;
    /// let f = client.makefile()?;
    /// f.socket().settimeout(Some(Duration::from_secs(5)))?;
    /// assert_eq!(client.gettimeout(), Some(Duration::from_secs(5))); // shared
    /// # Ok(())
    /// # }
    /// ```
    pub fn socket(&self) -> &Socket {
        self.reader.get_ref()
    }
}

impl Read for SocketFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl BufRead for SocketFile {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.reader.consume(amt);
    }
}

impl Write for SocketFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.reader.get_ref().send(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // One `sendall`, with its timeout rule, rather than a loop of sends.
        self.reader.get_ref().sendall(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for SocketFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketFile")
            .field("socket", self.reader.get_ref())
            .field("buffered", &self.reader.buffer().len())
            .finish()
    }
}
