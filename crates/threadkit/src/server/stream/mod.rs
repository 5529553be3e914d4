//! [`TcpServer`]: Python's `TCPServer` / `ThreadingTCPServer`.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use socket2::SockRef;

mod inet;
mod listen;
mod request;
mod unix;

use listen::is_transient;

use super::config::{Model, ServerConfig};
use super::conn::{CloseReason, ConnId};
use super::connection;
use super::events::ServerEvent;
use super::hooks::Actions;
use super::lines;
use super::peer::{Address, Client, Peer};
use super::scalable::{Accepted, Hub};
use super::service::{Service, ServiceKind};
use super::shared::Shared;
use super::shutdown::{Serving, ShutdownHandle, Stop};
use super::threaded::{self, Slot, Slots, ThreadSet};
use super::unix_path::SocketPath;
use crate::monitor::ServerCounters;
use crate::socket::{Socket, UnixAddr};

/// The first pause after a failed `accept`; it doubles on each failure in a
/// row, up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest pause after failed `accept`s.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long `server_close` waits for connection threads before shutting their
/// sockets down hard.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// How long it waits after that.
const CLOSE_FORCED: Duration = Duration::from_secs(1);

/// A stream server, over TCP ([`TcpServer`]: Python's
/// `socketserver.ThreadingTCPServer`, or `TCPServer` with one client at a
/// time) or a Unix socket ([`UnixStreamServer`]: `ThreadingUnixStreamServer`,
/// `UnixStreamServer`), running a line protocol or a blocking handler. `A` is
/// the address type it binds to (see [`Address`]); both kinds run the same
/// code, models, limits and events, and differ only in how they bind.
///
/// [`bind`](TcpServer::bind) binds and listens;
/// [`serve_forever`](TcpServer::serve_forever) accepts clients until a
/// [`ShutdownHandle`] stops it; [`server_close`](TcpServer::server_close) waits
/// for the clients' threads. The server is `Send + Sync`: serve from one thread
/// and stop it from any other.
///
/// With [`Model::ThreadPerConnection`], each client gets a threadkit
/// [`Thread`](crate::threading::Thread) named `client ADDR`, so
/// [`threading::dump()`](crate::threading::dump) shows who is connected. A line
/// connection also gets a `client ADDR writer` thread while it reads slower
/// than the server writes to it. With [`Model::Synchronous`], the thread that
/// calls `serve_forever` serves each client in turn; the others wait in the
/// listen backlog. With [`Model::Scalable`], a few internal worker threads
/// serve every client (see [`server`](super) "The scalable model"); the thread
/// in `serve_forever` only accepts.
///
/// # Line services
///
/// For a [`LineService`](super::LineService), the server does the framing and
/// enforces every limit of [`ServerConfig`] (see [`server`](super) "Line
/// protocols"): the service only sees valid lines. Every service call and the
/// queueing of what it sends run under one lock per server, so every client
/// sees the others' lines in the same order. Each connection has its own
/// output queue: a line for a client is written at once when its socket takes
/// it, and queued for the client's writer thread otherwise, so a client that
/// stops reading blocks no one; its own answers make the server stop reading
/// it once `max_queue` bytes wait (echo), anyone else's lines past `max_queue`
/// drop it as `too slow` (chat).
///
/// # Handlers
///
/// A [`RequestHandler`](super::RequestHandler) gets the blocking socket and
/// owns it until `handle` returns; only `max_clients` and the thread settings
/// apply. An error it returns is logged; a panic is caught and logged, and the
/// connection's slot is given back either way.
///
/// # Events
///
/// The server reports through the `log` facade (`listening on ADDR`,
/// `connect ADDR`, `disconnect ADDR (REASON)`, accept errors) and never prints;
/// [`on_event`](TcpServer::on_event) also hands each [`ServerEvent`] to a
/// callback, for a program that prints them.
///
/// # Examples
///
/// An echo server on a free port, one client, and a clean stop:
///
/// ```
/// use std::io::{BufRead, BufReader};
/// use std::time::Duration;
/// use threadkit::server::{Echo, ServerConfig, TcpServer};
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
/// let handle = server.shutdown_handle();
/// std::thread::scope(|s| -> std::io::Result<()> {
///     let serving = s.spawn(|| server.serve_forever());
///     let client = socket::create_connection(server.local_addr(), Some(Duration::from_secs(5)))?;
///     client.sendall(b"hello\n")?;
///     let mut line = String::new();
///     BufReader::new(&client).read_line(&mut line)?;
///     assert_eq!(line, "hello\n");
///     handle.shutdown();
///     serving.join().unwrap()
/// })?;
/// server.server_close();
/// # Ok(())
/// # }
/// ```
pub struct StreamServer<A: Address> {
    server: Arc<Server>,
    /// The address it listens on (`local_addr`).
    local: A,
}

