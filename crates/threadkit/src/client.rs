//! The interactive client behind `threadkit connect` and `threadkit udp-send`,
//! usable from other programs.
//!
//! | program | library |
//! |---|---|
//! | `threadkit connect HOST:PORT [--timeout 5]` | [`connect`]`(addr, timeout, input, output)` |
//! | `threadkit connect --tls [--ca CA.pem] HOST:PORT` | `connect_tls(addr, timeout, connector, input, output)` (feature `tls`) |
//! | `threadkit udp-send ADDR MESSAGE [--wait 2]` | [`udp_send`]`(addr, message, wait)` |
//!
//! Both take `HOST:PORT` or `unix:PATH` (a Unix-domain socket at PATH).
//!
//! Both are generic over where the lines come from and where the replies go, so a
//! program (or a test) can drive them without a terminal: the CLI passes stdin and
//! stdout, a test passes a `Cursor` and a `Vec<u8>`.
//!
//! # How `connect` works
//!
//! Python's classic chat client, with threads:
//!
//! - a threadkit [`Thread`] named `client-recv` receives from the server and writes
//!   every chunk to `output` as it arrives (flushing it each time);
//! - the calling thread sends `input` to the server line by line;
//! - at the end of `input` the client half-closes the connection
//!   (`shutdown(Write)`: the server reads end-of-file) and keeps printing until the
//!   server closes;
//! - when the server closes first, the client prints what is left and returns.
//!
//! So that the server closing can end the call while `input` is still blocked (a
//! terminal where nobody types), lines are read from `input` by a second daemon
//! thread, `client-input`, and handed to the calling thread. If `connect` returns
//! while that thread is blocked inside `input`, it stays blocked there until `input`
//! returns (the next line or the end), then ends without reading more; being a
//! daemon thread, it never holds up the process's exit.
//!
//! # Errors
//!
//! Errors are [`io::Error`]s whose message names the address where that helps
//! (`connection refused: 127.0.0.1:9`), so a program can print one clear line.

use std::io::{self, BufRead, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::socket::{self, family_of, Family, Kind, Socket};
use crate::threading::{self, Thread};
use crate::wire::Wire;

/// The longest piece of `input` sent at once: a longer line goes out in pieces
/// of this size, so memory stays bounded whatever the input holds.
const MAX_CHUNK: usize = 64 * 1024;

/// How many pieces of input may wait between the input thread and the sender.
const QUEUE: usize = 16;

/// The receive buffer: the largest UDP payload (65,507 bytes over IPv4) fits.
const RECV_BUF: usize = 64 * 1024;

/// Connects to `addr` (`HOST:PORT`, or `unix:PATH` for a Unix stream socket)
/// and runs an interactive session: sends `input` line by line
/// while a threadkit thread writes everything the server sends to `output`; gives
/// `output` back when the server has closed the connection.
///
/// `timeout` bounds the connection attempt only (Python's `create_connection`
/// timeout); `None` or a zero duration waits as long as the system does. The
/// session itself has no timeout.
///
/// - Each line of `input` is sent as read, `\n` included; a last line without one
///   is sent as it is. Input is bytes: it need not be UTF-8.
/// - What arrives is written to `output` unchanged, chunk by chunk, and flushed
///   after each chunk. Nothing else is written to it, and nothing is written after
///   this returns.
/// - At the end of `input`, the connection is half-closed (`shutdown(Write)`) and
///   the call returns once the server has closed its side, so a server's last
///   words are printed.
/// - When the server closes first (end-of-file on the connection), the call
///   returns `Ok` at once, with what the server sent; input not yet sent is
///   dropped, and `input` may still be blocked on another thread (see the
///   [module docs](self)).
///
/// A program passes its terminal as `BufReader::new(io::stdin())` and
/// `io::stdout()` (`Stdin` is `Send + 'static`; a `StdinLock` is not `Send`).
///
/// # Errors
///
/// - The connection could not be made: `ConnectionRefused` (`connection
///   refused: ADDR`), `TimedOut` (`connection timed out after N s: ADDR`),
///   others as `cannot connect to ADDR: ...` (an unresolvable name, an address
///   without a port);
/// - the server reset the connection: `ConnectionReset` (`connection reset by
///   ADDR`) after what arrived before the reset was written to `output`;
/// - `input` or `output` failed: that error, as it came (with `input`'s named as
///   such). A closed stdout shows as `BrokenPipe`, which a program may treat as
///   success, as the CLI does;
/// - the system refused a thread: `Other`.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
/// use std::thread;
/// use std::time::Duration;
/// use threadkit::{client, socket};
///
/// # fn main() -> std::io::Result<()> {
/// // A one-connection echo server: echoes until the client half-closes.
/// let server = socket::create_server("127.0.0.1:0")?;
/// let addr = server.getsockname()?.to_string();
/// let echo = thread::spawn(move || -> std::io::Result<()> {
///     let (conn, _peer) = server.accept()?;
///     loop {
///         let data = conn.recv(1024)?;
///         if data.is_empty() {
///             return Ok(()); // end of the client's input: close
///         }
///         conn.sendall(&data)?;
///     }
/// });
///
/// let input = Cursor::new("hello\nworld\n");
/// let output = client::connect(&addr, Some(Duration::from_secs(5)), input, Vec::new())?;
/// assert_eq!(output, b"hello\nworld\n");
/// # echo.join().unwrap()?;
/// # Ok(())
/// # }
/// ```
pub fn connect<R, W>(addr: &str, timeout: Option<Duration>, input: R, output: W) -> io::Result<W>
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let timeout = timeout.filter(|d| !d.is_zero());
    let sock = open_stream(addr, timeout).map_err(|e| connect_error(e, addr, timeout))?;
    // The timeout was for connecting; the session waits as long as it takes.
    sock.settimeout(None).map_err(|e| session_error(e, addr))?;
    // Interactive lines go out at once rather than waiting for the previous
    // segment's acknowledgement (TCP only).
    let _ = sock.set_nodelay(true);
    Session::new(Wire::plain(Arc::new(sock)), addr).run(input, output)
}

