//! threadkit brings Python's `threading` model, and Python's `socket` /
//! `socketserver` model, to Rust.
//!
//! - [`threading`]: named threads you can list and join with a timeout, Python's
//!   exit rule for non-daemon threads, hooks, cooperative stop and a thread dump.
//! - [`queue`]: Python's `queue` module: [`queue::Queue`], [`queue::LifoQueue`],
//!   [`queue::PriorityQueue`] and [`queue::SimpleQueue`], stop-aware, with 3.13's
//!   `shutdown`.
//! - [`socket`]: Python's `socket` calls and timeout rules over `socket2`
//!   ([`socket::Socket`], [`socket::create_connection`], [`socket::create_server`]).
//! - [`server`]: Python's `socketserver`: [`server::TcpServer`] (a thread per client
//!   or one client at a time) and [`server::UdpServer`], running the line protocols
//!   (echo, chat) as sans-IO services or Python-style blocking handlers.
//! - [`futures`]: Python's `concurrent.futures` on threads: [`futures::ThreadPoolExecutor`]
//!   hands back [`futures::Future`]s; [`futures::wait`] and [`futures::as_completed`].
//! - [`selectors`]: Python's `selectors`: [`selectors::DefaultSelector`] watches
//!   many sockets from one thread, level-triggered as Python's, over mio.
//! - `tls` (feature `tls`): TLS on rustls for [`server::TcpServer`] and the
//!   client (`threadkit::tls::TlsConfig`, `TlsConnector`).
//! - [`client`]: the interactive TCP client and the UDP request behind the
//!   program's `connect` and `udp-send`, over any input and output.
//!
//! # A tour
//!
//! ```
//! use threadkit::threading::{self, Thread};
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), threading::Error> {
//! let t = Thread::builder()
//!     .name("worker")
//!     .target(|| println!("running in {}", threading::current_thread().name()))
//!     .build();
//! t.start()?;
//! assert!(threading::enumerate().contains(&t) || !t.is_alive());
//! if !t.join_timeout(Duration::from_secs(5))? {
//!     eprintln!("still running");
//! }
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]

pub mod client;
pub mod futures;
pub mod monitor;
pub mod queue;
pub mod selectors;
pub mod server;
pub mod socket;
mod sync;
mod sys;
pub mod threading;
#[cfg(feature = "tls")]
pub mod tls;
mod wire;
