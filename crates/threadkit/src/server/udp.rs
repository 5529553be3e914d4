//! [`UdpServer`], [`DatagramHandler`] and [`UdpEcho`]: Python's `UDPServer` and
//! `ThreadingUDPServer`.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use socket2::SockRef;

use super::bind::bind_first;
use super::config::{Model, ServerConfig};
use super::hooks::Actions;
use super::shutdown::{Serving, ShutdownHandle, Signal, Stop};
use super::threaded::ThreadSet;
use crate::socket::{family_of, Kind, Socket};
use crate::threading::panic_message;

/// The largest datagram served: the largest UDP payload over IPv4. A longer
/// one is dropped (and logged).
///
/// # Examples
///
/// ```
/// use threadkit::server::MAX_DATAGRAM;
///
/// // 65,535 (the IPv4 length field) - 20 (IP header) - 8 (UDP header).
/// assert_eq!(MAX_DATAGRAM, 65_535 - 20 - 8);
/// ```
pub const MAX_DATAGRAM: usize = 65_507;

/// The first pause after a failed receive; doubles up to a second.
const RECV_BACKOFF_MIN: Duration = Duration::from_millis(10);
const RECV_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long `server_close` waits for the pool's threads.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// The receive buffer asked of the system (it may grant less: Linux caps it at
/// `net.core.rmem_max`): a burst waits there while the pool catches up, instead
/// of being dropped.
const RECV_BUFFER: usize = 4 << 20;
/// Datagrams read but not yet taken by a pool thread; past it the serving
/// thread handles the next one itself.
const POOL_QUEUE: usize = 512;

/// A datagram waiting for a pool thread, with its sender.
type Datagram = (Vec<u8>, SocketAddr);

/// Handles one datagram: Python's `BaseRequestHandler` for a UDP server, whose
/// `request` is `(data, socket)`.
///
/// One handler value serves every datagram, possibly from several threads at
/// once (the server's pool), hence `&self` and `Send + Sync`: keep state
/// behind a lock or in atomics. `sock` is the server's socket: answer with
/// [`Socket::sendto`]`(.., peer)`. Any `Fn(&[u8], SocketAddr, &Socket) ->
/// io::Result<()>` closure is a handler too.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::SocketAddr;
/// use threadkit::server::DatagramHandler;
/// use threadkit::socket::Socket;
///
/// /// Answers with the datagram reversed.
/// struct Reverse;
///
/// impl DatagramHandler for Reverse {
///     fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
///         let reply: Vec<u8> = data.iter().rev().copied().collect();
///         sock.sendto(&reply, peer)?;
///         Ok(())
///     }
/// }
/// # let _ = Reverse;
/// ```
pub trait DatagramHandler: Send + Sync + 'static {
    /// Handles `data`, a datagram from `peer` received on `sock`.
    ///
    /// # Errors
    ///
    /// Whatever the handler's I/O fails with; the server logs it and goes on.
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()>;
}

impl<F> DatagramHandler for F
where
    F: Fn(&[u8], SocketAddr, &Socket) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
        self(data, peer, sock)
    }
}