/// A TCP server (Python's `TCPServer` / `ThreadingTCPServer`): see
/// [`StreamServer`], whose [`bind`](StreamServer::<SocketAddr>::bind) takes a
/// `HOST:PORT`.
pub type TcpServer = StreamServer<SocketAddr>;

/// A Unix-domain stream server (Python's `UnixStreamServer` /
/// `ThreadingUnixStreamServer`): see [`StreamServer`], whose
/// [`bind`](StreamServer::<UnixAddr>::bind) takes a path.
pub type UnixStreamServer = StreamServer<UnixAddr>;
/// The server's own part: the listener, the client slots and the threads or
/// workers it started, around the [`Shared`] state its loops read.
struct Server {
    /// What the connection loops share.
    shared: Arc<Shared>,
    listener: Socket,
    /// The address it listens on, as logs show it.
    local: Peer,
    /// The socket file a Unix server made, removed when it closes.
    path: Mutex<Option<SocketPath>>,
    /// The client slots (`max_clients`).
    slots: Arc<Slots>,
    next_id: AtomicU64,
    /// The connection threads, for `server_close`.
    threads: ThreadSet,
    /// `serve_forever` is running.
    serving: AtomicBool,
    /// The socket listens (`server_activate`).
    activated: AtomicBool,
    /// The scalable model's workers, once `serve_forever` started them.
    hub: OnceLock<Arc<Hub>>,
}

impl<A: Address> StreamServer<A> {
    /// A server on `listener` (bound, not listening yet), which listens on
    /// `local` and made the socket file `path`.
    fn new(
        listener: Socket,
        local: A,
        path: Option<SocketPath>,
        config: ServerConfig,
        service: Service,
    ) -> io::Result<StreamServer<A>> {
        let server = Arc::new(Server {
            listener,
            local: local.clone().into(),
            path: Mutex::new(path),
            slots: Slots::new(config.max_clients),
            shared: Arc::new(Shared::new(config, service)),
            next_id: AtomicU64::new(1),
            threads: ThreadSet::default(),
            serving: AtomicBool::new(false),
            activated: AtomicBool::new(false),
            hub: OnceLock::new(),
        });
        Ok(StreamServer { server, local })
    }

    /// Listens (Python's `server_activate()`) with `config.backlog`; logs
    /// `listening on ADDR`. [`bind`](TcpServer::bind) calls it; after
    /// [`bind_without_activate`](TcpServer::bind_without_activate) it is
    /// yours to call, once (later calls do nothing).
    ///
    /// # Errors
    ///
    /// What `listen(2)` fails with.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind_without_activate("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// server.server_activate()?;
    /// server.server_activate()?; // already listening: nothing more
    /// # Ok(())
    /// # }
    /// ```
    pub fn server_activate(&self) -> io::Result<()> {
        let server = &self.server;
        if server.activated.load(Ordering::Acquire) {
            return Ok(());
        }
        server.listener.listen(server.shared.config.backlog)?;
        server.activated.store(true, Ordering::Release);
        log::info!("listening on {}", server.local);
        Ok(())
    }

    /// The listening socket (Python's `server.socket`): its options can be
    /// read, or set through `socket2::SockRef::from(server.socket())`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// assert_eq!(server.socket().getsockname()?, server.local_addr());
    /// # Ok(())
    /// # }
    /// ```
    pub fn socket(&self) -> &Socket {
        &self.server.listener
    }

