//! [`Fd`]: a bare file descriptor number as a selector source.

use std::os::fd::{AsRawFd, RawFd};

/// A bare file descriptor number, for Python's `register(fd, ...)` with an `int`.
///
/// The selector calls take any [`AsRawFd`] source by reference (a
/// [`Socket`](crate::socket::Socket), the `std::net` and `std::os::unix::net` types,
/// a `File`); `Fd` is the source for a number you got elsewhere. The number must name
/// an open file descriptor while it is registered, as in Python.
///
/// # Examples
///
/// ```
/// use threadkit::selectors::{DefaultSelector, Fd, EVENT_READ};
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = UnixStream::pair()?;
/// let mut sel = DefaultSelector::new()?;
/// sel.register(&Fd(a.as_raw_fd()), EVENT_READ, ())?;
/// // The number and the object name the same registration.
/// assert!(sel.get_key(&a).is_ok());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fd(pub RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}
