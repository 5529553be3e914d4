//! The worker's timers: one deadline per connection, lazily kept in a heap.

use std::cmp::Reverse;
use std::time::Instant;

use super::conn::{conn_at, NoneOrLater, Phase};
use super::Worker;
use crate::server::conn::{CloseReason, ConnId};

impl Worker<'_> {
    /// Sets a connection's deadline, arming a timer entry when none comes
    /// before it.
    pub(super) fn set_deadline(&mut self, token: usize, id: ConnId, at: Option<Instant>) {
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        conn.deadline = at;
        if let Some(at) = at {
            if conn.armed.is_none_or_later(at) {
                conn.armed = Some(at);
                self.timers.push(Reverse((at, token, id)));
            }
        }
    }

    pub(super) fn run_timers(&mut self) {
        while let Some(&Reverse((at, token, id))) = self.timers.peek() {
            if at > self.now {
                break;
            }
            self.timers.pop();
            let Some(conn) = conn_at(&mut self.conns, token, id) else {
                continue;
            };
            if conn.armed != Some(at) {
                continue; // superseded by an earlier entry
            }
            conn.armed = None;
            match conn.deadline {
                None => continue,
                Some(d) if d > self.now => {
                    conn.armed = Some(d);
                    self.timers.push(Reverse((d, token, id)));
                    continue;
                }
                Some(_) => conn.deadline = None,
            }
            match conn.phase {
                Phase::Serving => {
                    let reason = if conn.paused {
                        CloseReason::TooSlow
                    } else {
                        CloseReason::Idle
                    };
                    self.end(token, id, reason);
                }
                Phase::Flushing { .. } => {
                    conn.out = Vec::new();
                    conn.sent = 0;
                    self.remove(token, id);
                }
                Phase::Lingering { .. } => self.remove(token, id),
            }
            self.finish_ending();
        }
        // Entries of connections that are gone wait until they come due:
        // after much churn, keep only the live ones.
        if self.timers.len() > 2 * self.live + 1024 {
            self.timers = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(token, c)| {
                    let c = c.as_ref()?;
                    Some(Reverse((c.armed?, token, c.id)))
                })
                .collect();
        }
    }
}
