//! [`DefaultSelector`]: Python's `selectors.DefaultSelector` (an epoll selector) over
//! mio, level-triggered as Python's is.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};

use super::error::Error;
use super::events::{Events, EVENT_READ, EVENT_WRITE};
use super::fd::Fd;
use super::selector_key::SelectorKey;
use crate::threading::timeout;

/// Python's `selectors.DefaultSelector`: watch many file descriptors at once and
/// learn which are ready to read or write.
///
/// `T` is the type of each registration's `data` (Python's `data=`; `()` when you
/// need none). [`register`](Self::register) a source (a
/// [`Socket`](crate::socket::Socket), a `std::net` or `std::os::unix::net` type, or a
/// bare number as [`Fd`](super::Fd)) for [`EVENT_READ`] and/or [`EVENT_WRITE`], then
/// [`select`](Self::select) returns the ready registrations with their events.
///
/// Readiness is **level-triggered**, as in Python: a source stays reported for as
/// long as it is ready (data you did not read is reported again on the next
/// `select`). Unregister a source before you close it, as Python's documentation
/// asks: epoll forgets a closed descriptor by itself, but the registration stays in
/// the map and its number may be reused.
///
/// The calls take `&mut self`: one thread owns a selector, as in Python, where
/// selectors are not thread-safe. Send it to another thread if you like (it is `Send`
/// when `T` is).
///
/// # Examples
///
/// ```
/// use threadkit::selectors::{DefaultSelector, EVENT_READ};
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, mut b) = UnixStream::pair()?;
/// let mut sel = DefaultSelector::new()?;
/// sel.register(&a, EVENT_READ, "a")?;
/// assert!(sel.select(Some(Duration::ZERO))?.is_empty()); // nothing to read yet
///
/// b.write_all(b"ping")?;
/// let ready = sel.select(Some(Duration::from_secs(5)))?;
/// assert_eq!(ready.len(), 1);
/// let (key, events) = &ready[0];
/// assert_eq!((key.data, *events), ("a", EVENT_READ));
/// # Ok(())
/// # }
/// ```
pub struct DefaultSelector<T = ()> {
    /// The epoll instance; mio registers every source edge-triggered.
    poll: Poll,
    /// Where `select` receives epoll's reports; grown to the number of registrations
    /// so one `select` can report every ready source, as Python's epoll selector does.
    events: mio::Events,
    /// The registrations by file descriptor, which is also each one's mio token.
    map: HashMap<RawFd, SelectorKey<T>>,
    /// The descriptors the last `select` reported, re-armed before the next wait:
    /// this is what turns mio's edge-triggered reports into Python's level-triggered
    /// ones (see `rearm`).
    reported: Vec<RawFd>,
}

