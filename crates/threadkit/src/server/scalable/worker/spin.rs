//! Busy polling: a worker about to sleep in `epoll_wait` polls without blocking
//! for a short while first, when the last wait says the next event is near.
//!
//! Sleeping costs more than the wait itself: the client's send must wake the
//! worker (a cross-CPU wake-up inside the client's system call), and the worker
//! runs again only once the scheduler gets to it. On loopback with one client
//! that is most of a round trip (benches/echo_load: 50 us of polling made the
//! server twice as fast at C = 1). It is off by default
//! (`ServerConfig::busy_poll`): where the clients share the server's cores, the
//! spinning takes their CPU (TLS echo at C = 16 fell from 1.13x-1.33x
//! tokio-rustls to 0.69x-0.74x with it; a yield that ran another thread is not a
//! usable signal, since the threads that wanted the CPU waited on the other core).
//!
//! The window adapts, so an idle or lightly loaded worker burns nothing: each
//! time events arrive the worker measures how long it waited (spinning or
//! asleep, from the moment it had nothing left to do). A wait no longer than the
//! configured window means events come close together: the next wait spins for
//! up to the window. A longer one means sleeping was right: the next wait
//! sleeps at once. So the CPU spent spinning is at most one window per sleep,
//! and none while waits are long. Between polls the worker yields the CPU, so a
//! runnable thread on the same core (a client, another server) goes first.

use std::time::{Duration, Instant};

pub(super) struct Spin {
    /// The longest spin ([`ServerConfig::busy_poll`]); zero: never spin.
    ///
    /// [`ServerConfig::busy_poll`]: crate::server::ServerConfig::busy_poll
    window: Duration,
    /// The last wait was short enough: spin before the next sleep.
    armed: bool,
    /// When the worker ran out of work (None while it has some).
    idle_since: Option<Instant>,
}

impl Spin {
    pub(super) fn new(window: Duration) -> Spin {
        Spin {
            window,
            armed: false,
            idle_since: None,
        }
    }

    /// The timeout for the next poll: `wanted` (what the loop's work and timers
    /// ask), or zero while a spin is on (after yielding the CPU).
    pub(super) fn timeout(&mut self, wanted: Option<Duration>) -> Option<Duration> {
        if wanted == Some(Duration::ZERO) {
            // Work is waiting: this poll only collects events.
            self.idle_since = None;
            return wanted;
        }
        let now = Instant::now();
        let since = *self.idle_since.get_or_insert(now);
        if self.armed && now.duration_since(since) < self.window {
            std::thread::yield_now();
            return Some(Duration::ZERO);
        }
        wanted
    }

    /// After a poll: `events` says whether it brought any. Measures the wait
    /// that ended and decides whether the next one spins.
    pub(super) fn polled(&mut self, events: bool) {
        if !events {
            return;
        }
        if let Some(since) = self.idle_since.take() {
            self.armed = since.elapsed() <= self.window;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(50);
    const LONG: Option<Duration> = Some(Duration::from_secs(10));

    #[test]
    fn a_first_wait_sleeps_and_a_short_one_arms_the_spin() {
        let mut spin = Spin::new(WINDOW);
        assert_eq!(spin.timeout(LONG), LONG);
        spin.polled(true);
        assert_eq!(spin.timeout(LONG), Some(Duration::ZERO));
        assert_eq!(spin.timeout(None), Some(Duration::ZERO));
    }

    #[test]
    fn a_spin_ends_after_its_window_and_a_long_wait_disarms_it() {
        let mut spin = Spin::new(WINDOW);
        spin.timeout(LONG);
        spin.polled(true);
        assert_eq!(spin.timeout(LONG), Some(Duration::ZERO));
        spin.polled(false);
        std::thread::sleep(WINDOW * 2);
        assert_eq!(spin.timeout(LONG), LONG, "the window ran out: sleep");
        spin.polled(true);
        assert_eq!(spin.timeout(None), None, "that wait was long: no spin");
    }

    #[test]
    fn work_in_hand_never_spins_and_restarts_the_wait() {
        let mut spin = Spin::new(WINDOW);
        spin.timeout(LONG);
        spin.polled(true);
        assert_eq!(spin.timeout(Some(Duration::ZERO)), Some(Duration::ZERO));
        spin.polled(true);
        assert_eq!(spin.timeout(LONG), Some(Duration::ZERO), "still armed");
    }

    #[test]
    fn a_zero_window_never_spins() {
        let mut spin = Spin::new(Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(spin.timeout(LONG), LONG);
            spin.polled(true);
        }
    }
}
