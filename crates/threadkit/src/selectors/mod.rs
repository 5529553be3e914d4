//! Python's `selectors`: [`DefaultSelector`] watches many sockets (or any file
//! descriptors) from one thread and says which are ready, the base of a
//! single-threaded event loop.
//!
//! | Python | threadkit |
//! |---|---|
//! | `selectors.DefaultSelector()` | [`DefaultSelector::new`] (epoll, through mio) |
//! | `register(fileobj, events, data)` | [`DefaultSelector::register`]`(&source, events, data) -> SelectorKey` |
//! | `unregister(fileobj)`, `modify(fileobj, events, data)` | [`DefaultSelector::unregister`], [`DefaultSelector::modify`] |
//! | `select(timeout)` → `[(key, events)]` | [`DefaultSelector::select`]`(Option<Duration>) -> Vec<(SelectorKey, Events)>` |
//! | `get_key(fileobj)`, `get_map()`, `close()` | [`DefaultSelector::get_key`], [`DefaultSelector::get_map`], [`DefaultSelector::close`] |
//! | `EVENT_READ`, `EVENT_WRITE` | [`EVENT_READ`], [`EVENT_WRITE`] (an [`Events`] mask) |
//! | `SelectorKey(fileobj, fd, events, data)` | [`SelectorKey`] `{ fd, events, data }` |
//! | `register(fd, ...)` with an `int` | `register(&`[`Fd`]`(fd), ...)` |
//! | `KeyError`, `ValueError` | [`Error`] |
//!
//! A source is anything [`AsRawFd`](std::os::fd::AsRawFd), borrowed while it is
//! registered: a [`Socket`](crate::socket::Socket), the `std::net` and
//! `std::os::unix::net` types, a pipe. Set the sockets non-blocking
//! (`setblocking(false)`), as Python's examples do, so a read after a report never
//! waits.
//!
//! # Level-triggered, as Python's
//!
//! mio watches sources edge-triggered: epoll says once that a source became ready.
//! Python's selectors are level-triggered: a source is reported as long as it is
//! ready. [`DefaultSelector::select`] gives Python's semantics by re-arming (an
//! `epoll_ctl` modify, which makes the kernel check the source again) every source
//! the previous call reported, before it waits. So data left unread is reported
//! again, and a writable socket is reported on every call it is watched for
//! `EVENT_WRITE`; sources that were not reported cost nothing.
//!
//! # Examples
//!
//! The echo server of Python's `selectors` documentation, with its client watched by
//! the same selector (the whole program is `examples/e13_selectors.rs`):
//!
//! ```
//! use threadkit::selectors::{DefaultSelector, EVENT_READ};
//! use threadkit::socket::{self, Socket};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! // What Python keeps in `key.data`: which callback to run, on which socket.
//! #[derive(Clone)]
//! enum Job {
//!     Accept,
//!     Echo(Arc<Socket>),
//!     Client,
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! let server = socket::create_server("127.0.0.1:0")?;
//! server.setblocking(false)?;
//! let mut sel = DefaultSelector::new()?;
//! sel.register(&server, EVENT_READ, Job::Accept)?;
//!
//! let client = socket::create_connection(server.getsockname()?, Some(Duration::from_secs(5)))?;
//! sel.register(&client, EVENT_READ, Job::Client)?;
//! client.sendall(b"hello")?;
//! let mut echoed = Vec::new();
//! for _ in 0..10 {
//!     for (key, _events) in sel.select(Some(Duration::from_secs(5)))? {
//!         match key.data {
//!             Job::Accept => {
//!                 let (conn, _addr) = server.accept()?;
//!                 conn.setblocking(false)?;
//!                 let conn = Arc::new(conn);
//!                 sel.register(&*conn, EVENT_READ, Job::Echo(Arc::clone(&conn)))?;
//!             }
//!             Job::Echo(conn) => {
//!                 let data = conn.recv(1000)?;
//!                 if data.is_empty() {
//!                     sel.unregister(&*conn)?; // the peer closed: unregister, then drop
//!                 } else {
//!                     conn.sendall(&data)?;
//!                 }
//!             }
//!             Job::Client => echoed.extend(client.recv(1000)?),
//!         }
//!     }
//!     if echoed == b"hello" {
//!         break;
//!     }
//! }
//! assert_eq!(echoed, b"hello");
//! # Ok(())
//! # }
//! ```

mod default_selector;
mod error;
mod events;
mod fd;
mod selector_key;

pub use default_selector::DefaultSelector;
pub use error::Error;
pub use events::{Events, EVENT_READ, EVENT_WRITE};
pub use fd::Fd;
pub use selector_key::SelectorKey;
