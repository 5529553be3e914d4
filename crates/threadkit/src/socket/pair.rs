//! Python's `socket.socketpair()`: two sockets connected to each other.

use std::io;
use std::os::fd::OwnedFd;

use socket2::{Domain, Type};

use super::{Family, Kind, Socket};

/// Two Unix-domain stream sockets connected to each other (Python's
/// `socket.socketpair()`, whose default family on Unix is `AF_UNIX`): what one
/// sends, the other receives. Handy to wake a thread blocked in a selector, or
/// to test a protocol without a server.
///
/// The pair is the system's `socketpair(2)`: no file, no port, nothing another
/// process can reach. Both sockets are [`Family::Unix`] and [`Kind::Stream`],
/// unnamed ([`getsockname_unix`](Socket::getsockname_unix)), and in the
/// default timeout mode ([`setdefaulttimeout`](super::setdefaulttimeout)).
///
/// # Errors
///
/// Fails when the system cannot create the pair (too many open files).
///
/// # Examples
///
/// ```
/// use threadkit::socket::{self, Family};
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = socket::socketpair()?;
/// a.sendall(b"ping")?;
/// assert_eq!(b.recv(16)?, b"ping");
/// b.sendall(b"pong")?;
/// assert_eq!(a.recv(16)?, b"pong");
/// assert_eq!(a.family(), Family::Unix);
/// # Ok(())
/// # }
/// ```
pub fn socketpair() -> io::Result<(Socket, Socket)> {
    let (a, b) = socket2::Socket::pair(Domain::UNIX, Type::STREAM, None)?;
    let wrap = |s: socket2::Socket| -> io::Result<Socket> {
        let sock = Socket::from_parts(OwnedFd::from(s), Family::Unix, Kind::Stream, None);
        sock.apply_default_timeout()?;
        Ok(sock)
    };
    Ok((wrap(a)?, wrap(b)?))
}
