//! [`Error`]: the misuse and failure cases of `threadkit::selectors`.

use std::fmt;
use std::io;
use std::os::fd::RawFd;

/// What went wrong in a registration call of a
/// [`DefaultSelector`](super::DefaultSelector).
///
/// Each variant stands for the exception CPython's `selectors` raises in the same
/// case. It converts into an [`io::Error`] (with the same message) so `?` works in
/// functions returning [`io::Result`].
///
/// # Examples
///
/// ```
/// use threadkit::selectors::{DefaultSelector, Error, EVENT_READ};
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = UnixStream::pair()?;
/// let mut sel = DefaultSelector::new()?;
/// sel.register(&a, EVENT_READ, ())?;
/// let again = sel.register(&a, EVENT_READ, ());
/// assert!(matches!(again, Err(Error::AlreadyRegistered(_))));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An event mask with no event, or with a bit other than `EVENT_READ` and
    /// `EVENT_WRITE` (Python: `ValueError: Invalid events`).
    InvalidEvents(u8),
    /// A negative file descriptor (Python: `ValueError: Invalid file descriptor`).
    InvalidFd(RawFd),
    /// `register` of a file descriptor that is registered already (Python:
    /// `KeyError`).
    AlreadyRegistered(RawFd),
    /// `unregister`, `modify` or `get_key` of a file descriptor that is not
    /// registered (Python: `KeyError`).
    NotRegistered(RawFd),
    /// The operating system refused the registration, e.g. `EPERM` for a regular
    /// file, which epoll cannot watch (Python: `OSError`).
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidEvents(bits) => write!(f, "invalid events: {bits}"),
            Error::InvalidFd(fd) => write!(f, "invalid file descriptor: {fd}"),
            Error::AlreadyRegistered(fd) => write!(f, "fd {fd} is already registered"),
            Error::NotRegistered(fd) => write!(f, "fd {fd} is not registered"),
            Error::Io(e) => write!(f, "cannot register with the selector: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    /// The same message under the nearest [`io::ErrorKind`]: `InvalidInput` for
    /// Python's `ValueError`s, `AlreadyExists` and `NotFound` for its `KeyError`s,
    /// and the operating system's own error unchanged.
    fn from(e: Error) -> io::Error {
        let kind = match e {
            Error::Io(e) => return e,
            Error::InvalidEvents(_) | Error::InvalidFd(_) => io::ErrorKind::InvalidInput,
            Error::AlreadyRegistered(_) => io::ErrorKind::AlreadyExists,
            Error::NotRegistered(_) => io::ErrorKind::NotFound,
        };
        io::Error::new(kind, e)
    }
}
