//! The worker's side of delivery: the service lock (with the mailbox applied
//! first), carrying out an outbox to local connections and other workers'
//! mailboxes, and applying what other workers sent.

use std::mem;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use super::conn::conn_at;
use super::Worker;
use crate::server::conn::{CloseReason, ConnId};
use crate::server::outbox::Action;
use crate::server::scalable::{Item, Open, Place};

impl<'a> Worker<'a> {
    /// The service lock, with the mailbox's lines applied first: they were
    /// queued under the lock before this, so they go out before anything
    /// queued under it now. Most are applied before the lock is taken (so a
    /// recipient near its limit can be written); the few that came meanwhile,
    /// under it.
    pub(super) fn lock(&mut self) -> MutexGuard<'a, Open> {
        self.take_items();
        let open = self.hub.lock_open();
        if self.mailbox.pending.load(Ordering::Acquire) {
            let mut items = mem::take(&mut self.items);
            mem::swap(&mut self.mailbox.lock().items, &mut items);
            self.apply(&mut items, false);
            self.items = items;
        }
        open
    }

    /// Applies other workers' lines between two lines of a slice (the
    /// service lock released), writing each recipient near its limit at
    /// once: a burst from another worker reaches a fast reader as fast as
    /// the kernel takes it. New clients wait for the turn's mailbox.
    pub(super) fn take_items(&mut self) {
        if !self.mailbox.pending.load(Ordering::Acquire) {
            return;
        }
        let mut items = mem::take(&mut self.items);
        mem::swap(&mut self.mailbox.lock().items, &mut items);
        self.apply(&mut items, true);
        self.items = items;
    }

    /// Takes new clients and other workers' lines from the mailbox.
    pub(super) fn take_mailbox(&mut self) {
        if !self.mailbox.pending.load(Ordering::Acquire) {
            return;
        }
        let mut accepted = mem::take(&mut self.accepted);
        let mut items = mem::take(&mut self.items);
        {
            let mut inbox = self.mailbox.lock();
            mem::swap(&mut inbox.accepted, &mut accepted);
            mem::swap(&mut inbox.items, &mut items);
            self.mailbox.pending.store(false, Ordering::Release);
        }
        self.apply(&mut items, true);
        self.finish_ending();
        for a in accepted.drain(..) {
            self.open_conn(a);
        }
        self.accepted = accepted;
        self.items = items;
    }

    /// Carries out other workers' requests, in order; `unlocked`: the service
    /// lock is not held, so recipients near their limit are written at once.
    pub(super) fn apply(&mut self, items: &mut Vec<Item>, unlocked: bool) {
        for item in items.drain(..) {
            if unlocked {
                self.flush_urgent();
            }
            match item {
                Item::Send { to, token, data } => self.deliver(token, to, &data),
                Item::Broadcast { except, data } => {
                    for token in 0..self.conns.len() {
                        let Some(c) = &self.conns[token] else {
                            continue;
                        };
                        if c.open && Some(c.id) != except {
                            let id = c.id;
                            self.deliver(token, id, &data);
                        }
                    }
                }
                Item::Close { to, token } => self.stop(token, to, CloseReason::Closed),
            }
        }
        if unlocked {
            self.flush_urgent();
        }
    }

    /// Carries out an outbox that only answers or closes the calling connection,
    /// without the service lock: `Some(closed_me)`. `None` (nothing done) when an
    /// action is for another connection: then [`carry_out`](Self::carry_out) it
    /// under the lock.
    pub(super) fn carry_out_own(&mut self, me_token: usize, me: ConnId) -> Option<bool> {
        let own = self.outbox.actions().iter().all(|a| match a {
            Action::Send { to, .. } => *to == me,
            Action::Close(id) => *id == me,
            _ => false,
        });
        if !own {
            return None;
        }
        let mut closed_me = false;
        let mut outbox = mem::take(&mut self.outbox);
        for action in outbox.drain() {
            match action {
                Action::Send { text, .. } if !closed_me => self.queue_own(me_token, me, &text),
                Action::Send { .. } => {}
                _ => closed_me = true,
            }
        }
        self.outbox = outbox;
        Some(closed_me)
    }

    /// Carries out the outbox of a callback for `me` (under the service
    /// lock); true when it closed `me`.
    pub(super) fn carry_out(&mut self, open: &mut Open, me_token: usize, me: ConnId) -> bool {
        let mut closed_me = false;
        let mut outbox = mem::take(&mut self.outbox);
        for action in outbox.drain() {
            match action {
                Action::Send { to, text } if to == me => {
                    if !closed_me {
                        self.queue_own(me_token, me, &text);
                    }
                }
                Action::Send { to, mut text } => {
                    let Some(&place) = open.conns.get(&to) else {
                        continue;
                    };
                    text.push('\n');
                    if place.worker == self.index {
                        self.deliver(place.token, to, text.as_bytes());
                    } else {
                        self.post(
                            place.worker,
                            Item::Send {
                                to,
                                token: place.token,
                                data: text.into_bytes().into_boxed_slice(),
                            },
                        );
                    }
                }
                Action::Broadcast { except, mut text } => {
                    text.push('\n');
                    self.broadcast_elsewhere(open, except, &text);
                    for token in 0..self.conns.len() {
                        let Some(c) = &self.conns[token] else {
                            continue;
                        };
                        if !c.open || Some(c.id) == except {
                            continue;
                        }
                        let id = c.id;
                        if id != me {
                            self.deliver(token, id, text.as_bytes());
                        } else if !closed_me {
                            self.append_own(token, id, text.as_bytes());
                        }
                    }
                }
                Action::Close(id) if id == me => closed_me = true,
                Action::Close(id) => {
                    let Some(&Place { worker, token }) = open.conns.get(&id) else {
                        continue;
                    };
                    if worker == self.index {
                        self.stop(token, id, CloseReason::Closed);
                    } else {
                        self.post(worker, Item::Close { to: id, token });
                    }
                }
            }
        }
        self.outbox = outbox;
        closed_me
    }

    /// One shared copy of a broadcast line for each other worker with open
    /// connections.
    pub(super) fn broadcast_elsewhere(&mut self, open: &Open, except: Option<ConnId>, text: &str) {
        let mut data: Option<Arc<[u8]>> = None;
        for (worker, &n) in open.per_worker.iter().enumerate() {
            if worker == self.index || n == 0 {
                continue;
            }
            let data = Arc::clone(data.get_or_insert_with(|| Arc::from(text.as_bytes())));
            self.post(worker, Item::Broadcast { except, data });
        }
    }

    /// Puts an item in another worker's mailbox (under the service lock); the
    /// worker is woken after the lock is released.
    fn post(&mut self, worker: usize, item: Item) {
        if self.hub.mailboxes[worker].push(item) {
            self.to_wake[worker] = true;
        }
    }

    /// Queues a line for a connection other than the one being served. One
    /// whose queue passes `max_queue` with it is marked `over` and written
    /// first thing after the lock (`flush_urgent`): still over, it ends as too
    /// slow.
    pub(super) fn deliver(&mut self, token: usize, id: ConnId, data: &[u8]) {
        let max = self.max_queue;
        let Some(conn) = conn_at(&mut self.conns, token, id) else {
            return;
        };
        if !conn.open || conn.ending.is_some() {
            return;
        }
        if !conn.append(data, Some(max)) {
            conn.over = true;
            conn.out.extend_from_slice(data);
        }
        if conn.over || conn.pending() >= max / 2 {
            self.urgent.push((token, id));
        }
        self.mark_dirty(token, id);
    }

    /// Queues one of the served connection's own lines (no limit: it pauses
    /// between lines instead).
    pub(super) fn queue_own(&mut self, token: usize, id: ConnId, text: &str) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            if conn.open {
                conn.out.reserve(text.len() + 1);
                conn.out.extend_from_slice(text.as_bytes());
                conn.out.push(b'\n');
                self.mark_dirty(token, id);
            }
        }
    }

    /// Queues bytes (a line with its `\n`) for the served connection.
    fn append_own(&mut self, token: usize, id: ConnId, data: &[u8]) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            conn.append(data, None);
            self.mark_dirty(token, id);
        }
    }

    /// Puts a connection on the `dirty` list (once): written at the turn's end.
    fn mark_dirty(&mut self, token: usize, id: ConnId) {
        if let Some(conn) = conn_at(&mut self.conns, token, id) {
            if !conn.dirty {
                conn.dirty = true;
                self.dirty.push((token, id));
            }
        }
    }
}
