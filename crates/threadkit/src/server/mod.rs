//! Python's `socketserver`, for line protocols and blocking handlers.
//!
//! What lives here so far:
//!
//! - the two kinds of [`Service`] a server runs: a sans-IO [`LineService`] that
//!   sees whole, valid lines and answers through an [`Outbox`] of [`Action`]s, or a
//!   Python-style blocking [`RequestHandler`] made per connection;
//! - [`ConnId`] (which connection) and [`CloseReason`] (why it ended, with the
//!   CLI's REASON words);
//! - the protocols of `threadkit serve`: [`Echo`] and [`ChatRoom`];
//! - [`ServerConfig`] and [`Model`]: the models (thread per connection,
//!   synchronous, scalable), the limits, and Python's hooks
//!   ([`RequestFilter`] for `verify_request`, [`ServiceActions`]);
//! - the servers: [`TcpServer`] (Python's `TCPServer` and
//!   `ThreadingTCPServer`) and [`UnixStreamServer`] (`UnixStreamServer`,
//!   `ThreadingUnixStreamServer`), both a [`StreamServer`], run either kind of
//!   service; [`UdpServer`] (`UDPServer`, `ThreadingUDPServer`) and
//!   [`UnixDatagramServer`], both a [`DatagramServer`], run a
//!   [`DatagramHandler`] such as [`UdpEcho`]. All stop through a
//!   [`ShutdownHandle`]; a stream server reports [`ServerEvent`]s (connect,
//!   disconnect and why, with the client's [`Peer`]) to `log` and to an
//!   observer.
//!
//! Inside: `lines.rs` (framing and limits, sans-IO), `connection.rs` (one stream
//! connection from accept to close, the same in both blocking models),
//! `outgoing.rs` (a connection's output queue and its writer thread),
//! `threaded.rs` (threads per client, client slots), `scalable/` (the
//! scalable model: `mod.rs` accepting and cross-worker delivery, `worker.rs`
//! and `worker/` the event loop), `shared.rs` (the state both loops read,
//! below them), `stream/` (binds, accepts, starts the loops; `handle_request`;
//! `inet.rs` and `unix.rs` bind), `datagram/`, `bind.rs` and `unix_path.rs`
//! (binding to an address, to a path), `peer.rs` (a client's address),
//! `hooks.rs` (Python's `verify_request` and `service_actions`),
//! `adapters.rs` (`StreamRequestHandler`, `DatagramRequestHandler`),
//! `shutdown.rs`, `events.rs`.
//!
//! # The models
//!
//! [`Model::ThreadPerConnection`] (Python's `ThreadingMixIn`, the library's
//! default) gives each client a thread; [`Model::Synchronous`] serves one
//! client at a time on the serving thread; [`Model::Scalable`] (what
//! `threadkit serve` runs) serves every client from a few event-loop threads.
//! All three run any [`LineService`] with the same limits, notices and
//! [`ServerEvent`]s; only the blocking two run a [`RequestHandler`].
//!
//! # The scalable model
//!
//! - **Workers.** [`ServerConfig::workers`] threads (0: one per core), each a
//!   plain `mio` event loop (epoll, edge-triggered; no async runtime) over
//!   its share of non-blocking connections. They are internal threadkit
//!   threads, named `tk-worker-N`: left out of
//!   [`enumerate()`](crate::threading::enumerate) and
//!   [`dump()`](crate::threading::dump), shown (marked internal) by
//!   [`dump_all()`](crate::threading::dump_all). `serve_forever` starts them;
//!   `server_close` joins them.
//! - **Accepting.** The thread in `serve_forever` accepts (blocking, as in the
//!   other models), counts the client against `max_clients` (one atomic
//!   counter for the whole server) and hands it to the workers in turn through
//!   a per-worker mailbox and a `mio::Waker`.
//! - **Turns and slices.** Each turn of a worker's loop serves every ready
//!   connection one slice (at most 256 lines, one read), then writes every
//!   connection that got output with one call: a flood from one client holds
//!   the others up one slice at a time, and a broadcast line costs an append
//!   per recipient, not a system call.
//! - **Buffers.** An idle connection holds no buffer, a few hundred bytes in
//!   all: each worker reads into one scratch buffer, the splitter keeps only an
//!   unfinished line, and an output queue is freed once written.
//! - **Order and delivery.** Service calls and the queueing of their outboxes
//!   run under the one service lock (taken per line, never across a system
//!   call), as in the other models; a line for a
//!   connection of another worker goes through that worker's mailbox, in lock
//!   order, so every client sees the same order.
//! - **Limits.** As in the table above: a connection whose own output reaches
//!   `max_queue` is not read until it drains (and dropped as `too slow` if
//!   nothing is written for the idle timeout meanwhile); a line for another
//!   connection that would pass `max_queue` drops that one. Idle timeouts are
//!   a per-worker timer heap; `poll` sleeps until the next deadline.
//! - **Shutdown.** The [`ShutdownHandle`] wakes every worker; each tells its
//!   clients `* server shutting down`, flushes them (bounded), shuts their
//!   write side, discards what they still send for at most a second (so they
//!   read the notice and a clean end, not a reset), closes them, then ends.
//!
//! # Line protocols
//!
//! Lines are UTF-8 ending in `\n`; [`ServerConfig::max_line`] counts the bytes
//! before the `\n`. Server notices and errors are lines starting with `* `. The
//! server, not the service, enforces every limit, the same way in every model:
//!
//! | case | the client gets | then |
//! |---|---|---|
//! | a line is not UTF-8 | `* error: invalid UTF-8` | the connection goes on |
//! | a line is longer than `max_line` | `* error: line too long (max N bytes)` | closed ([`CloseReason::TooLong`]); never buffers more than `max_line` |
//! | more than `max_clients` clients | `* error: server full` | closed at once ([`CloseReason::Full`]) |
//! | silent for `idle_timeout` | `* idle timeout` | closed ([`CloseReason::Idle`]) |
//! | unsent output reaches `max_queue` | nothing | echo: not read until it drains; chat: dropped ([`CloseReason::TooSlow`]) |
//! | the server stops | `* server shutting down` | closed ([`CloseReason::Shutdown`]) |
//! | end of input in mid-line | the answer to that last line | it is still a line: served, then closed |
//!
//! So a service only ever sees valid lines.
//!
//! # Texts and lines
//!
//! A service's texts are lines **without** the `\n`: [`Outbox::send`] and
//! [`Outbox::broadcast`] take `"hello"`, and the server writes `"hello\n"`. The
//! lines a service receives have no `\n` either (a `\r` before it is kept:
//! [`Echo`] sends it back as is, [`ChatRoom`] strips it).
//!
//! # How a server loop drives a line service
//!
//! Per connection, the server keeps a line splitter (`lines.rs`:
//! `LineSplitter::next` turns each chunk read into `Line`, `InvalidUtf8` and
//! `TooLong` events, borrowing the read buffer, with the notice texts beside it),
//! an output queue, and the peer address. Then:
//!
//! 1. accept; over `max_clients`: send `* error: server full`, close, log
//!    `disconnect ADDR (full)`; the service never hears of it;
//! 2. register the connection as open, then call `on_connect(conn, peer, &mut
//!    out)` and carry out `out`;
//! 3. for each `Line(s)`: `on_line(conn, s, &mut out)` and carry out `out`; for
//!    `InvalidUtf8`: queue the notice; for `TooLong`: queue the notice and close
//!    with `TooLong`;
//! 4. at the end (end of input, error, limit, `Action::Close`, shutdown): mark it
//!    closed, call `on_close(conn, reason, &mut out)` exactly once, carry out
//!    `out`, flush what is queued (bounded in time) and shut the socket down.
//!
//! Carrying out an outbox means draining it ([`Outbox::drain`]) in order: `Send`
//! queues one line for one open connection (a closed one is skipped), `Broadcast`
//! queues it for every open connection but `except`, `Close` closes after what was
//! queued before it. Queueing never blocks: a queue past `max_queue` is the
//! backpressure / too-slow case above. To give every client the same order of
//! lines from concurrent callbacks (chat), run a callback and the queueing of its
//! outbox under one lock per service; one `Outbox` per thread can be reused, since
//! draining keeps its allocation.
//!
//! # Examples
//!
//! Driving the chat room by hand, as a server would:
//!
//! ```
//! use threadkit::server::{Action, ChatRoom, ConnId, LineService, Outbox};
//!
//! let room = ChatRoom::new();
//! let (alice, bob) = (ConnId::new(1), ConnId::new(2));
//! let peer = "127.0.0.1:40000".parse().unwrap();
//! let mut out = Outbox::new();
//! room.on_connect(alice, peer, &mut out);
//! room.on_connect(bob, peer, &mut out);
//! out.drain().for_each(drop);
//!
//! room.on_line(alice, "hi bob", &mut out);
//! assert_eq!(out.actions(), [Action::Broadcast {
//!     except: Some(alice),
//!     text: "guest-1: hi bob".to_string(),
//! }]);
//! ```

mod adapters;
mod bind;
mod chat;
mod config;
mod conn;
mod connection;
mod datagram;
mod echo;
mod events;
mod hooks;
mod lines;
mod memory;
mod outbox;
mod outgoing;
mod peer;
mod scalable;
mod service;
mod shared;
mod shutdown;
mod stats;
mod stream;
mod threaded;
mod unix_path;

pub use adapters::{DatagramRequestHandler, DatagramRequests, StreamRequestHandler};
pub use chat::ChatRoom;
pub use config::{Model, ServerConfig};
pub use conn::{CloseReason, ConnId};
pub use datagram::{
    reply_unix, DatagramHandler, DatagramServer, UdpEcho, UdpServer, UnixDatagramServer,
    MAX_DATAGRAM,
};
pub use echo::Echo;
pub use events::ServerEvent;
pub use hooks::{RequestFilter, ServiceActions};
pub use outbox::{Action, Outbox};
pub use peer::{Address, Peer};
pub use service::{LineService, RequestHandler, Service};
pub use shutdown::ShutdownHandle;
pub use stream::{StreamServer, TcpServer, UnixStreamServer};
