//! [`Events`]: the event mask of a registration and of a readiness report, with
//! Python's [`EVENT_READ`] and [`EVENT_WRITE`].

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

use super::error::Error;

/// A set of I/O events: [`EVENT_READ`], [`EVENT_WRITE`], both, or none.
///
/// Python's selectors take an `int` mask; here the mask is typed, so a value outside
/// `EVENT_READ | EVENT_WRITE` cannot be built (except through [`Events::from_bits`],
/// which refuses it). Combine with `|`, test with [`contains`](Events::contains) or
/// `&` and [`is_empty`](Events::is_empty), as Python tests `mask & EVENT_READ`.
///
/// # Examples
///
/// ```
/// use threadkit::selectors::{Events, EVENT_READ, EVENT_WRITE};
///
/// let both = EVENT_READ | EVENT_WRITE;
/// assert!(both.contains(EVENT_READ));
/// assert!(!(both & EVENT_WRITE).is_empty());
/// assert_eq!(both.bits(), 3);
/// assert!(Events::default().is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Events(u8);

/// The source is ready to read (or at end of file, or in error): Python's
/// `selectors.EVENT_READ` (1).
///
/// # Examples
///
/// ```
/// use threadkit::selectors::EVENT_READ;
///
/// assert_eq!(EVENT_READ.bits(), 1);
/// ```
pub const EVENT_READ: Events = Events(1);

/// The source is ready to write (or in error): Python's `selectors.EVENT_WRITE` (2).
///
/// # Examples
///
/// ```
/// use threadkit::selectors::EVENT_WRITE;
///
/// assert_eq!(EVENT_WRITE.bits(), 2);
/// ```
pub const EVENT_WRITE: Events = Events(2);

impl Events {
    /// The mask as Python's integer: `EVENT_READ` is 1, `EVENT_WRITE` is 2.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{EVENT_READ, EVENT_WRITE};
    ///
    /// assert_eq!((EVENT_READ | EVENT_WRITE).bits(), 3);
    /// ```
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The mask for Python's integer `bits` (0 to 3), for code ported with numeric
    /// masks.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvents`] (Python's `ValueError: Invalid events`) for a bit
    /// other than `EVENT_READ` and `EVENT_WRITE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{Events, EVENT_READ, EVENT_WRITE};
    ///
    /// # fn main() -> Result<(), threadkit::selectors::Error> {
    /// assert_eq!(Events::from_bits(3)?, EVENT_READ | EVENT_WRITE);
    /// assert!(Events::from_bits(4).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub const fn from_bits(bits: u8) -> Result<Events, Error> {
        if bits & !(EVENT_READ.0 | EVENT_WRITE.0) != 0 {
            return Err(Error::InvalidEvents(bits));
        }
        Ok(Events(bits))
    }

    /// Whether every event of `other` is in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{EVENT_READ, EVENT_WRITE};
    ///
    /// assert!((EVENT_READ | EVENT_WRITE).contains(EVENT_WRITE));
    /// assert!(!EVENT_READ.contains(EVENT_WRITE));
    /// ```
    #[must_use]
    pub const fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the mask holds no event (Python's `mask == 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::selectors::{EVENT_READ, EVENT_WRITE};
    ///
    /// assert!((EVENT_READ & EVENT_WRITE).is_empty());
    /// ```
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events(self.0 | rhs.0)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, rhs: Events) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events(self.0 & rhs.0)
    }
}

// Shown as Python writes a mask in code: `EVENT_READ | EVENT_WRITE`, or `0`.
impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.contains(EVENT_READ), self.contains(EVENT_WRITE)) {
            (true, true) => f.write_str("EVENT_READ | EVENT_WRITE"),
            (true, false) => f.write_str("EVENT_READ"),
            (false, true) => f.write_str("EVENT_WRITE"),
            (false, false) => f.write_str("0"),
        }
    }
}