/// Echoes each datagram to its sender, as is: what `threadkit udp-serve` runs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
/// use threadkit::socket::{Family, Kind, Socket};
///
/// # fn main() -> std::io::Result<()> {
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| -> std::io::Result<()> {
///     let serving = s.spawn(|| server.serve_forever());
///     let client = Socket::new(Family::Inet, Kind::Datagram)?;
///     client.settimeout(Some(Duration::from_secs(5)))?;
///     client.sendto(b"ping", server.local_addr())?;
///     assert_eq!(client.recvfrom(1024)?.0, b"ping");
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// server.server_close();
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpEcho;

impl DatagramHandler for UdpEcho {
    fn handle(&self, data: &[u8], peer: SocketAddr, sock: &Socket) -> io::Result<()> {
        sock.sendto(data, peer)?;
        Ok(())
    }
}

/// A UDP server: Python's `ThreadingUDPServer` (handlers on other threads, the
/// default) or `UDPServer` (each datagram handled on the serving thread).
///
/// It is used like [`TcpServer`](super::TcpServer): [`bind`](UdpServer::bind),
/// [`serve_forever`](UdpServer::serve_forever) on some thread, stop it with a
/// [`ShutdownHandle`], then [`server_close`](UdpServer::server_close).
///
/// With [`Model::ThreadPerConnection`], the serving thread only reads: it hands
/// each datagram to a small pool of threads named `tk-udp-0`, `tk-udp-1`, ...
/// that run the handler. The pool has `workers` threads (0, the default: one
/// per core, at least 2), at most `max_clients`, started by `serve_forever`.
/// Where Python starts a thread per datagram, which cannot keep up with a
/// burst (a thread start costs more than a datagram), the pool answers a burst
/// of 10,000 datagrams from 10 senders almost whole. While every pool thread
/// is busy, up to 512 datagrams wait for one; past that the serving thread
/// handles the next one itself (so a flood slows the server down instead of
/// growing memory; the system drops what its receive buffer cannot hold, as
/// UDP does). So at most `workers + 1` handlers run at once: a handler that
/// blocks for long holds a pool thread that long.
///
/// The server asks the system for a 4 MiB receive buffer (Linux grants at
/// most `net.core.rmem_max`). Datagrams longer than [`MAX_DATAGRAM`] bytes are
/// dropped. Of [`ServerConfig`], `model`, `workers`, `max_clients`,
/// `reuse_address`, `allow_reuse_port`, `verify_request` (a refused datagram
/// is dropped), `service_actions`, `daemon_threads`, `block_on_close` and
/// `handler_stack_size` apply. Handler errors are logged; a panic is caught and logged; the server
/// goes on. At shutdown, datagrams still waiting for a pool thread are dropped
/// (as those still in the system's buffer are).
///
/// [`Model::Scalable`] is refused (`InvalidInput`): a UDP server has a single
/// socket, so there are no connections to multiplex; the pool already bounds
/// its threads, and a handler gets the blocking `&Socket` to answer on, which
/// an event loop could not offer without a different handler trait.
///
/// # Examples
///
/// ```
/// use std::net::UdpSocket;
/// use std::time::Duration;
/// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
///
/// # fn main() -> std::io::Result<()> {
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
/// let addr = server.local_addr();
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| {
///     let serving = s.spawn(|| server.serve_forever());
///     let client = UdpSocket::bind("127.0.0.1:0")?;
///     client.set_read_timeout(Some(Duration::from_secs(5)))?;
///     client.send_to(b"ping", addr)?;
///     let mut buf = [0u8; 16];
///     let (n, _) = client.recv_from(&mut buf)?;
///     assert_eq!(&buf[..n], b"ping");
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// server.server_close();
/// # Ok(())
/// # }
/// ```
pub struct UdpServer {
    shared: Arc<UdpShared>,
}

struct UdpShared {
    sock: Arc<Socket>,
    local_addr: SocketAddr,
    config: ServerConfig,
    handler: Arc<dyn DatagramHandler>,
    signal: Arc<Signal>,
    /// The pool's threads, for `server_close` to join.
    threads: ThreadSet,
    /// How many threads the pool has.
    pool_size: usize,
    serving: AtomicBool,
}

impl UdpServer {
    /// Binds a UDP socket to `addr` (each resolved address in turn until one
    /// binds), with `config.reuse_address`, ready to serve `handler`; logs
    /// `listening on ADDR`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `config.model` is not one this server runs,
    /// `config.tls` is set (feature `tls`), or `addr` resolves to nothing; a
    /// bind error names the address; any other
    /// system error.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handler: impl DatagramHandler,
    ) -> io::Result<UdpServer> {
        // The scalable model is for many connections; a UDP server has one
        // socket (see the type's docs).
        match config.model {
            Model::ThreadPerConnection | Model::Synchronous => {}
            model => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the UDP server cannot run the {model:?} model"),
                ))
            }
        }
        config.check_tls(None)?;
        let sock = bind_first(addr, Kind::Datagram, &config)?;
        let local_addr = sock.getsockname()?;
        if let Err(e) = SockRef::from(&sock).set_recv_buffer_size(RECV_BUFFER) {
            log::debug!("threadkit: cannot enlarge the receive buffer of {local_addr}: {e}");
        }
        log::info!("listening on {local_addr}");
        let pool_size = match config.workers {
            0 => std::thread::available_parallelism()
                .map_or(1, NonZeroUsize::get)
                .max(2),
            n => n,
        }
        .min(config.max_clients.max(1));
        Ok(UdpServer {
            shared: Arc::new(UdpShared {
                sock: Arc::new(sock),
                local_addr,
                pool_size,
                config,
                handler: Arc::new(handler),
                signal: Arc::new(Signal::default()),
                threads: ThreadSet::default(),
                serving: AtomicBool::new(false),
            }),
        })
    }

    /// The server's socket (Python's `server.socket`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// assert_eq!(server.socket().getsockname()?, server.local_addr());
    /// # Ok(())
    /// # }
    /// ```
    pub fn socket(&self) -> &Socket {
        &self.shared.sock
    }

    /// The socket's descriptor (Python's `fileno()`); it stays the server's.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// assert!(server.fileno() >= 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fileno(&self) -> RawFd {
        self.shared.sock.as_raw_fd()
    }

    /// The address the server is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// assert!(server.local_addr().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// A handle that stops the server from any thread, a handler included.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// server.shutdown_handle().shutdown();
    /// server.serve_forever()?; // returns at once
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        let target: Arc<dyn Stop> = self.shared.clone();
        let target: Weak<dyn Stop> = Arc::downgrade(&target);
        ShutdownHandle::new(Arc::clone(&self.shared.signal), target)
    }

    /// Receives and handles datagrams until the server is shut down, then
    /// returns `Ok(())` promptly (the shutdown wakes the blocked receive).
    ///
    /// With [`Model::ThreadPerConnection`] it starts the pool's threads first
    /// (see [`UdpServer`]); they end soon after it returns, and
    /// [`server_close`](UdpServer::server_close) waits for them. A failing
    /// receive is logged and retried after a short back-off.
    ///
    /// # Errors
    ///
    /// `Other` when `serve_forever` is already running on another thread, or
    /// when not one pool thread could be started.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use std::time::Duration;
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// let addr = server.local_addr();
    /// let handle = server.shutdown_handle();
    /// std::thread::scope(|s| {
    ///     let serving = s.spawn(|| server.serve_forever());
    ///     let client = UdpSocket::bind("127.0.0.1:0")?;
    ///     client.set_read_timeout(Some(Duration::from_secs(5)))?;
    ///     client.send_to(b"ping", addr)?;
    ///     let mut buf = [0u8; 16];
    ///     let (n, _) = client.recv_from(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     handle.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// server.server_close();
    /// # Ok(())
    /// # }
    /// ```
    pub fn serve_forever(&self) -> io::Result<()> {
        let shared = &self.shared;
        let _serving = Serving::enter(&shared.serving)?;
        // Dropped when this returns, which tells the pool to end.
        let pool = match shared.config.model {
            Model::ThreadPerConnection => Some(shared.start_pool()?),
            // `bind` refuses the scalable model.
            Model::Synchronous | Model::Scalable => None,
        };
        let mut backoff = RECV_BACKOFF_MIN;
        let mut actions = Actions::new(shared.config.service_actions.as_ref(), &shared.sock)?;
        while !shared.signal.requested() {
            // One byte more than the limit, to see a longer datagram.
            let received = shared.sock.recvfrom(MAX_DATAGRAM + 1);
            actions.after_wait();
            match received {
                Ok(_) if shared.signal.requested() => break,
                Ok((data, peer)) => {
                    backoff = RECV_BACKOFF_MIN;
                    if data.len() > MAX_DATAGRAM {
                        log::warn!("threadkit: dropped a datagram of more than {MAX_DATAGRAM} bytes from {peer}");
                        continue;
                    }
                    if let Some(filter) = &shared.config.verify_request {
                        if !filter.allows(peer) {
                            log::debug!("threadkit: verify_request refused a datagram from {peer}");
                            continue;
                        }
                    }
                    match &pool {
                        Some(pool) => shared.dispatch(pool, (data, peer)),
                        None => shared.handle(&data, peer),
                    }
                }
                Err(_) if shared.signal.requested() => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || actions.timed_out(&e) => {}
                Err(e) => {
                    log::warn!("threadkit: receive failed on {}: {e}", shared.local_addr);
                    shared.signal.sleep(backoff);
                    backoff = (backoff * 2).min(RECV_BACKOFF_MAX);
                }
            }
        }
        Ok(())
    }

    /// Shuts the server down (if not done yet) and, with
    /// `config.block_on_close`, waits a few seconds at most for the pool's
    /// threads to finish the datagrams they are handling (Python's
    /// `server_close`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{ServerConfig, UdpEcho, UdpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), UdpEcho)?;
    /// server.server_close();
    /// # Ok(())
    /// # }
    /// ```
    pub fn server_close(&self) {
        self.shutdown_handle().shutdown();
        if self.shared.config.block_on_close {
            self.shared
                .threads
                .join_all(CLOSE_GRACE, || {}, Duration::ZERO);
        }
    }
}