impl<T> DefaultSelector<T> {
    /// A selector with no registrations (Python's `DefaultSelector()`).
    ///
    /// # Errors
    ///
    /// The operating system's error when it cannot create an epoll instance (the
    /// process is out of file descriptors, for one).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::DefaultSelector;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let sel: DefaultSelector = DefaultSelector::new()?;
    /// assert!(sel.get_map().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> io::Result<DefaultSelector<T>> {
        Ok(DefaultSelector {
            poll: Poll::new()?,
            events: mio::Events::with_capacity(16),
            map: HashMap::new(),
            reported: Vec::new(),
        })
    }

    /// Stops watching `fileobj` and returns its registration (Python's
    /// `unregister(fileobj)`).
    ///
    /// As in Python, the registration is removed even when the operating system no
    /// longer knows the descriptor (it was closed first).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFd`] for a negative descriptor, [`Error::NotRegistered`] when
    /// `fileobj` is not registered (Python's `ValueError` and `KeyError`).
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
    /// sel.register(&a, EVENT_READ, 7)?;
    /// assert_eq!(sel.unregister(&a)?.data, 7);
    /// assert!(matches!(sel.unregister(&a), Err(Error::NotRegistered(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unregister(&mut self, fileobj: &impl AsRawFd) -> Result<SelectorKey<T>, Error> {
        let fd = valid_fd(fileobj)?;
        let key = self.map.remove(&fd).ok_or(Error::NotRegistered(fd))?;
        // Python ignores this OSError too: a descriptor closed before it was
        // unregistered has already left the epoll set.
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        Ok(key)
    }

    /// The registration of `fileobj` (Python's `get_key(fileobj)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFd`] for a negative descriptor, [`Error::NotRegistered`] when
    /// `fileobj` is not registered (Python's `ValueError` and `KeyError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, EVENT_WRITE};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, b) = UnixStream::pair()?;
    /// let mut sel = DefaultSelector::new()?;
    /// sel.register(&a, EVENT_WRITE, ())?;
    /// assert_eq!(sel.get_key(&a)?.events, EVENT_WRITE);
    /// assert!(sel.get_key(&b).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_key(&self, fileobj: &impl AsRawFd) -> Result<&SelectorKey<T>, Error> {
        let fd = valid_fd(fileobj)?;
        self.map.get(&fd).ok_or(Error::NotRegistered(fd))
    }

    /// Every registration, by file descriptor (Python's `get_map()`, a mapping from
    /// file objects to keys).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, EVENT_READ};
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, b) = UnixStream::pair()?;
    /// let mut sel = DefaultSelector::new()?;
    /// sel.register(&a, EVENT_READ, "a")?;
    /// sel.register(&b, EVENT_READ, "b")?;
    /// let map = sel.get_map();
    /// assert_eq!(map.len(), 2);
    /// assert_eq!(map[&b.as_raw_fd()].data, "b");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get_map(&self) -> &HashMap<RawFd, SelectorKey<T>> {
        &self.map
    }

    /// Closes the selector: the epoll instance is closed and every registration is
    /// dropped (Python's `close()`; the sources themselves stay open). Dropping the
    /// selector does the same; Python's "use after close" errors cannot happen, since
    /// `close` takes the selector.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, EVENT_READ};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, _b) = UnixStream::pair()?;
    /// let mut sel = DefaultSelector::new()?;
    /// sel.register(&a, EVENT_READ, ())?;
    /// sel.close();
    /// // `a` is still open, and a new selector may watch it.
    /// DefaultSelector::new()?.register(&a, EVENT_READ, ())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(self) {
        drop(self);
    }
}