/// [`connect`] under TLS (feature `tls`): the same session, after a
/// handshake in which the server's certificate must be vouched for by
/// `connector` and name the host of `addr` (its part before `:PORT`, a name or
/// an IP address).
///
/// `timeout` bounds the connection attempt and then the handshake. At the end
/// of `input` the client sends TLS's close_notify and half-closes; a server
/// that closes without one (as many do) ends the session as cleanly.
///
/// # Errors
///
/// As [`connect`]; and a failed handshake, as `TLS handshake with ADDR
/// failed: ...` (`InvalidData`; an untrusted certificate says
/// `invalid peer certificate: UnknownIssuer`), or `TimedOut`.
///
/// # Examples
///
/// ```no_run
/// use std::io::Cursor;
/// use std::time::Duration;
/// use threadkit::client;
/// use threadkit::tls::TlsConnector;
///
/// # fn main() -> std::io::Result<()> {
/// let connector = TlsConnector::from_ca_file("cert.pem")?;
/// let input = Cursor::new("hello\n");
/// let output = client::connect_tls("localhost:9443", Some(Duration::from_secs(5)),
///                                  &connector, input, Vec::new())?;
/// assert_eq!(output, b"hello\n");
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tls")]
pub fn connect_tls<R, W>(
    addr: &str,
    timeout: Option<Duration>,
    connector: &crate::tls::TlsConnector,
    input: R,
    output: W,
) -> io::Result<W>
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    use crate::tls::stream::TlsStream;
    let timeout = timeout.filter(|d| !d.is_zero());
    let host = host_of(addr);
    let sock =
        socket::create_connection(addr, timeout).map_err(|e| connect_error(e, addr, timeout))?;
    let _ = sock.set_nodelay(true);
    let tls = TlsStream::client(Arc::new(sock), connector, host)?;
    tls.handshake(timeout).map_err(|e| {
        let kind = match e.kind() {
            ErrorKind::UnexpectedEof => ErrorKind::InvalidData,
            kind => kind,
        };
        let why = match e.kind() {
            ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
            _ => e.to_string(),
        };
        io::Error::new(kind, format!("TLS handshake with {addr} failed: {why}"))
    })?;
    // The timeout was for connecting; the session waits as long as it takes.
    tls.socket()
        .settimeout(None)
        .map_err(|e| session_error(e, addr))?;
    Session::new(Wire::tls(tls), addr).run(input, output)
}

/// The host part of `HOST:PORT` (`[::1]:443` gives `::1`).
#[cfg(feature = "tls")]
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _port)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The path of a `unix:PATH` address.
fn unix_path(addr: &str) -> Option<&str> {
    addr.strip_prefix("unix:")
}

