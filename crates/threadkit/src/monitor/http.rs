//! [`Monitor`]: the live page's HTTP/1.1 server. One internal thread accepts;
//! each request is read and answered on an internal thread of its own, with a
//! read timeout and a bound on how many run at once, so a silent or half-sent
//! request never delays the others. Requests are parsed by `httparse`; every
//! answer closes its connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::json;
use crate::threading::Thread;

/// The page: no external assets, it works offline.
const PAGE: &str = include_str!("page.html");
/// How long a request may take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests answered at once; past this a connection gets 503 at once.
const MAX_REQUESTS: usize = 128;
/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// The live thread page: an HTTP/1.1 server on threadkit's own (internal)
/// threads.
///
/// `GET /` is an HTML page that reads `/threads.json` every second and shows
/// every thread, what it waits on and who holds it, deadlocks first and in red;
/// `GET /threads.json` is `{"threads": [...], "deadlocks": [...]}` (every
/// [`ThreadInfo`](crate::threading::ThreadInfo) field, durations in seconds);
/// `GET /server.json` shows the counters a server registered with
/// [`register_server`](super::register_server) (404 until one did). Any other
/// path gets 404, a malformed request 400.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
/// use threadkit::monitor::Monitor;
///
/// # fn main() -> std::io::Result<()> {
/// let monitor = Monitor::bind("127.0.0.1:0")?;
/// let mut c = TcpStream::connect(monitor.local_addr())?;
/// c.write_all(b"GET /threads.json HTTP/1.1\r\nHost: x\r\n\r\n")?;
/// let mut answer = String::new();
/// c.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK"));
/// assert!(answer.contains("\"threads\""));
/// monitor.shutdown();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Monitor {
    addr: SocketAddr,
    /// Set by `shutdown`; the accept loop checks it after every accept.
    stopping: Arc<AtomicBool>,
    accept: Thread,
}

impl Monitor {
    /// Binds the page's server to `addr` and starts serving.
    ///
    /// # Errors
    ///
    /// What binding the address returns (in use, not local, ...), or a failure
    /// to start the accepting thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::monitor::Monitor;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let monitor = Monitor::bind("127.0.0.1:0")?;
    /// assert!(monitor.local_addr().ip().is_loopback());
    /// # monitor.shutdown();
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Monitor> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        let accept = Thread::builder()
            .name("monitor-accept")
            .internal()
            .target(move || accept_loop(&listener, &stop))
            .spawn()
            .map_err(io::Error::other)?;
        Ok(Monitor {
            addr,
            stopping,
            accept,
        })
    }

    /// The address the page is served on.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::monitor::Monitor;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let monitor = Monitor::bind("127.0.0.1:0")?;
    /// println!("http://{}/", monitor.local_addr());
    /// # monitor.shutdown();
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the accepting thread to end; requests
    /// being answered finish on their own threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpStream;
    /// use threadkit::monitor::Monitor;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let monitor = Monitor::bind("127.0.0.1:0")?;
    /// let addr = monitor.local_addr();
    /// monitor.shutdown();
    /// assert!(TcpStream::connect(addr).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wakes the blocked accept; it sees `stopping` and ends.
        let _ = TcpStream::connect(self.addr);
        let _ = self.accept.join();
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        // Only signals: the accept loop ends at its next wake-up.
        if !self.stopping.swap(true, Ordering::SeqCst) {
            let _ = TcpStream::connect(self.addr);
        }
    }
}

fn accept_loop(listener: &TcpListener, stopping: &AtomicBool) {
    let running = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else {
            // EMFILE and the like: back off a little rather than spin.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        if running.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS {
            running.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(&mut conn, 503, "text/plain", b"busy\n");
            continue;
        }
        let done = Arc::clone(&running);
        let spawned = Thread::builder()
            .name("monitor-request")
            .internal()
            .target(move || {
                let _ = serve(conn);
                done.fetch_sub(1, Ordering::SeqCst);
            })
            .spawn();
        if spawned.is_err() {
            running.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads one request head and answers it.
fn serve(mut conn: TcpStream) -> io::Result<()> {
    conn.set_read_timeout(Some(READ_TIMEOUT))?;
    conn.set_write_timeout(Some(READ_TIMEOUT))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let path = loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(()); // closed before a whole head
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                break (req.method == Some("GET")).then(|| req.path.unwrap_or("").to_string());
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            _ => return respond(&mut conn, 400, "text/plain", b"bad request\n"),
        }
    };
    match path.as_deref().map(|p| p.split('?').next().unwrap_or(p)) {
        Some("/") => respond(&mut conn, 200, "text/html; charset=utf-8", PAGE.as_bytes()),
        Some("/threads.json") => respond(
            &mut conn,
            200,
            "application/json",
            json::threads().as_bytes(),
        ),
        Some("/server.json") => match json::server() {
            Some(body) => respond(&mut conn, 200, "application/json", body.as_bytes()),
            None => respond(&mut conn, 404, "text/plain", b"no server registered\n"),
        },
        _ => respond(&mut conn, 404, "text/plain", b"not found\n"),
    }
}

fn respond(conn: &mut TcpStream, status: u16, kind: &str, body: &[u8]) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // One write: a separate small head would wait on Nagle's algorithm.
    let mut answer = head.into_bytes();
    answer.extend_from_slice(body);
    conn.write_all(&answer)?;
    conn.flush()
}