    /// The listening socket's descriptor (Python's `fileno()`), for a
    /// selector; it stays the server's.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// assert!(server.fileno() >= 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fileno(&self) -> RawFd {
        self.server.listener.as_raw_fd()
    }

    /// The address the server listens on (with the real port when port 0 was
    /// asked for).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> A {
        self.local.clone()
    }

    /// The server's configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, Model, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = ServerConfig { model: Model::Synchronous, ..Default::default() };
    /// let server = TcpServer::bind("127.0.0.1:0", config, Echo)?;
    /// assert_eq!(server.config().model, Model::Synchronous);
    /// # Ok(())
    /// # }
    /// ```
    pub fn config(&self) -> &ServerConfig {
        &self.server.shared.config
    }

    /// How many clients are connected now (refused ones not counted).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// assert_eq!(server.client_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_count(&self) -> usize {
        self.server.slots.active()
    }

    /// A handle that stops the server from any thread (see [`ShutdownHandle`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// let handle = server.shutdown_handle();
    /// let stopper = std::thread::spawn(move || handle.shutdown());
    /// server.serve_forever()?; // returns once the other thread stopped it
    /// stopper.join().unwrap();
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        let target: Arc<dyn Stop> = self.server.clone();
        let target: Weak<dyn Stop> = Arc::downgrade(&target);
        ShutdownHandle::new(Arc::clone(&self.server.shared.signal), target)
    }

    /// Calls `observer` with every [`ServerEvent`] from now on (replacing an
    /// earlier observer): each connect, each disconnect with its reason, each
    /// accept error. Set it before `serve_forever`.
    ///
    /// The observer runs on the thread where the event happens (the serving
    /// thread, a connection's thread), outside the server's locks; keep it
    /// short. A panic in it is logged and otherwise ignored. The events also go
    /// to the `log` facade, whether an observer is set or not.
    ///
    /// # Examples
    ///
    /// Printing what the `threadkit serve` program prints:
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// server.on_event(|event| eprintln!("{event}")); // connect ADDR, disconnect ADDR (REASON)
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_event(&self, observer: impl Fn(&ServerEvent) + Send + Sync + 'static) {
        self.server.shared.events.set(Arc::new(observer));
    }

    /// The server's counters now: clients connected, accepted, refused, lines in
    /// and out (lines the service sent; a broadcast counts once), disconnects by
    /// reason. What [`Monitor`](crate::monitor::Monitor) shows at `/server.json`
    /// once passed to [`register_server`](crate::monitor::register_server).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::monitor::register_server;
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Arc::new(TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?);
    /// assert_eq!(server.counters().accepted, 0);
    /// let s = Arc::clone(&server);
    /// register_server(move || s.counters());
    /// # Ok(())
    /// # }
    /// ```
    pub fn counters(&self) -> ServerCounters {
        self.server.shared.events.stats.counters()
    }

    /// Accepts and serves clients until the server is shut down, then returns
    /// `Ok(())` promptly (Python's `serve_forever`; there is no polling
    /// interval: the shutdown wakes the blocked `accept`).
    ///
    /// A failing `accept` (too many open files, say) is reported (log and
    /// [`ServerEvent::AcceptError`]) and retried after a short back-off that
    /// grows to a second while the failures go on. With
    /// [`Model::Synchronous`], each client is served on this thread before the
    /// next is accepted. On return, every connection has been told to end
    /// (line clients get `* server shutting down`); their threads may still be
    /// finishing: [`server_close`](TcpServer::server_close) waits for them.
    /// After a shutdown, it returns at once.
    ///
    /// # Errors
    ///
    /// `Other` when `serve_forever` is already running on another thread;
    /// `InvalidInput` after [`bind_without_activate`](TcpServer::bind_without_activate)
    /// until [`server_activate`](TcpServer::server_activate); with
    /// [`Model::Scalable`], the system's error when the worker threads or
    /// their event loops cannot be created.
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
    ///     handle.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn serve_forever(&self) -> io::Result<()> {
        let server = &self.server;
        let shared = &server.shared;
        let _serving = Serving::enter(&server.serving)?;
        server.check_activated()?;
        server.start_workers()?;
        let mut backoff = ACCEPT_BACKOFF_MIN;
        let mut actions = Actions::new(shared.config.service_actions.as_ref(), &server.listener)?;
        while !shared.signal.requested() {
            let accepted = listen::accept(&server.listener);
            actions.after_wait();
            match accepted {
                Ok((sock, peer)) => {
                    backoff = ACCEPT_BACKOFF_MIN;
                    server.dispatch(sock, peer);
                }
                Err(_) if shared.signal.requested() => break,
                Err(e) if is_transient(&e) || actions.timed_out(&e) => {}
                Err(error) => {
                    shared.events.emit(ServerEvent::AcceptError { error });
                    shared.signal.sleep(backoff);
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
            }
        }
        if let Some(hub) = server.hub.get() {
            // The workers see the shutdown even if it came before they were
            // known to `stop`.
            hub.stop();
        }
        Ok(())
    }

    /// Shuts the server down (if that was not done yet) and, when
    /// `config.block_on_close` is set, waits for the connection threads to end
    /// (Python's `server_close`); otherwise returns at once.
    ///
    /// The wait is bounded: connection threads get a few seconds to end (line
    /// connections flush their last lines within that), then the sockets of
    /// the ones left are shut down both ways, and after one more second the
    /// threads still running are logged and left behind. Called from a
    /// connection's own thread, it does not wait for that thread. In the
    /// synchronous model the client being served runs on the serving thread:
    /// join that thread to wait for it. A Unix server removes the socket file
    /// it made (if it is still the one it made).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::{Echo, ServerConfig, TcpServer};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpServer::bind("127.0.0.1:0", ServerConfig::default(), Echo)?;
    /// server.server_close(); // never served: closes at once
    /// assert!(server.shutdown_handle().is_shutdown());
    /// # Ok(())
    /// # }
    /// ```
    pub fn server_close(&self) {
        self.shutdown_handle().shutdown();
        let server = &self.server;
        drop(
            server
                .path
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if server.shared.config.block_on_close {
            if let Some(hub) = server.hub.get() {
                hub.join(CLOSE_GRACE + CLOSE_FORCED);
            }
            server.threads.join_all(
                CLOSE_GRACE,
                || {
                    for conn in server.shared.conns().values() {
                        conn.force_close();
                    }
                },
                CLOSE_FORCED,
            );
        }
    }
}