impl Drop for UdpServer {
    /// Signals a shutdown; never waits.
    fn drop(&mut self) {
        self.shutdown_handle().shutdown();
    }
}

impl fmt::Debug for UdpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpServer")
            .field("local_addr", &self.shared.local_addr)
            .field("model", &self.shared.config.model)
            .field("pool_size", &self.shared.pool_size)
            .field("shutdown", &self.shared.signal.requested())
            .finish()
    }
}

impl UdpShared {
    /// Starts the pool's threads, each taking datagrams from one queue; the
    /// sending end feeds it.
    ///
    /// # Errors
    ///
    /// `Other` when not one thread could be started (fewer is logged).
    fn start_pool(self: &Arc<Self>) -> io::Result<SyncSender<Datagram>> {
        let (tx, rx) = mpsc::sync_channel(POOL_QUEUE);
        // One receiver for the whole pool: a thread holds the lock only while
        // it waits for the next datagram, never while it handles one.
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        let mut last_error = None;
        for i in 0..self.pool_size {
            let me = Arc::clone(self);
            let rx = Arc::clone(&rx);
            match self
                .threads
                .spawn(format!("tk-udp-{i}"), &self.config, move || me.work(&rx))
            {
                Ok(()) => started += 1,
                Err(e) => last_error = Some(e),
            }
        }
        match last_error {
            None => {}
            Some(e) if started == 0 => {
                return Err(io::Error::other(format!(
                    "cannot start the UDP server's threads: {e}"
                )))
            }
            Some(e) => log::warn!(
                "threadkit: started {started} of {} UDP pool threads: {e}",
                self.pool_size
            ),
        }
        Ok(tx)
    }

