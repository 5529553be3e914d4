//! [`TcpServer::handle_request`]: Python's `handle_request()`, one client at a
//! time from the caller's loop.

use std::io;
use std::time::Duration;

use super::{is_transient, listen, TcpServer};
use crate::server::events::ServerEvent;
use crate::server::shutdown::Serving;

impl TcpServer {
    /// Waits up to `timeout` (`None`: as long as it takes) for one client and
    /// serves it as `serve_forever` would (Python's `handle_request()`): on a
    /// thread of its own (thread per connection), to its end on the calling
    /// thread (synchronous), or by the workers (scalable, started by the
    /// first call). `Ok(false)` when no client came in time: that is where
    /// Python calls `handle_timeout()`, so a port does its timeout work there.
    ///
    /// A shutdown makes it return `Ok(false)` at once, then and later.
    ///
    /// # Errors
    ///
    /// An `accept` failure other than one connection's own (too many open
    /// files, say; it is also reported as a [`ServerEvent::AcceptError`]);
    /// `Other` while `serve_forever` or another `handle_request` runs;
    /// `InvalidInput` before [`server_activate`](TcpServer::server_activate).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use std::net::TcpStream;
    /// use std::time::Duration;
    /// use threadkit::server::{Echo, Model, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = ServerConfig { model: Model::Synchronous, ..Default::default() };
    /// let server = TcpServer::bind("127.0.0.1:0", config, Echo)?;
    /// // Nobody yet: Python would call handle_timeout() here.
    /// assert!(!server.handle_request(Some(Duration::from_millis(20)))?);
    ///
    /// let mut client = TcpStream::connect(server.local_addr())?;
    /// client.write_all(b"hi\n")?;
    /// client.shutdown(std::net::Shutdown::Write)?;
    /// assert!(server.handle_request(None)?); // served to its end, here
    /// let mut line = String::new();
    /// BufReader::new(&client).read_line(&mut line)?;
    /// assert_eq!(line, "hi\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn handle_request(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let server = &self.server;
        let shared = &server.shared;
        let _serving = Serving::enter(&server.serving)?;
        if shared.signal.requested() {
            return Ok(false);
        }
        server.check_activated()?;
        server.start_workers()?;
        // `serve_forever` sets its own timeout (or none) when it starts.
        let zero = Duration::from_nanos(1);
        server.listener.settimeout(timeout.map(|t| t.max(zero)))?;
        let accepted = loop {
            match listen::accept(&server.listener) {
                Err(e) if is_transient(&e) && !shared.signal.requested() => continue,
                other => break other,
            }
        };
        server.listener.settimeout(None)?;
        match accepted {
            Ok((sock, peer)) => {
                server.dispatch(sock, peer);
                Ok(true)
            }
            Err(_) if shared.signal.requested() => Ok(false),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(false)
            }
            Err(error) => {
                let message = error.to_string();
                let kind = error.kind();
                shared.events.emit(ServerEvent::AcceptError { error });
                Err(io::Error::new(kind, message))
            }
        }
    }
}