impl<A: Address> Drop for StreamServer<A> {
    /// Signals a shutdown (as [`ShutdownHandle::shutdown`]); never waits.
    fn drop(&mut self) {
        self.shutdown_handle().shutdown();
    }
}

impl<A: Address> fmt::Debug for StreamServer<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(A::STREAM_SERVER)
            .field("local_addr", &self.local)
            .field("model", &self.server.shared.config.model)
            .field("service", &self.server.shared.service)
            .field("clients", &self.client_count())
            .field("shutdown", &self.server.shared.signal.requested())
            .finish()
    }
}

impl Server {
    /// `InvalidInput` until `server_activate` listened.
    fn check_activated(&self) -> io::Result<()> {
        if self.activated.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the server is not listening: call server_activate() first",
            ))
        }
    }

    /// Starts the scalable model's workers, once (before the first accept).
    fn start_workers(&self) -> io::Result<()> {
        let shared = &self.shared;
        if let (Model::Scalable, ServiceKind::Lines(service)) =
            (shared.config.model, shared.service.kind())
        {
            if !shared.signal.requested() && self.hub.get().is_none() {
                let hub = Hub::start(shared, Arc::clone(service))?;
                let _ = self.hub.set(hub);
            }
        }
        Ok(())
    }

    /// Serves one accepted client: refused when full, else on a thread of its
    /// own or right here.
    fn dispatch(&self, sock: Socket, peer: Peer) {
        let id = ConnId::new(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.shared.events.emit(ServerEvent::Connect {
            conn: id,
            peer: peer.clone(),
        });
        if let Some(filter) = &self.shared.config.verify_request {
            if !filter.allows(peer.socket_addr()) {
                self.refuse(sock, peer, id, CloseReason::Refused);
                return;
            }
        }
        let Some(slot) = self.slots.try_take() else {
            self.refuse(sock, peer, id, CloseReason::Full);
            return;
        };
        match self.shared.config.model {
            Model::Scalable => self.hand_over(sock, peer, id, slot),
            Model::Synchronous => connection::run(&self.shared, sock, peer, id, slot),
            Model::ThreadPerConnection => {
                let shared = Arc::clone(&self.shared);
                let name = threaded::client_thread_name(Client(&peer, id));
                let body = {
                    let peer = peer.clone();
                    move || connection::run(&shared, sock, peer, id, slot)
                };
                if let Err(e) = self.threads.spawn(name, &self.shared.config, body) {
                    // The closure, with the socket and the slot, is dropped.
                    log::error!(
                        "threadkit: cannot start a thread for {}: {e}",
                        Client(&peer, id)
                    );
                    self.shared.events.emit(ServerEvent::Disconnect {
                        conn: id,
                        peer,
                        reason: CloseReason::Error,
                    });
                }
            }
        }
    }

    /// Hands a client to a worker of the scalable model.
    fn hand_over(&self, sock: Socket, peer: Peer, id: ConnId, slot: Slot) {
        let Some(hub) = self.hub.get() else {
            // Not reached: serve_forever starts the workers before it accepts.
            drop((sock, slot));
            self.shared.events.emit(ServerEvent::Disconnect {
                conn: id,
                peer,
                reason: CloseReason::Error,
            });
            return;
        };
        let accepted = Accepted {
            stream: OwnedFd::from(sock).into(),
            peer,
            id,
            slot,
        };
        if let Err(Accepted {
            stream, slot, peer, ..
        }) = hub.dispatch(accepted)
        {
            // The workers have ended: the server is shutting down.
            let notice = format!("{}\n", lines::SHUTTING_DOWN);
            let _ = SockRef::from(&stream)
                .send_with_flags(notice.as_bytes(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL);
            let _ = stream.shutdown(Shutdown::Write);
            drop((stream, slot));
            self.shared.events.emit(ServerEvent::Disconnect {
                conn: id,
                peer,
                reason: CloseReason::Shutdown,
            });
        }
    }

    /// A client the server does not serve, closed at once; the service never
    /// hears of it. Beyond `max_clients` (`full`), a line service's client
    /// gets `* error: server full` first; one `verify_request` refused
    /// (`refused`) is told nothing, as in Python.
    fn refuse(&self, sock: Socket, peer: Peer, id: ConnId, reason: CloseReason) {
        if let (CloseReason::Full, ServiceKind::Lines(_)) = (reason, self.shared.service.kind()) {
            let notice = format!("{}\n", lines::SERVER_FULL);
            let _ = SockRef::from(&sock)
                .send_with_flags(notice.as_bytes(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL);
        }
        let _ = sock.shutdown(Shutdown::Write);
        drop(sock);
        self.shared.events.emit(ServerEvent::Disconnect {
            conn: id,
            peer,
            reason,
        });
    }
}

impl Stop for Server {
    fn stop(&self) {
        // Wakes the blocked accept (it fails with EINVAL).
        let _ = self.listener.shutdown(Shutdown::Read);
        self.shared.stop_conns();
        if let Some(hub) = self.hub.get() {
            hub.stop();
        }
    }
}

/// `Err` unless this server can run `service` as `config` says (its model,
/// its TLS), checked before anything is bound.
fn check(config: &ServerConfig, service: &Service) -> io::Result<()> {
    config.check_tls(Some(service))?;
    match (config.model, service.kind()) {
        (Model::ThreadPerConnection | Model::Synchronous, _)
        | (Model::Scalable, ServiceKind::Lines(_)) => Ok(()),
        // A blocking handler needs a thread of its own.
        (Model::Scalable, ServiceKind::Handler(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the Scalable model cannot run a RequestHandler (it needs a thread of its own): \
             use a LineService or Model::ThreadPerConnection",
        )),
    }
}
