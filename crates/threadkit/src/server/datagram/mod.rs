//! [`DatagramServer`]: Python's `UDPServer` and `ThreadingUDPServer` over UDP
//! ([`UdpServer`]) or a Unix socket ([`UnixDatagramServer`]), one code for
//! both; `handler.rs` has what it runs, `inet.rs` and `unix.rs` how each
//! binds.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use socket2::SockRef;

mod handler;
mod inet;
mod unix;

pub use handler::{reply_unix, DatagramHandler, UdpEcho};

use super::config::{Model, ServerConfig};
use super::hooks::Actions;
use super::peer::{Address, Peer};
use super::shutdown::{Serving, ShutdownHandle, Signal, Stop};
use super::threaded::ThreadSet;
use super::unix_path::SocketPath;
use crate::socket::{family_of, Family, Kind, Socket, UnixAddr};
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
type Datagram = (Vec<u8>, Peer);

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
pub struct DatagramServer<A: Address> {
    shared: Arc<UdpShared>,
    /// The address it is bound to (`local_addr`).
    local: A,
}

/// A UDP server (Python's `UDPServer` / `ThreadingUDPServer`): see
/// [`DatagramServer`], whose [`bind`](DatagramServer::<SocketAddr>::bind)
/// takes a `HOST:PORT`.
pub type UdpServer = DatagramServer<SocketAddr>;

/// A Unix-domain datagram server (Python's `UnixDatagramServer` /
/// `ThreadingUnixDatagramServer`): see [`DatagramServer`], whose
/// [`bind`](DatagramServer::<UnixAddr>::bind) takes a path.
pub type UnixDatagramServer = DatagramServer<UnixAddr>;

struct UdpShared {
    sock: Arc<Socket>,
    /// The address it is bound to, as logs show it.
    local: Peer,
    /// The socket file a Unix server made, removed when it closes.
    path: Mutex<Option<SocketPath>>,
    config: ServerConfig,
    handler: Arc<dyn DatagramHandler>,
    signal: Arc<Signal>,
    /// The pool's threads, for `server_close` to join.
    threads: ThreadSet,
    /// How many threads the pool has.
    pool_size: usize,
    serving: AtomicBool,
}

impl<A: Address> DatagramServer<A> {
    /// A server on `sock`, bound to `local` (the socket file `path`), ready
    /// to serve `handler`; logs `listening on ADDR`.
    fn new(
        sock: Socket,
        local: A,
        path: Option<SocketPath>,
        config: ServerConfig,
        handler: impl DatagramHandler,
    ) -> DatagramServer<A> {
        let shown: Peer = local.clone().into();
        if let Err(e) = SockRef::from(&sock).set_recv_buffer_size(RECV_BUFFER) {
            log::debug!("threadkit: cannot enlarge the receive buffer of {shown}: {e}");
        }
        log::info!("listening on {shown}");
        let pool_size = match config.workers {
            0 => std::thread::available_parallelism()
                .map_or(1, NonZeroUsize::get)
                .max(2),
            n => n,
        }
        .min(config.max_clients.max(1));
        DatagramServer {
            shared: Arc::new(UdpShared {
                sock: Arc::new(sock),
                local: shown,
                path: Mutex::new(path),
                pool_size,
                config,
                handler: Arc::new(handler),
                signal: Arc::new(Signal::default()),
                threads: ThreadSet::default(),
                serving: AtomicBool::new(false),
            }),
            local,
        }
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
    pub fn local_addr(&self) -> A {
        self.local.clone()
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
            let received = receive(&shared.sock);
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
                        if !filter.allows(peer.socket_addr()) {
                            log::debug!("threadkit: verify_request refused a datagram from {peer}");
                            continue;
                        }
                    }
                    match &pool {
                        Some(pool) => shared.dispatch(pool, (data, peer)),
                        None => shared.handle(&data, &peer),
                    }
                }
                Err(_) if shared.signal.requested() => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || actions.timed_out(&e) => {}
                Err(e) => {
                    log::warn!("threadkit: receive failed on {}: {e}", shared.local);
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
        drop(
            self.shared
                .path
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if self.shared.config.block_on_close {
            self.shared
                .threads
                .join_all(CLOSE_GRACE, || {}, Duration::ZERO);
        }
    }
}

impl<A: Address> Drop for DatagramServer<A> {
    /// Signals a shutdown; never waits.
    fn drop(&mut self) {
        self.shutdown_handle().shutdown();
    }
}

impl<A: Address> fmt::Debug for DatagramServer<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(A::DATAGRAM_SERVER)
            .field("local_addr", &self.local)
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
                self.handle(&data, &peer);
            }
        }
    }

    /// Hands a datagram to the pool, or handles it here when the pool's queue
    /// is full (backpressure) or the pool is gone.
    fn dispatch(&self, pool: &SyncSender<Datagram>, datagram: Datagram) {
        match pool.try_send(datagram) {
            Ok(()) => {}
            Err(TrySendError::Full((data, peer)) | TrySendError::Disconnected((data, peer))) => {
                self.handle(&data, &peer);
            }
        }
    }

    /// Runs the handler on one datagram; errors and panics are logged.
    fn handle(&self, data: &[u8], peer: &Peer) {
        match panic::catch_unwind(AssertUnwindSafe(|| match peer {
            Peer::Inet(addr) => self.handler.handle(data, *addr, &self.sock),
            Peer::Unix(addr) => self.handler.handle_unix(data, addr, &self.sock),
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
        let sent = match &self.local {
            Peer::Inet(addr) => {
                let mut target = *addr;
                if target.ip().is_unspecified() {
                    target.set_ip(match target {
                        SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                        SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
                    });
                }
                Socket::new(family_of(&target), Kind::Datagram)
                    .and_then(|waker| waker.sendto(&[], target))
            }
            Peer::Unix(addr) => {
                UnixDatagram::unbound().and_then(|waker| waker.send_to_addr(&[], addr))
            }
        };
        if let Err(e) = sent {
            log::warn!(
                "threadkit: cannot wake the datagram server on {}: {e}",
                self.local
            );
        }
    }
}

/// `InvalidInput` unless a datagram server runs `config`: not the scalable
/// model, which is for many connections while a datagram server has one
/// socket (see [`DatagramServer`]), and not TLS.
fn check(config: &ServerConfig) -> io::Result<()> {
    config.check_tls(None)?;
    match config.model {
        Model::ThreadPerConnection | Model::Synchronous => Ok(()),
        model => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the UDP server cannot run the {model:?} model"),
        )),
    }
}

/// The next datagram on `sock`, with one byte more than [`MAX_DATAGRAM`] to see
/// a longer one, and its sender.
fn receive(sock: &Socket) -> io::Result<Datagram> {
    if sock.family() == Family::Unix {
        let (data, from) = sock.recvfrom_unix(MAX_DATAGRAM + 1)?;
        Ok((data, from.into()))
    } else {
        let (data, from) = sock.recvfrom(MAX_DATAGRAM + 1)?;
        Ok((data, from.into()))
    }
}