/// A stream connected to `HOST:PORT` or `unix:PATH` within `timeout`.
fn open_stream(addr: &str, timeout: Option<Duration>) -> io::Result<Socket> {
    match unix_path(addr) {
        Some(path) => {
            let sock = Socket::new(Family::Unix, Kind::Stream)?;
            sock.settimeout(timeout)?;
            sock.connect_unix(path)?;
            Ok(sock)
        }
        None => socket::create_connection(addr, timeout),
    }
}

/// A datagram socket connected to `HOST:PORT` or `unix:PATH`. A Unix one is
/// bound to a Linux abstract name of its own (no file left behind), since a
/// reply needs an address to come to.
fn open_datagram(addr: &str) -> io::Result<Socket> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let in_context = |e: io::Error| udp_error(e, addr);
    match unix_path(addr) {
        Some(path) => {
            let sock = Socket::new(Family::Unix, Kind::Datagram).map_err(in_context)?;
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            sock.bind_unix(format!("\0threadkit-udp-send-{}-{n}", std::process::id()))
                .map_err(in_context)?;
            sock.connect_unix(path).map_err(in_context)?;
            Ok(sock)
        }
        None => {
            let peer = resolve_first(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot send to {addr}: {e}")))?;
            let sock = Socket::new(family_of(&peer), Kind::Datagram).map_err(in_context)?;
            sock.connect(peer).map_err(in_context)?;
            Ok(sock)
        }
    }
}

/// What the two helper threads tell the sending (calling) thread, on one bounded
/// channel so the calling thread needs to wait on one thing only.
enum Event<W> {
    /// A piece of input: a line, `\n` included, or up to `MAX_CHUNK` bytes of one.
    Input(Vec<u8>),
    /// `input` reached its end.
    InputEnd,
    /// `input` failed (or its thread panicked).
    InputError(io::Error),
    /// The receiving thread ended: `Ok(output)` when the server closed.
    Closed(io::Result<W>),
}

struct Session<'a> {
    /// The connection, plain or under TLS.
    wire: Wire,
    addr: &'a str,
}

impl Session<'_> {
    fn new(wire: Wire, addr: &str) -> Session<'_> {
        Session { wire, addr }
    }

    fn run<R, W>(self, input: R, output: W) -> io::Result<W>
    where
        R: BufRead + Send + 'static,
        W: Write + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<Event<W>>(QUEUE);
        let receiver = spawn_receiver(self.wire.clone(), self.addr.to_owned(), output, tx.clone())?;
        if let Err(e) = spawn_input(input, tx) {
            let _ = self.wire.socket().shutdown(Shutdown::Both);
            let _ = receiver.join();
            return Err(e);
        }
        // `send_loop` drops `rx` when it returns, so a helper blocked on a full
        // channel wakes (its send fails) and ends.
        let result = self.send_loop(rx);
        // The receiver has reported `Closed` (it ends right after), or the socket
        // was shut down so that it does: either way it ends promptly, and nothing
        // is written to `output` once this returns.
        let _ = receiver.join();
        result
    }

    /// Sends input as it comes until the receiving thread reports the end.
    fn send_loop<W>(&self, rx: Receiver<Event<W>>) -> io::Result<W> {
        let mut sending = true;
        loop {
            // The receiving thread always sends `Closed` (a drop guard covers a
            // panic), and it ends once the server closes or the socket is shut
            // down, so this wait ends.
            let event = rx
                .recv()
                .map_err(|_| io::Error::other("client thread lost"))?;
            match event {
                Event::Input(piece) if sending => {
                    if let Err(e) = self.wire.sendall(&piece) {
                        if !peer_gone(&e) {
                            let _ = self.wire.socket().shutdown(Shutdown::Both);
                            return Err(session_error(e, self.addr));
                        }
                        // The server is gone: stop sending and let the receiving
                        // thread print what is left and report how it ended.
                        sending = false;
                    }
                }
                Event::Input(_) => {}
                Event::InputEnd => {
                    if sending {
                        sending = false;
                        // The server reads end-of-file; we keep receiving. A
                        // connection already gone shows on the receiving side.
                        let _ = self.wire.shutdown_write();
                    }
                }
                Event::InputError(e) => {
                    let _ = self.wire.socket().shutdown(Shutdown::Both);
                    return Err(io::Error::new(e.kind(), format!("cannot read input: {e}")));
                }
                Event::Closed(result) => return result,
            }
        }
    }
}

