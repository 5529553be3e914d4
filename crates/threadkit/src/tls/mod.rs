//! TLS for the servers and the client, on rustls (feature `tls`, off by
//! default; the `threadkit` program turns it on).
//!
//! - [`TlsConfig`]: a server's certificate and key, from PEM files
//!   ([`TlsConfig::from_pem_files`]) or a rustls `ServerConfig` of your own;
//!   set it as [`ServerConfig::tls`](crate::server::ServerConfig::tls) and a
//!   [`TcpServer`](crate::server::TcpServer) speaks TLS to every client.
//! - [`TlsConnector`]: what a client trusts, a CA file
//!   ([`TlsConnector::from_ca_file`]) or the system's roots
//!   ([`TlsConnector::with_native_roots`]), for
//!   [`client::connect_tls`](crate::client::connect_tls).
//!
//! The crypto provider is rustls's `ring` (no build tools beyond a C
//! compiler); TLS 1.2 and 1.3.
//!
//! # Inside
//!
//! `session.rs` is the sans-IO part: one rustls connection with the few calls
//! a server loop needs (feed ciphertext, take plaintext, write plaintext with
//! OpenSSL's "call again with the same bytes" rule, write ciphertext until
//! the socket would block), so a blocking loop and a non-blocking event loop
//! drive the same code. `stream.rs` wraps it for the blocking models: a reader
//! thread and writer threads share one session under a lock that is never
//! held across a system call that waits.
//!
//! # Examples
//!
//! ```no_run
//! use threadkit::server::{Echo, ServerConfig, TcpServer};
//! use threadkit::tls::TlsConfig;
//!
//! # fn main() -> std::io::Result<()> {
//! let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//! let config = ServerConfig { tls: Some(tls), ..ServerConfig::default() };
//! let server = TcpServer::bind("127.0.0.1:9443", config, Echo)?;
//! server.serve_forever()
//! # }
//! ```

mod config;
mod connector;
pub(crate) mod session;
pub(crate) mod stream;
#[cfg(test)]
mod testing;

pub use config::TlsConfig;
pub use connector::TlsConnector;
/// The rustls crate threadkit builds on, for [`TlsConfig::from_rustls`] and
/// [`TlsConnector::from_rustls`].
pub use rustls;