    /// A pool thread: handles datagrams until the serving loop has ended and
    /// dropped the sender. After a shutdown request it drops what is left
    /// unhandled, so that it ends promptly.
    fn work(&self, rx: &Mutex<Receiver<Datagram>>) {
        loop {
            let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
            let Ok((data, peer)) = next else {
                return;
            };
            if !self.signal.requested() {
                self.handle(&data, peer);
            }
        }
    }

    /// Hands a datagram to the pool, or handles it here when the pool's queue
    /// is full (backpressure) or the pool is gone.
    fn dispatch(&self, pool: &SyncSender<Datagram>, datagram: Datagram) {
        match pool.try_send(datagram) {
            Ok(()) => {}
            Err(TrySendError::Full((data, peer)) | TrySendError::Disconnected((data, peer))) => {
                self.handle(&data, peer);
            }
        }
    }

    /// Runs the handler on one datagram; errors and panics are logged.
    fn handle(&self, data: &[u8], peer: SocketAddr) {
        match panic::catch_unwind(AssertUnwindSafe(|| {
            self.handler.handle(data, peer, &self.sock)
        })) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("threadkit: the datagram handler failed for {peer}: {e}"),
            Err(payload) => log::error!(
                "threadkit: the datagram handler panicked for {peer}: {}",
                panic_message(payload.as_ref())
            ),
        }
    }
}

impl Stop for UdpShared {
    fn stop(&self) {
        // Wake the blocked `recvfrom` with an empty datagram to the server's
        // own address: the loop sees the flag and leaves. (`shutdown(Read)`
        // wakes it too on Linux, but the address it then reports is empty, which
        // std's `recv_from` does not expect.)
        let mut target = self.local_addr;
        if target.ip().is_unspecified() {
            target.set_ip(match target {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        let sent = Socket::new(family_of(&target), Kind::Datagram)
            .and_then(|waker| waker.sendto(&[], target));
        if let Err(e) = sent {
            log::warn!("threadkit: cannot wake the UDP server on {target}: {e}");
        }
    }
}
