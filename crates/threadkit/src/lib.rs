//! threadkit brings Python's `threading` model, and Python's `socket` /
//! `socketserver` model, to Rust.
//!
//! - [`threading`]: named threads you can list and join with a timeout, Python's
//!   exit rule for non-daemon threads, hooks, cooperative stop and a thread dump.
//! - [`socket`]: Python's `socket` calls and timeout rules over `socket2`
//!   ([`socket::Socket`], [`socket::create_connection`], [`socket::create_server`]).
//! - [`server`]: Python's `socketserver`: [`server::TcpServer`] (a thread per client
//!   or one client at a time) and [`server::UdpServer`], running the line protocols
//!   (echo, chat) as sans-IO services or Python-style blocking handlers.
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
pub mod monitor;
pub mod server;
pub mod socket;
mod sync;
mod sys;
pub mod threading;
