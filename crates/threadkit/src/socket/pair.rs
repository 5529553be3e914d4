//! Python's `socket.socketpair()`: two sockets connected to each other.

use std::io;
use std::time::Duration;

use super::{getdefaulttimeout, Family, Kind, Socket};

/// How long setting up the pair may wait on the loopback before giving up.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Two stream sockets connected to each other (Python's `socket.socketpair()`):
/// what one sends, the other receives. Handy to wake a thread blocked in a
/// selector, or to test a protocol without a server.
///
/// The pair is a TCP connection over 127.0.0.1, made as Python makes it where
/// Unix sockets are missing: a listener on a free port that accepts exactly
/// the one connection (any other peer is refused) and is closed at once. Both
/// sockets have `TCP_NODELAY` on, so small writes go out at once as over a Unix
/// pair, and are in the default timeout mode
/// ([`setdefaulttimeout`](super::setdefaulttimeout)).
///
/// # Errors
///
/// Fails when the loopback cannot be used (no free port, too many open files),
/// or with `ConnectionAborted` when another process connected first.
///
/// # Examples
///
/// ```
/// use threadkit::socket;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = socket::socketpair()?;
/// a.sendall(b"ping")?;
/// assert_eq!(b.recv(16)?, b"ping");
/// b.sendall(b"pong")?;
/// assert_eq!(a.recv(16)?, b"pong");
/// # Ok(())
/// # }
/// ```
pub fn socketpair() -> io::Result<(Socket, Socket)> {
    let listener = Socket::new(Family::Inet, Kind::Stream)?;
    listener.settimeout(Some(SETUP_TIMEOUT))?;
    listener.bind("127.0.0.1:0")?;
    listener.listen(1)?;
    let a = Socket::new(Family::Inet, Kind::Stream)?;
    a.settimeout(Some(SETUP_TIMEOUT))?;
    a.connect(listener.getsockname()?)?;
    let (b, peer) = listener.accept()?;
    if peer != a.getsockname()? || b.getsockname()? != a.getpeername()? {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "socketpair: an unexpected peer connected to the loopback listener",
        ));
    }
    a.settimeout(getdefaulttimeout())?;
    a.set_nodelay(true)?;
    b.set_nodelay(true)?;
    Ok((a, b))
}