impl<T: Clone> DefaultSelector<T> {
    /// Starts watching `fileobj` for `events`, with `data` handed back in its key
    /// (Python's `register(fileobj, events, data)`), and returns the new key.
    ///
    /// A source that is ready already is reported by the next `select`.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidEvents`] when `events` is empty (Python's `ValueError`);
    /// - [`Error::InvalidFd`] for a negative descriptor (Python's `ValueError`);
    /// - [`Error::AlreadyRegistered`] when the descriptor is registered, through this
    ///   source or another holding the same number (Python's `KeyError`);
    /// - [`Error::Io`] when epoll refuses it: `EPERM` for a regular file or a
    ///   directory, `EBADF` for a closed descriptor (Python's `OSError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, Error, Events, Fd, EVENT_READ, EVENT_WRITE};
    /// use threadkit::socket::{Family, Kind, Socket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let listener = Socket::new(Family::Inet, Kind::Stream)?;
    /// listener.bind("127.0.0.1:0")?;
    /// listener.listen(16)?;
    /// let mut sel = DefaultSelector::new()?;
    /// let key = sel.register(&listener, EVENT_READ | EVENT_WRITE, "listener")?;
    /// assert_eq!(key.data, "listener");
    /// let again = sel.register(&listener, EVENT_READ, "twice");
    /// assert!(matches!(again, Err(Error::AlreadyRegistered(_))));
    /// let none = sel.register(&Fd(0), Events::default(), "no events");
    /// assert!(matches!(none, Err(Error::InvalidEvents(0))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn register(
        &mut self,
        fileobj: &impl AsRawFd,
        events: Events,
        data: T,
    ) -> Result<SelectorKey<T>, Error> {
        let (fd, interest) = checked(fileobj, events)?;
        if self.map.contains_key(&fd) {
            return Err(Error::AlreadyRegistered(fd));
        }
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), token(fd), interest)?;
        let key = SelectorKey { fd, events, data };
        self.map.insert(fd, key.clone());
        Ok(key)
    }

    /// Changes what `fileobj` is watched for and its data (Python's
    /// `modify(fileobj, events, data)`), and returns the updated key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvents`] when `events` is empty, [`Error::InvalidFd`] for a
    /// negative descriptor, [`Error::NotRegistered`] when `fileobj` is not registered,
    /// and [`Error::Io`] when epoll refuses the change (the descriptor was closed
    /// before it was unregistered); then, as in Python, the registration is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, EVENT_READ, EVENT_WRITE};
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, _b) = UnixStream::pair()?;
    /// let mut sel = DefaultSelector::new()?;
    /// sel.register(&a, EVENT_READ, "reading")?;
    /// assert!(sel.select(Some(Duration::ZERO))?.is_empty());
    /// // A stream with room in its send buffer is writable at once.
    /// sel.modify(&a, EVENT_WRITE, "writing")?;
    /// let ready = sel.select(Some(Duration::from_secs(5)))?;
    /// assert_eq!((ready[0].0.data, ready[0].1), ("writing", EVENT_WRITE));
    /// # Ok(())
    /// # }
    /// ```
    pub fn modify(
        &mut self,
        fileobj: &impl AsRawFd,
        events: Events,
        data: T,
    ) -> Result<SelectorKey<T>, Error> {
        let (fd, interest) = checked(fileobj, events)?;
        let key = self.map.get_mut(&fd).ok_or(Error::NotRegistered(fd))?;
        if key.events != events {
            let changed = self
                .poll
                .registry()
                .reregister(&mut SourceFd(&fd), token(fd), interest);
            if let Err(e) = changed {
                // As CPython (bpo-30014): a registration epoll no longer accepts is
                // dropped, so the map never names what epoll does not watch.
                let _ = self.unregister(&Fd(fd));
                return Err(Error::Io(e));
            }
            key.events = events;
        }
        key.data = data;
        Ok(key.clone())
    }

    /// Waits until a registered source is ready, or `timeout` has passed, and returns
    /// each ready registration with its ready events (Python's `select(timeout)`).
    ///
    /// `None` waits as long as it takes; `Some(Duration::ZERO)` only polls; a timeout
    /// past [`TIMEOUT_MAX`](crate::threading::TIMEOUT_MAX) waits forever. An empty
    /// `Vec` means the timeout passed, and then at least `timeout` has passed: a wake
    /// with nothing to report (a signal, an event for a descriptor no longer
    /// registered) waits again for what remains. Readiness is level-triggered: a
    /// source that is still ready is reported again by the next call. An error or a
    /// hang-up on a source is reported as every event it is registered for, as
    /// Python does, so the read or write that follows sees it. Not interrupted by
    /// [`Thread::stop`](crate::threading::Thread::stop) (the wait is in epoll, not on
    /// the thread's parker), as socket calls are not.
    ///
    /// # Errors
    ///
    /// The operating system's error from `epoll_wait` or from re-arming a source
    /// (other than one closed before it was unregistered, which is skipped).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{DefaultSelector, EVENT_READ};
    /// use std::os::unix::net::UnixStream;
    /// use std::time::{Duration, Instant};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, _b) = UnixStream::pair()?;
    /// let mut sel = DefaultSelector::new()?;
    /// sel.register(&a, EVENT_READ, ())?;
    /// let start = Instant::now();
    /// assert!(sel.select(Some(Duration::from_millis(50)))?.is_empty());
    /// assert!(start.elapsed() >= Duration::from_millis(50));
    /// # Ok(())
    /// # }
    /// ```
    pub fn select(
        &mut self,
        timeout: Option<Duration>,
    ) -> io::Result<Vec<(SelectorKey<T>, Events)>> {
        // `None` both for "no timeout" and for one too long to be a deadline.
        let deadline = timeout.and_then(timeout::deadline);
        self.rearm()?;
        if self.events.capacity() < self.map.len() {
            self.events = mio::Events::with_capacity(self.map.len());
        }
        loop {
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.poll.poll(&mut self.events, wait) {
                Ok(()) => {}
                // PEP 475: a signal is retried with what remains of the timeout.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let ready = self.collect();
            if !ready.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(ready);
            }
        }
    }

    /// The registrations epoll reported in `self.events`, with their events, noting
    /// each one for `rearm`.
    fn collect(&mut self) -> Vec<(SelectorKey<T>, Events)> {
        let mut ready = Vec::new();
        for event in self.events.iter() {
            // The token is the descriptor (see `token`); an event for one
            // unregistered meanwhile is dropped, as Python drops it.
            let Ok(fd) = RawFd::try_from(event.token().0) else {
                continue;
            };
            let Some(key) = self.map.get(&fd) else {
                continue;
            };
            self.reported.push(fd);
            let got = readiness(event) & key.events;
            if !got.is_empty() {
                ready.push((key.clone(), got));
            }
        }
        ready
    }
}