/// Starts `client-recv`: writes what arrives to `output` until the server closes,
/// then shuts the socket down (which wakes a sender blocked on a server that stopped
/// reading) and reports `Closed` with `output`.
fn spawn_receiver<W>(
    wire: Wire,
    addr: String,
    mut output: W,
    tx: SyncSender<Event<W>>,
) -> io::Result<Thread>
where
    W: Write + Send + 'static,
{
    let body = move || {
        let mut last = LastWord::new(tx, || {
            Event::Closed(Err(io::Error::other("client receiver panicked")))
        });
        let result = pump(&wire, &mut output).map_err(|e| match e {
            Pumped::Socket(e) => session_error(e, &addr),
            Pumped::Output(e) => e,
        });
        let _ = wire.socket().shutdown(Shutdown::Both);
        last.send(Event::Closed(result.map(|()| output)));
    };
    spawn_daemon("client-recv", body)
}

/// Where [`pump`] failed: the connection, or the output it was copying to.
enum Pumped {
    Socket(io::Error),
    Output(io::Error),
}

/// Copies the socket to `output` until end-of-file.
fn pump<W: Write>(wire: &Wire, output: &mut W) -> Result<(), Pumped> {
    let mut buf = vec![0; RECV_BUF];
    loop {
        let n = match wire.recv_into(&mut buf) {
            // TLS records without data.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => other.map_err(Pumped::Socket)?,
        };
        if n == 0 {
            return output.flush().map_err(Pumped::Output);
        }
        output.write_all(&buf[..n]).map_err(Pumped::Output)?;
        output.flush().map_err(Pumped::Output)?;
    }
}

/// Starts `client-input`: reads `input` piece by piece into the channel; ends at
/// the end of input, on an error, or when the session is over (the channel closed).
fn spawn_input<R, W>(mut input: R, tx: SyncSender<Event<W>>) -> io::Result<Thread>
where
    R: BufRead + Send + 'static,
    W: Send + 'static,
{
    let body = move || {
        let mut last = LastWord::new(tx, || {
            Event::InputError(io::Error::other("input thread panicked"))
        });
        loop {
            match read_piece(&mut input) {
                Ok(piece) if piece.is_empty() => return last.send(Event::InputEnd),
                Ok(piece) => {
                    if !last.send_more(Event::Input(piece)) {
                        return; // the session is over
                    }
                }
                Err(e) => return last.send(Event::InputError(e)),
            }
        }
    };
    spawn_daemon("client-input", body)
}

/// The next line of `input`, `\n` included, or its next `MAX_CHUNK` bytes when the
/// line is longer; empty at the end of input.
fn read_piece<R: BufRead>(input: &mut R) -> io::Result<Vec<u8>> {
    let mut piece = Vec::new();
    loop {
        let available = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(piece);
        }
        let room = MAX_CHUNK - piece.len();
        let (take, done) = match available.iter().take(room).position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => {
                let take = available.len().min(room);
                (take, take == room)
            }
        };
        piece.extend_from_slice(&available[..take]);
        input.consume(take);
        if done {
            return Ok(piece);
        }
    }
}

fn spawn_daemon(name: &str, body: impl FnOnce() + Send + 'static) -> io::Result<Thread> {
    Thread::builder()
        .name(name)
        .daemon(true)
        .target(body)
        .spawn()
        .map_err(|e| match e {
            threading::Error::Spawn(e) => e,
            e => io::Error::other(e),
        })
}

/// A helper thread's channel end that always sends a last event: the one given to
/// [`send`](LastWord::send), or, when the thread unwinds first, the fallback.
struct LastWord<W> {
    tx: Option<SyncSender<Event<W>>>,
    fallback: fn() -> Event<W>,
}

impl<W> LastWord<W> {
    fn new(tx: SyncSender<Event<W>>, fallback: fn() -> Event<W>) -> LastWord<W> {
        LastWord {
            tx: Some(tx),
            fallback,
        }
    }

    /// Sends an event that is not the last; false when nobody listens any more.
    fn send_more(&self, event: Event<W>) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(event).is_ok())
    }

    /// Sends the last event. It may wait while the channel is full: the calling
    /// thread drains it until it gets a `Closed`, and drops it when it returns.
    fn send(&mut self, event: Event<W>) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(event);
        }
    }
}

impl<W> Drop for LastWord<W> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send((self.fallback)());
        }
    }
}

/// Whether a send failed because the server has closed or reset the connection.
fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::BrokenPipe
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
    )
}

