//! [`SelectorKey`]: what a selector knows about one registration.

use std::os::fd::RawFd;

use super::events::Events;

/// One registration: the file descriptor, the events it is watched for and the
/// caller's data, as Python's `selectors.SelectorKey(fileobj, fd, events, data)`.
///
/// [`register`](super::DefaultSelector::register) and
/// [`modify`](super::DefaultSelector::modify) return it,
/// [`select`](super::DefaultSelector::select) hands it back with the ready events,
/// [`get_key`](super::DefaultSelector::get_key) and
/// [`get_map`](super::DefaultSelector::get_map) look it up.
///
/// There is no `fileobj` field: the selector only borrows the source while it
/// registers it, so it cannot hand it back. Put what Python reaches through
/// `key.fileobj` (the socket itself, as an `Arc<Socket>`, or an index into your own
/// table) in `data`.
///
/// # Examples
///
/// ```
/// use threadkit::selectors::{DefaultSelector, EVENT_READ};
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = UnixStream::pair()?;
/// let mut sel = DefaultSelector::new()?;
/// let key = sel.register(&a, EVENT_READ, "peer a")?;
/// assert_eq!(key.fd, a.as_raw_fd());
/// assert_eq!(key.events, EVENT_READ);
/// assert_eq!(key.data, "peer a");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelectorKey<T> {
    /// The registered file descriptor (Python's `key.fd`).
    pub fd: RawFd,
    /// The events it is watched for (Python's `key.events`).
    pub events: Events,
    /// The caller's data (Python's `key.data`).
    pub data: T,
}
