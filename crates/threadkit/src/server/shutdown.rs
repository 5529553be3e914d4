//! [`ShutdownHandle`]: stops a server from any thread, a handler included.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::threading::Event;

/// What a server does when it is told to stop: wake everything that blocks
/// (the accept or receive call, each connection's read) without waiting for
/// anything. Implemented by the TCP and UDP servers' shared state.
pub(crate) trait Stop: Send + Sync {
    fn stop(&self);
}

/// The sticky "stop" flag of one server, and an [`Event`] that sleeping loops
/// (the accept back-off) wait on, so a shutdown cuts the sleep short.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    requested: AtomicBool,
    woken: Event,
}

impl Signal {
    /// Whether a shutdown was asked for.
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Sets the flag; true for the first caller only.
    fn request(&self) -> bool {
        let first = !self.requested.swap(true, Ordering::AcqRel);
        if first {
            self.woken.set();
        }
        first
    }

    /// Sleeps `d`, or less if a shutdown comes meanwhile.
    pub(crate) fn sleep(&self, d: Duration) {
        let _ = self.woken.wait_timeout(d);
    }
}

/// Stops a running server: Python's `server.shutdown()`, but it only signals.
///
/// Get one from [`TcpServer::shutdown_handle`](super::TcpServer::shutdown_handle)
/// or [`UdpServer::shutdown_handle`](super::UdpServer::shutdown_handle). It is
/// `Clone + Send + Sync`, so any thread may hold one, including a connection's
/// handler. [`shutdown`](ShutdownHandle::shutdown) never blocks: it wakes the
/// server's blocked `accept` (or `recvfrom`) by shutting the listening socket
/// down, and tells every connection to end (a line service's clients get
/// `* server shutting down`); `serve_forever` then returns promptly, and
/// `server_close` waits for the connection threads.
///
/// A shutdown is final: a server does not serve again afterwards (Python lets
/// `serve_forever` run again; the listening socket here is shut down).
///
/// The handle does not keep the server alive: after the server is dropped,
/// `shutdown` does nothing.
///
/// # Examples
///
/// ```
/// use threadkit::server::{Echo, ServerConfig, TcpServer};
///
/// # fn main() -> std::io::Result<()> {
/// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| {
///     let serving = s.spawn(|| server.serve_forever());
///     handle.shutdown(); // from any thread
///     serving.join().unwrap()
/// })?;
/// assert!(handle.is_shutdown());
/// server.server_close();
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ShutdownHandle {
    signal: Arc<Signal>,
    // Weak: a handle kept after the server was dropped must not keep its
    // listening socket (and port) alive.
    target: Weak<dyn Stop>,
}

impl ShutdownHandle {
    pub(crate) fn new(signal: Arc<Signal>, target: Weak<dyn Stop>) -> ShutdownHandle {
        ShutdownHandle { signal, target }
    }

    /// Asks the server to stop, and returns at once; calling it again does
    /// nothing.
    ///
    /// `serve_forever` returns soon after (in whichever thread runs it); the
    /// connections end on their own threads: see
    /// [`TcpServer::server_close`](super::TcpServer::server_close) to wait for
    /// them.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// server.shutdown_handle().shutdown();
    /// server.serve_forever()?; // returns at once: the server was stopped
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self) {
        if self.signal.request() {
            if let Some(target) = self.target.upgrade() {
                target.stop();
            }
        }
    }

    /// Whether [`shutdown`](ShutdownHandle::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// let handle = server.shutdown_handle();
    /// assert!(!handle.is_shutdown());
    /// handle.shutdown();
    /// assert!(handle.is_shutdown());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.signal.requested()
    }
}

impl fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

/// Marks a server's `serve_forever` as running until dropped; a second,
/// concurrent `serve_forever` is refused.
pub(crate) struct Serving<'a>(&'a AtomicBool);

impl<'a> Serving<'a> {
    /// Claims `flag` for this `serve_forever`.
    pub(crate) fn enter(flag: &'a AtomicBool) -> io::Result<Serving<'a>> {
        if flag.swap(true, Ordering::AcqRel) {
            return Err(io::Error::other("serve_forever is already running"));
        }
        Ok(Serving(flag))
    }
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
