//! [`ConnId`] and [`CloseReason`]: which connection, and why it ended.

use std::fmt;

/// Names one connection of a server, for a [`LineService`](super::LineService)
/// and its [`Outbox`](super::Outbox).
///
/// A server numbers its connections from 1 and never reuses a number while it
/// runs. Services use it as a map key; [`ConnId::new`] makes one for tests that
/// drive a service without sockets.
///
/// # Examples
///
/// ```
/// use threadkit::server::ConnId;
///
/// let a = ConnId::new(1);
/// assert_eq!(a.get(), 1);
/// assert_eq!(a.to_string(), "#1");
/// assert_ne!(a, ConnId::new(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

impl ConnId {
    /// The id with number `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::ConnId;
    ///
    /// assert_eq!(ConnId::new(7).get(), 7);
    /// ```
    pub const fn new(n: u64) -> ConnId {
        ConnId(n)
    }

    /// The id's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::ConnId;
    ///
    /// assert_eq!(ConnId::new(42).get(), 42);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// `#N`.
impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why a connection ended: what the server logs as `disconnect ADDR (REASON)`, and
/// what [`LineService::on_close`](super::LineService::on_close) receives.
///
/// `Display` gives the CLI's REASON word.
///
/// # Examples
///
/// ```
/// use threadkit::server::CloseReason;
///
/// assert_eq!(CloseReason::TooLong.to_string(), "too long");
/// assert_eq!(format!("disconnect 127.0.0.1:5000 ({})", CloseReason::Closed),
///            "disconnect 127.0.0.1:5000 (closed)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client ended the connection (end of input), or the service closed it
    /// with [`Outbox::close`](super::Outbox::close) (`closed`).
    Closed,
    /// The connection was reset or broke (`reset`).
    Reset,
    /// The client stayed silent longer than the idle timeout (`idle`).
    Idle,
    /// The client sent a line longer than the line limit (`too long`).
    TooLong,
    /// The client's unsent output passed the queue limit: it does not read
    /// (`too slow`).
    TooSlow,
    /// The server already had its maximum number of clients; such a connection
    /// never reaches the service (`full`).
    Full,
    /// The server is shutting down (`shutdown`).
    Shutdown,
    /// [`ServerConfig::verify_request`](super::ServerConfig::verify_request)
    /// refused the client; such a connection never reaches the service
    /// (`refused`).
    Refused,
    /// The TLS handshake failed (a client that does not speak TLS, or one
    /// that refused the certificate), or a TLS record was bad (`tls`). Only a
    /// server with [`ServerConfig::tls`](super::ServerConfig) set reports it;
    /// a handshake that fails never reaches the service.
    Tls,
    /// Any other error on the connection (`error`).
    Error,
}

impl CloseReason {
    /// The REASON word: `closed`, `reset`, `idle`, `too long`, `too slow`, `full`,
    /// `refused`, `shutdown`, `tls` or `error`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::server::CloseReason;
    ///
    /// assert_eq!(CloseReason::TooSlow.as_str(), "too slow");
    /// assert_eq!(CloseReason::Tls.as_str(), "tls");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            CloseReason::Closed => "closed",
            CloseReason::Reset => "reset",
            CloseReason::Idle => "idle",
            CloseReason::TooLong => "too long",
            CloseReason::TooSlow => "too slow",
            CloseReason::Full => "full",
            CloseReason::Refused => "refused",
            CloseReason::Shutdown => "shutdown",
            CloseReason::Tls => "tls",
            CloseReason::Error => "error",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