fn connect_error(e: io::Error, addr: &str, timeout: Option<Duration>) -> io::Error {
    let message = match (e.kind(), timeout) {
        (ErrorKind::ConnectionRefused, _) => format!("connection refused: {addr}"),
        (ErrorKind::TimedOut, Some(d)) => {
            format!("connection timed out after {} s: {addr}", d.as_secs_f64())
        }
        (ErrorKind::TimedOut, None) => format!("connection timed out: {addr}"),
        _ => format!("cannot connect to {addr}: {e}"),
    };
    io::Error::new(e.kind(), message)
}

fn session_error(e: io::Error, addr: &str) -> io::Error {
    let message = match e.kind() {
        ErrorKind::ConnectionReset => format!("connection reset by {addr}"),
        _ => format!("connection to {addr}: {e}"),
    };
    io::Error::new(e.kind(), message)
}

/// Sends `message` as one UDP datagram to `addr` (or, for `unix:PATH`, one
/// datagram to that Unix datagram socket, from a Linux abstract name of the
/// client's own so the reply can come back) and waits up to `wait` for the
/// reply: `Some(reply)`, or `None` when none came in time.
///
/// The message goes out as it is (no newline is added). The socket is connected
/// to `addr` (the first address it resolves to), so only a datagram from that
/// address counts as the reply, and the system reports a closed port (see
/// Errors). An empty datagram is a reply too (`Some` of an empty `Vec`). `None`
/// comes only once `wait` has passed, never earlier; a zero `wait` only takes a
/// reply already there, which there cannot be, so it is always `None` (unless the
/// port was refused at once).
///
/// # Errors
///
/// - Nothing listens on that UDP port: `ConnectionRefused`, named `connection
///   refused: ADDR (nothing listens on that UDP port)`, returned as soon as the
///   system reports it. This rests on the ICMP "port unreachable" the peer sends
///   back; where that is filtered or rate-limited, a closed port looks like a
///   silent one and the result is `Ok(None)` after `wait`;
/// - `addr` does not resolve (`cannot send to ADDR: ...`), or the message is too
///   big for one datagram (65,507 bytes over IPv4);
/// - other socket errors, with the address in the message.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use std::time::Duration;
/// use threadkit::client;
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// // A UDP server that answers one datagram in upper case.
/// let server = Socket::new(Family::Inet, Kind::Datagram)?;
/// server.bind("127.0.0.1:0")?;
/// let addr = server.getsockname()?.to_string();
/// let answer = thread::spawn(move || -> std::io::Result<()> {
///     let (data, from) = server.recvfrom(65_535)?;
///     server.sendto(&data.to_ascii_uppercase(), from)?;
///     Ok(())
/// });
///
/// let reply = client::udp_send(&addr, b"ping", Duration::from_secs(2))?;
/// assert_eq!(reply.as_deref(), Some(&b"PING"[..]));
/// # answer.join().unwrap()?;
///
/// // A server that never answers: `None` once the wait has passed.
/// let silent = Socket::new(Family::Inet, Kind::Datagram)?;
/// silent.bind("127.0.0.1:0")?;
/// let addr = silent.getsockname()?.to_string();
/// assert_eq!(client::udp_send(&addr, b"hello?", Duration::from_millis(100))?, None);
/// # Ok(())
/// # }
/// ```
pub fn udp_send(addr: &str, message: &[u8], wait: Duration) -> io::Result<Option<Vec<u8>>> {
    let in_context = |e: io::Error| udp_error(e, addr);
    let sock = open_datagram(addr)?;
    sock.send(message).map_err(in_context)?;

    // `None` (a wait too long to add to now): wait as long as it takes.
    let deadline = Instant::now().checked_add(wait);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        // Zero left: one non-blocking look (`Some(ZERO)` is non-blocking).
        sock.settimeout(left).map_err(in_context)?;
        match sock.recv(RECV_BUF) {
            Ok(reply) => return Ok(Some(reply)),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                // `Socket` never reports a timeout early; the check guards the
                // "never before `wait`" promise all the same.
                if left.is_some_and(|l| l.is_zero())
                    || deadline.is_some_and(|d| Instant::now() >= d)
                {
                    return Ok(None);
                }
            }
            Err(e) => return Err(in_context(e)),
        }
    }
}

fn udp_error(e: io::Error, addr: &str) -> io::Error {
    let message = match e.kind() {
        ErrorKind::ConnectionRefused => {
            format!("connection refused: {addr} (nothing listens on that UDP port)")
        }
        _ => format!("udp {addr}: {e}"),
    };
    io::Error::new(e.kind(), message)
}

fn resolve_first(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address found"))
}
