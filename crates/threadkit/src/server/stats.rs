//! A TCP server's counters for the live page (`/server.json`): clients now,
//! accepted, refused, lines in and out, disconnects by reason. Connects and
//! disconnects are counted from the server's events; lines by one increment
//! where each model hands a line to its service. Relaxed atomics: the counts
//! order nothing.

use std::sync::atomic::{AtomicU64, Ordering};

use super::conn::CloseReason;
use super::events::ServerEvent;
use super::outbox::Action;
use crate::monitor::ServerCounters;

/// Every close reason, in the order `/server.json` lists them.
const REASONS: [CloseReason; 10] = [
    CloseReason::Closed,
    CloseReason::Reset,
    CloseReason::Idle,
    CloseReason::TooLong,
    CloseReason::TooSlow,
    CloseReason::Full,
    CloseReason::Refused,
    CloseReason::Shutdown,
    CloseReason::Tls,
    CloseReason::Error,
];

#[derive(Debug, Default)]
pub(crate) struct Stats {
    connects: AtomicU64,
    lines_in: AtomicU64,
    lines_out: AtomicU64,
    /// Indexed as `REASONS`.
    disconnects: [AtomicU64; REASONS.len()],
}

impl Stats {
    /// Counts a connect or a disconnect.
    pub(crate) fn record(&self, event: &ServerEvent) {
        match event {
            ServerEvent::Connect { .. } => {
                self.connects.fetch_add(1, Ordering::Relaxed);
            }
            ServerEvent::Disconnect { reason, .. } => {
                if let Some(i) = REASONS.iter().position(|r| r == reason) {
                    self.disconnects[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    /// Counts one line handed to the service and the lines it sent back
    /// (`actions`, its outbox: a broadcast counts once).
    pub(crate) fn line(&self, actions: &[Action]) {
        self.lines_in.fetch_add(1, Ordering::Relaxed);
        let out = actions
            .iter()
            .filter(|a| !matches!(a, Action::Close(_)))
            .count();
        self.lines_out.fetch_add(out as u64, Ordering::Relaxed);
    }

    pub(crate) fn counters(&self) -> ServerCounters {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let disconnects: Vec<(String, u64)> = REASONS
            .iter()
            .zip(&self.disconnects)
            .map(|(r, n)| (r.to_string(), get(n)))
            .collect();
        let ended: u64 = disconnects.iter().map(|(_, n)| n).sum();
        let refused: u64 = REASONS
            .iter()
            .zip(&self.disconnects)
            .filter(|(r, _)| matches!(r, CloseReason::Full | CloseReason::Refused))
            .map(|(_, n)| get(n))
            .sum();
        let connects = get(&self.connects);
        ServerCounters {
            clients: connects.saturating_sub(ended),
            // A refused connection is reported as a connect and a `full` or
            // `refused` disconnect.
            accepted: connects.saturating_sub(refused),
            refused,
            lines_in: get(&self.lines_in),
            lines_out: get(&self.lines_out),
            disconnects,
        }
    }
}
