//! Python's timeout modes: a socket's own (`settimeout`, `gettimeout`,
//! `setblocking`) and the process-wide default new sockets start with
//! (`setdefaulttimeout`, `getdefaulttimeout`).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Socket;

/// The stored timeout of a blocking socket without one.
const NO_TIMEOUT: u64 = u64::MAX;

// Python's `socket._GLOBAL_DEFAULT_TIMEOUT` state: the one process-wide setting of
// this module, encoded as `Socket::timeout` is. Relaxed suffices: it is a single
// value that no other memory depends on.
static DEFAULT_TIMEOUT: AtomicU64 = AtomicU64::new(NO_TIMEOUT);

/// Sets the timeout mode every socket created afterwards starts with (Python's
/// `socket.setdefaulttimeout`): `None` (the default) blocking, `Some(d)` a
/// timeout, `Some(Duration::ZERO)` non-blocking.
///
/// It applies to [`Socket::new`], to the sockets [`Socket::accept`] and
/// [`Socket::accept_unix`] return and to [`socketpair`](super::socketpair);
/// sockets that already exist keep their mode. [`create_connection`](super::create_connection) sets its own timeout
/// argument over it. The setting is process-wide: every thread's new sockets see
/// it.
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, Family, Kind, Socket};
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// socket::setdefaulttimeout(Some(Duration::from_secs(5)));
/// let sock = Socket::new(Family::Inet, Kind::Stream)?;
/// assert_eq!(sock.gettimeout(), Some(Duration::from_secs(5)));
/// socket::setdefaulttimeout(None); // back to Python's default: blocking
/// # Ok(())
/// # }
/// ```
pub fn setdefaulttimeout(timeout: Option<Duration>) {
    DEFAULT_TIMEOUT.store(encode_timeout(timeout), Ordering::Relaxed);
}

/// The timeout mode new sockets start with, as [`setdefaulttimeout`] last set
/// it (Python's `socket.getdefaulttimeout`); `None`, blocking, unless set.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// assert_eq!(socket::getdefaulttimeout(), None);
/// ```
pub fn getdefaulttimeout() -> Option<Duration> {
    decode_timeout(DEFAULT_TIMEOUT.load(Ordering::Relaxed))
}

impl Socket {
    /// Sets the timeout mode (Python's `settimeout`): `None` blocks, `Some(d)`
    /// with `d > 0` makes calls that wait longer than `d` fail with `TimedOut`,
    /// and `Some(Duration::ZERO)` makes the socket non-blocking (`WouldBlock`).
    ///
    /// The timeout applies to every later call, including `accept` and `connect`;
    /// it is one setting for the socket, shared by every thread using it and by
    /// the socket's clones ([`try_clone`](Socket::try_clone)), as the system
    /// shares the descriptor's mode between them.
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the setting (a closed or invalid socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Datagram)?;
    /// sock.bind("127.0.0.1:0")?;
    /// sock.settimeout(Some(Duration::from_millis(20)))?;
    /// assert_eq!(sock.recv(16).unwrap_err().kind(), ErrorKind::TimedOut);
    /// sock.settimeout(Some(Duration::ZERO))?;
    /// assert_eq!(sock.recv(16).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// # Ok(())
    /// # }
    /// ```
    pub fn settimeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let sock = self.sock();
        match timeout {
            Some(d) if d.is_zero() => {
                sock.set_nonblocking(true)?;
                sock.set_read_timeout(None)?;
                sock.set_write_timeout(None)?;
            }
            Some(d) => {
                // A zero timeval means "no timeout" to the system: never pass one.
                let d = d.max(Duration::from_micros(1));
                sock.set_nonblocking(false)?;
                sock.set_read_timeout(Some(d))?;
                sock.set_write_timeout(Some(d))?;
            }
            None => {
                sock.set_nonblocking(false)?;
                sock.set_read_timeout(None)?;
                sock.set_write_timeout(None)?;
            }
        }
        self.timeout
            .store(encode_timeout(timeout), Ordering::Relaxed);
        Ok(())
    }

    /// The timeout mode last set (Python's `gettimeout`): `None` for blocking,
    /// `Some(Duration::ZERO)` for non-blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.settimeout(Some(Duration::from_secs(2)))?;
    /// assert_eq!(sock.gettimeout(), Some(Duration::from_secs(2)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn gettimeout(&self) -> Option<Duration> {
        decode_timeout(self.timeout.load(Ordering::Relaxed))
    }

    /// Python's `setblocking(flag)`: `true` is `settimeout(None)`, `false` is
    /// `settimeout(Some(Duration::ZERO))`.
    ///
    /// # Errors
    ///
    /// As [`settimeout`](Socket::settimeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.setblocking(false)?;
    /// assert_eq!(sock.gettimeout(), Some(Duration::ZERO));
    /// sock.setblocking(true)?;
    /// assert_eq!(sock.gettimeout(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn setblocking(&self, blocking: bool) -> io::Result<()> {
        self.settimeout(if blocking { None } else { Some(Duration::ZERO) })
    }
}

/// Encodes a timeout mode as `Socket::timeout` stores it.
pub(super) fn encode_timeout(timeout: Option<Duration>) -> u64 {
    match timeout {
        None => NO_TIMEOUT,
        // Longer than 584 years: the largest storable timeout.
        Some(d) => u64::try_from(d.as_nanos()).map_or(NO_TIMEOUT - 1, |n| n.min(NO_TIMEOUT - 1)),
    }
}

/// The timeout mode a stored value stands for.
fn decode_timeout(stored: u64) -> Option<Duration> {
    match stored {
        NO_TIMEOUT => None,
        nanos => Some(Duration::from_nanos(nanos)),
    }
}
