//! SIGINT, SIGTERM and SIGUSR1, handled from before the `listening on` line.
//!
//! [`install`] registers the handlers first: a signal that comes while the server
//! binds waits in the registration and is acted on once [`Signals::spawn`] gives
//! it a thread and a stop action.

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use threadkit::threading::{self, Thread, ThreadInfo};

use crate::logger;

/// The installed handlers; their signals are queued until [`Signals::spawn`].
#[derive(Debug)]
pub struct Signals(signal_hook::iterator::Signals);

/// Installs the handlers now, so that from here on a SIGTERM or SIGUSR1 never
/// kills the process.
///
/// # Errors
///
/// When the system refuses a handler.
pub fn install() -> Result<Signals> {
    signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGUSR1])
        .map(Signals)
        .context("cannot install signal handlers")
}

impl Signals {
    /// Runs `stop` on the first SIGINT or SIGTERM (a second one exits at once),
    /// and logs a thread dump (internal threads too) on every SIGUSR1, from a
    /// thread of their own.
    ///
    /// # Errors
    ///
    /// When the thread cannot start.
    pub fn spawn(self, stop: impl Fn() + Send + 'static) -> Result<()> {
        let mut signals = self.0;
        Thread::builder()
            .name("signals")
            .daemon(true)
            .target(move || {
                let mut stopping = false;
                for signal in signals.forever() {
                    match signal {
                        SIGUSR1 => {
                            let mut dump = ThreadInfo::table(&threading::dump_all()).to_string();
                            for deadlock in threading::deadlocks() {
                                dump += &deadlock.to_string();
                            }
                            logger::line(dump.trim_end());
                        }
                        _ if stopping => std::process::exit(1),
                        _ => {
                            stopping = true;
                            stop();
                        }
                    }
                }
            })
            .spawn()
            .context("cannot start the signal thread")?;
        Ok(())
    }
}