impl<T> DefaultSelector<T> {
    /// Re-registers the descriptors the last `select` reported.
    //
    // mio registers every source edge-triggered (EPOLLET): epoll reports a source
    // once when it becomes ready, and not again until it becomes ready anew, so data
    // left unread would never be reported again. Python's selectors are
    // level-triggered. An EPOLL_CTL_MOD (mio's `reregister`) re-arms the edge: the
    // kernel polls the source at once and queues a report if it is still ready. Only
    // a reported source can be "ready but not reported" (an edge is never lost), so
    // re-arming those before each wait gives level-triggered reports for one
    // `epoll_ctl` per reported source.
    fn rearm(&mut self) -> io::Result<()> {
        let reported = std::mem::take(&mut self.reported);
        for (i, fd) in reported.iter().enumerate() {
            let Some(key) = self.map.get(fd) else {
                continue;
            };
            let Ok(interest) = interest(key.events) else {
                continue;
            };
            match self
                .poll
                .registry()
                .reregister(&mut SourceFd(fd), token(*fd), interest)
            {
                Ok(()) => {}
                // Closed before it was unregistered: epoll dropped it already, and
                // Python's selector would not report it either.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBADF | libc::ENOENT)) => {}
                Err(e) => {
                    // Keep the rest for the next call, so none loses its re-arm.
                    self.reported = reported[i..].to_vec();
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

// The registrations' data need not be `Debug`: show descriptors and events.
impl<T> fmt::Debug for DefaultSelector<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut fds: Vec<(RawFd, Events)> = self.map.values().map(|k| (k.fd, k.events)).collect();
        fds.sort_unstable_by_key(|&(fd, _)| fd);
        f.debug_struct("DefaultSelector")
            .field("registered", &fds)
            .finish_non_exhaustive()
    }
}

/// The descriptor of `fileobj`, refused when negative (Python's
/// `ValueError: Invalid file descriptor`).
fn valid_fd(fileobj: &impl AsRawFd) -> Result<RawFd, Error> {
    let fd = fileobj.as_raw_fd();
    if fd < 0 {
        return Err(Error::InvalidFd(fd));
    }
    Ok(fd)
}

/// The descriptor and mio interest for a registration of `fileobj` for `events`,
/// checked in Python's order: the events first, then the descriptor.
fn checked(fileobj: &impl AsRawFd, events: Events) -> Result<(RawFd, Interest), Error> {
    let interest = interest(events)?;
    Ok((valid_fd(fileobj)?, interest))
}

/// A descriptor as its mio token (`valid_fd` checked it is not negative, so the
/// cast keeps its value).
fn token(fd: RawFd) -> Token {
    Token(fd as usize)
}

/// What mio watches for `events`, refusing an empty mask (Python's
/// `ValueError: Invalid events`).
fn interest(events: Events) -> Result<Interest, Error> {
    match (events.contains(EVENT_READ), events.contains(EVENT_WRITE)) {
        (true, true) => Ok(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Ok(Interest::READABLE),
        (false, true) => Ok(Interest::WRITABLE),
        (false, false) => Err(Error::InvalidEvents(events.bits())),
    }
}

/// What one epoll report means in Python's terms: as CPython's `EpollSelector`, an
/// error or a hang-up counts as both events (masked by what the key watches), so the
/// caller's next read or write meets it.
fn readiness(event: &mio::event::Event) -> Events {
    let mut got = Events::default();
    if event.is_readable() || event.is_read_closed() || event.is_error() {
        got |= EVENT_READ;
    }
    if event.is_writable() || event.is_write_closed() || event.is_error() {
        got |= EVENT_WRITE;
    }
    got
}
