//! Socket options: Python's timeout modes (`settimeout`, `gettimeout`,
//! `setblocking`) and the options a server sets (`SO_REUSEADDR`, `TCP_NODELAY`).

use std::io;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Socket;

/// The stored timeout of a blocking socket without one.
const NO_TIMEOUT: u64 = u64::MAX;

impl Socket {
    /// Sets the timeout mode (Python's `settimeout`): `None` blocks, `Some(d)`
    /// with `d > 0` makes calls that wait longer than `d` fail with `TimedOut`,
    /// and `Some(Duration::ZERO)` makes the socket non-blocking (`WouldBlock`).
    ///
    /// The timeout applies to every later call, including `accept` and `connect`;
    /// it is one setting for the socket, shared by every thread using it.
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
        match self.timeout.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
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

    /// Sets `SO_REUSEADDR`: a server may bind its port again at once after a
    /// restart, while old connections linger in `TIME_WAIT`. Call it before
    /// [`bind`](Socket::bind).
    ///
    /// # Errors
    ///
    /// Fails when the system rejects the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = Socket::new(Family::Inet, Kind::Stream)?;
    /// server.set_reuse_address(true)?;
    /// server.bind("127.0.0.1:0")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reuse_address(&self, reuse: bool) -> io::Result<()> {
        self.sock().set_reuse_address(reuse)
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting to be
    /// merged (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket, or when the system rejects the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_nodelay(true)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock().set_nodelay(nodelay)
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
