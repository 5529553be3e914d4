//! TCP keepalive: Python's `SO_KEEPALIVE` and its three parameters,
//! `TCP_KEEPIDLE`, `TCP_KEEPINTVL` and `TCP_KEEPCNT`, over socket2.
//!
//! The system probes an idle connection after `idle`, then every `interval`,
//! and drops it after `count` unanswered probes; a blocked `recv` then fails
//! with `TimedOut` (or `ConnectionReset`). The parameters count in whole
//! seconds; socket2 turns keepalive on whenever one of them is set.

use std::io;
use std::time::Duration;

use socket2::TcpKeepalive;

use super::Socket;

impl Socket {
    /// Turns keepalive probes on or off (`SO_KEEPALIVE`).
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
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_keepalive(true)?;
    /// assert!(sock.keepalive()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.sock().set_keepalive(keepalive)
    }

    /// Whether keepalive probes are on (`SO_KEEPALIVE`).
    ///
    /// # Errors
    ///
    /// Fails when the system cannot read the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(!sock.keepalive()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.sock().keepalive()
    }

    /// Sets how long a connection stays idle before the first probe
    /// (`TCP_KEEPIDLE`, whole seconds, at least one), and turns keepalive on.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for less than a second; fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_keepalive_idle(Duration::from_secs(60))?;
    /// assert_eq!(sock.keepalive_idle()?, Duration::from_secs(60));
    /// assert!(sock.keepalive()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keepalive_idle(&self, idle: Duration) -> io::Result<()> {
        self.sock()
            .set_tcp_keepalive(&TcpKeepalive::new().with_time(whole_seconds(idle)?))
    }

    /// The idle time before the first probe (`TCP_KEEPIDLE`).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// println!("first probe after {:?} idle", sock.keepalive_idle()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keepalive_idle(&self) -> io::Result<Duration> {
        self.sock().keepalive_time()
    }

    /// Sets the time between probes (`TCP_KEEPINTVL`, whole seconds, at least
    /// one), and turns keepalive on.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for less than a second; fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_keepalive_interval(Duration::from_secs(10))?;
    /// assert_eq!(sock.keepalive_interval()?, Duration::from_secs(10));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keepalive_interval(&self, interval: Duration) -> io::Result<()> {
        self.sock()
            .set_tcp_keepalive(&TcpKeepalive::new().with_interval(whole_seconds(interval)?))
    }

    /// The time between probes (`TCP_KEEPINTVL`).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(sock.keepalive_interval()? > std::time::Duration::ZERO);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keepalive_interval(&self) -> io::Result<Duration> {
        self.sock().keepalive_interval()
    }

    /// Sets how many unanswered probes drop the connection (`TCP_KEEPCNT`, at
    /// least one), and turns keepalive on.
    ///
    /// # Errors
    ///
    /// Fails for 0 or above 127, and on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// sock.set_keepalive_count(4)?;
    /// assert_eq!(sock.keepalive_count()?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keepalive_count(&self, count: u32) -> io::Result<()> {
        self.sock()
            .set_tcp_keepalive(&TcpKeepalive::new().with_retries(count))
    }

    /// How many unanswered probes drop the connection (`TCP_KEEPCNT`).
    ///
    /// # Errors
    ///
    /// Fails on a datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sock = Socket::new(Family::Inet, Kind::Stream)?;
    /// assert!(sock.keepalive_count()? > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keepalive_count(&self) -> io::Result<u32> {
        self.sock().keepalive_retries()
    }
}

/// The system counts keepalive times in whole seconds, and 0 is invalid: refuse
/// what would round to it rather than let the system report a bare `EINVAL`.
fn whole_seconds(d: Duration) -> io::Result<Duration> {
    if d < Duration::from_secs(1) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "keepalive times are whole seconds, at least 1",
        ));
    }
    Ok(Duration::from_secs(d.as_secs()))
}
