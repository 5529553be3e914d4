//! [`Thread::start`]: registering a thread and giving it an OS thread (or, for a
//! `Timer`'s thread, the timer service).

use std::sync::atomic::Ordering;

use super::error::Error;
use super::thread::{Life, Thread, TimerKind};
use super::{clock, exit, hooks, registry, stack, timer};
use crate::sync::{lock, next_ident};

impl Thread {
    /// Starts the thread: registers it (so `enumerate()` lists it and `ident()` is
    /// set when this returns) and runs its body on a new OS thread. Python: `start()`.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] on a second call; [`Error::InvalidStackSize`] when the
    /// builder asked for a stack below 32 KiB; [`Error::Spawn`] when the OS refuses a
    /// thread (the `Thread` stays unstarted and can be started again).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::threading::{Error, Thread};
    ///
    /// # fn main() -> Result<(), Error> {
    /// let t = Thread::new(|| {});
    /// t.start()?;
    /// assert!(matches!(t.start(), Err(Error::AlreadyStarted)));
    /// t.join()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(&self) -> Result<(), Error> {
        if self.inner.timer != TimerKind::None {
            // Not in the registry's map: the timer service lists it while pending.
            self.begin(Life::Pending, false)?;
            timer::start(self);
            return Ok(());
        }
        let stack_size = match self.stack_size_asked() {
            0 => stack::stack_size(),
            n => n,
        };
        if stack_size != 0 && stack_size < stack::MIN_STACK_SIZE {
            return Err(Error::InvalidStackSize);
        }
        // A thread whose OS thread is being created counts as running: `Pending` is
        // for threads that wait for one (timers).
        self.begin(Life::Running, true)?;
        exit::install();
        hooks::install_panic_hook();
        let mut builder = std::thread::Builder::new().name(os_name(&self.name()));
        if stack_size != 0 {
            builder = builder.stack_size(stack_size);
        }
        let me = self.clone();
        match builder.spawn(move || me.run_here()) {
            Ok(os) => {
                self.inner.keep_os_thread(os);
                Ok(())
            }
            Err(e) => {
                registry::remove(self);
                self.inner.ident.store(0, Ordering::Relaxed);
                {
                    let _st = lock(&self.inner.state);
                    self.inner.set_life(Life::Initial);
                    self.inner.set_started_at(0);
                }
                self.wake_starters();
                Err(Error::Spawn(e))
            }
        }
    }

    /// `Initial -> life`: assigns the ident and (when `list`) registers the thread.
    fn begin(&self, life: Life, list: bool) -> Result<(), Error> {
        let now = clock::now_nanos();
        {
            let _st = lock(&self.inner.state);
            if self.life() != Life::Initial {
                return Err(Error::AlreadyStarted);
            }
            self.inner.set_life(life);
            self.inner.set_started_at(now);
        }
        self.inner.ident.store(next_ident(), Ordering::Relaxed);
        if list {
            registry::insert(self);
        }
        Ok(())
    }
}

/// The name the OS sees: NULs removed, cut to Linux's 15 bytes at a char boundary.
fn os_name(name: &str) -> String {
    let clean: String = name.chars().filter(|&c| c != '\0').collect();
    let mut end = clean.len().min(15);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::os_name;

    #[test]
    fn os_name_cuts_at_char_boundary() {
        assert_eq!(os_name("short"), "short");
        assert_eq!(os_name("0123456789abcdefgh"), "0123456789abcde");
        // 'é' is 2 bytes: 14 ASCII + 'é' would end at byte 16, so it is dropped.
        assert_eq!(os_name("01234567890123é"), "01234567890123");
        assert_eq!(os_name("a\0b"), "ab");
    }
}
