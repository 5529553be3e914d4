//! The stack size for new threads: Python's `threading.stack_size([size])`.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::Error;

/// The smallest stack size accepted other than 0 (Python: 32 KiB).
pub(crate) const MIN_STACK_SIZE: usize = 32 * 1024;

/// 0: the platform default (std's 2 MiB, or `RUST_MIN_STACK`).
static STACK_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The stack size, in bytes, used for threads started from now on without one of
/// their own; 0 means the platform default. Python: `threading.stack_size()`.
///
/// # Examples
///
/// ```
/// use threadkit::threading::stack_size;
///
/// let size = stack_size();
/// assert!(size == 0 || size >= 32 * 1024);
/// ```
pub fn stack_size() -> usize {
    STACK_SIZE.load(Ordering::Relaxed)
}

/// Sets the stack size for threads started from now on; returns the previous size.
/// Python: `threading.stack_size(size)`.
///
/// # Errors
///
/// [`Error::InvalidStackSize`] unless `size` is 0 (the platform default) or at least
/// 32 KiB; nothing changes then.
///
/// # Examples
///
/// ```
/// use threadkit::threading::{set_stack_size, Error};
///
/// # fn main() -> Result<(), Error> {
/// assert!(matches!(set_stack_size(1000), Err(Error::InvalidStackSize)));
/// let previous = set_stack_size(512 * 1024)?;
/// set_stack_size(previous)?;
/// # Ok(())
/// # }
/// ```
pub fn set_stack_size(size: usize) -> Result<usize, Error> {
    if size != 0 && size < MIN_STACK_SIZE {
        return Err(Error::InvalidStackSize);
    }
    Ok(STACK_SIZE.swap(size, Ordering::Relaxed))
}
