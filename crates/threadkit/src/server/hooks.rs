//! The callbacks a [`ServerConfig`](super::ServerConfig) carries, Python's
//! `BaseServer` hooks: [`RequestFilter`] (`verify_request`) and
//! [`ServiceActions`] (`service_actions`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::socket::Socket;

/// Python's `verify_request(request, client_address)`: decides, before
/// anything is read, whether a client is served. A refused TCP client is
/// closed at once (the service never hears of it; the disconnect's reason is
/// `refused`); a refused datagram is dropped.
///
/// Two filters are equal when they are clones of one another.
///
/// # Examples
///
/// ```
/// use threadkit::server::{RequestFilter, ServerConfig};
///
/// let only_loopback = RequestFilter::new(|peer| peer.ip().is_loopback());
/// assert!(only_loopback.allows("127.0.0.1:4000".parse().unwrap()));
/// assert!(!only_loopback.allows("[2001:db8::1]:4000".parse().unwrap()));
/// let config = ServerConfig { verify_request: Some(only_loopback), ..Default::default() };
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct RequestFilter(Arc<dyn Fn(SocketAddr) -> bool + Send + Sync>);

impl RequestFilter {
    /// A filter that serves the clients for which `allow` returns true. It
    /// runs on the accepting (or receiving) thread, so it must be quick.
    #[must_use]
    pub fn new(allow: impl Fn(SocketAddr) -> bool + Send + Sync + 'static) -> RequestFilter {
        RequestFilter(Arc::new(allow))
    }

    /// Whether a client at `peer` is served. A panicking filter refuses it
    /// (the panic is logged).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::RequestFilter;
    ///
    /// let no_one = RequestFilter::new(|_| false);
    /// assert!(!no_one.allows("127.0.0.1:1".parse().unwrap()));
    /// ```
    pub fn allows(&self, peer: SocketAddr) -> bool {
        let allow = &self.0;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| allow(peer))).unwrap_or_else(
            |_| {
                log::error!("threadkit: verify_request panicked for {peer}: refused");
                false
            },
        )
    }
}

impl PartialEq for RequestFilter {
    fn eq(&self, other: &RequestFilter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RequestFilter {}

impl fmt::Debug for RequestFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestFilter(..)")
    }
}

/// Python's `service_actions()`: a callback `serve_forever` runs on its own
/// thread between waits for clients (or datagrams), at most every
/// `interval` (Python polls every 0.5 s: [`ServiceActions::new`]'s default)
/// and after each client when the interval has passed. A panicking callback
/// is logged and the server goes on.
///
/// Two values are equal when they are clones of one another with the same
/// interval.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::server::{Echo, ServerConfig, ServiceActions, TcpServer};
///
/// # fn main() -> std::io::Result<()> {
/// let ticks = Arc::new(AtomicUsize::new(0));
/// let t = Arc::clone(&ticks);
/// let actions = ServiceActions::new(move || { t.fetch_add(1, Ordering::Relaxed); })
///     .every(Duration::from_millis(10));
/// let config = ServerConfig { service_actions: Some(actions), ..Default::default() };
/// let server = TcpServer::bind("127.0.0.1:0", config, Echo)?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| {
///     let serving = s.spawn(|| server.serve_forever());
///     while ticks.load(Ordering::Relaxed) < 3 {
///         std::thread::sleep(Duration::from_millis(5));
///     }
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ServiceActions {
    action: Arc<dyn Fn() + Send + Sync>,
    interval: Duration,
}

impl ServiceActions {
    /// Runs `action` every 0.5 s at most, as Python's `serve_forever(0.5)`.
    #[must_use]
    pub fn new(action: impl Fn() + Send + Sync + 'static) -> ServiceActions {
        ServiceActions {
            action: Arc::new(action),
            interval: Duration::from_millis(500),
        }
    }

    /// The same action at most every `interval` (at least 1 ms).
    #[must_use]
    pub fn every(self, interval: Duration) -> ServiceActions {
        ServiceActions {
            interval: interval.max(Duration::from_millis(1)),
            ..self
        }
    }

    /// How often it runs at most.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::server::ServiceActions;
    ///
    /// assert_eq!(ServiceActions::new(|| {}).interval(), Duration::from_millis(500));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Runs the action once, catching a panic.
    pub(crate) fn run(&self) {
        let action = &self.action;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| action())).is_err() {
            log::error!("threadkit: service_actions panicked; the server goes on");
        }
    }
}

impl PartialEq for ServiceActions {
    fn eq(&self, other: &ServiceActions) -> bool {
        Arc::ptr_eq(&self.action, &other.action) && self.interval == other.interval
    }
}

impl Eq for ServiceActions {}

impl fmt::Debug for ServiceActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceActions")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// How a serving loop runs [`ServiceActions`]: its blocking call (`accept`,
/// `recvfrom`) gets the interval as its timeout, and after each return the
/// action runs if the interval has passed.
pub(crate) struct Actions<'a> {
    actions: Option<&'a ServiceActions>,
    last: Instant,
}

impl<'a> Actions<'a> {
    /// Sets `sock`'s timeout to the interval when there are actions.
    pub(crate) fn new(
        actions: Option<&'a ServiceActions>,
        sock: &Socket,
    ) -> io::Result<Actions<'a>> {
        if let Some(a) = actions {
            sock.settimeout(Some(a.interval))?;
        }
        Ok(Actions {
            actions,
            last: Instant::now(),
        })
    }

    /// Runs the action if its interval has passed.
    pub(crate) fn after_wait(&mut self) {
        if let Some(a) = self.actions {
            if self.last.elapsed() >= a.interval {
                a.run();
                self.last = Instant::now();
            }
        }
    }

    /// Whether `e` is only the interval's timeout.
    pub(crate) fn timed_out(&self, e: &io::Error) -> bool {
        self.actions.is_some()
            && matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            )
    }
}
