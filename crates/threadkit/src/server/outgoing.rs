//! [`Outgoing`]: one connection's output queue, and the writer thread that
//! drains it when the client reads slower than the server writes.
//!
//! Whoever queues bytes for a connection (its own thread answering a line,
//! another connection's thread broadcasting to it) then tries to write them at
//! once with a non-blocking `send` (`MSG_DONTWAIT`), under the queue's lock.
//! Most of the time the kernel takes everything and no queue forms. Under the
//! server's service lock a connection only [`enqueue`](Outgoing::enqueue)s (so
//! every client gets lines in one global order) and [`flush`](Outgoing::flush)es
//! after releasing it: no system call is made while every connection waits. What the
//! kernel does not take is kept in the queue, and a writer thread is started
//! for the connection (once; it stays until the connection ends): it writes
//! with blocking sends while the queue has bytes and sleeps on a condition
//! variable otherwise. A slow client therefore never blocks anyone but its
//! own writer, and bytes go out in the order they were queued: a direct write
//! only happens when nothing is queued or in flight.
//!
//! The queue's size is what the limits look at: the connection's own answers
//! make it wait for the queue to shrink (backpressure), anyone else's lines
//! that would pass `max_queue` get the connection dropped (`too slow`).
//!
//! Under TLS the queue holds plaintext and the [`Wire`] encrypts as it
//! writes; bytes are drained from the queue's front only as the wire reports
//! them written, which is the order TLS needs to be called again in.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::memory;
use crate::threading::{self, Thread};
use crate::wire::Wire;

/// How long `join_writer` waits for the writer to end (it has been told to
/// stop and its socket is shut down by then, so this is a safety net).
const WRITER_JOIN: Duration = Duration::from_secs(2);

/// The result of queueing bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// Written or queued. `flush`: the queue had nothing waiting before, so
    /// the caller must [`flush`](Outgoing::flush) it (once the service lock is
    /// released); otherwise whoever queued the bytes before does, or the
    /// writer thread has them.
    Queued { flush: bool },
    /// The connection takes no more output (closing, closed, or broken).
    Closed,
    /// Refused: the queue would pass the given limit.
    Full,
}

/// How a writer thread is made.
#[derive(Debug, Clone)]
pub(crate) struct WriterSpec {
    /// The client as logs show it (`127.0.0.1:5555`), for the thread's name.
    pub(crate) client: String,
    /// `ServerConfig::daemon_threads`.
    pub(crate) daemon: bool,
    /// `ServerConfig::handler_stack_size`.
    pub(crate) stack_size: Option<usize>,
}

/// One connection's output queue (see the module docs).
pub(crate) struct Outgoing {
    inner: Arc<Inner>,
    spec: WriterSpec,
}

/// What the writer thread shares with everyone else.
struct Inner {
    /// The connection's socket, plain or under TLS.
    wire: Wire,
    state: Mutex<State>,
    // Signalled on every change: bytes queued (the writer waits), bytes
    // written (backpressure and flush waits), finish/abort, `wake`.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Bytes queued and not yet taken by the writer.
    buf: Vec<u8>,
    /// Bytes the writer took and has not written yet.
    in_flight: usize,
    /// The service's output is refused (the connection is closing).
    refusing: bool,
    /// The connection ended: the writer leaves once everything is written.
    finishing: bool,
    /// Drop everything: the writer leaves at once.
    aborted: bool,
    /// A send failed: nothing more can go out.
    broken: bool,
    /// The writer thread, once started.
    writer: Option<Thread>,
    /// Bytes written so far, to see progress.
    written: u64,
    /// Threads waiting on `changed`: a notify with none is skipped (std's
    /// `notify_all` is a system call whether anyone waits or not: one per
    /// answer on the echo path).
    waiting: u32,
}

impl State {
    fn pending(&self) -> usize {
        self.buf.len() + self.in_flight
    }
}

impl Outgoing {
    /// An empty queue for the connection behind `wire`.
    pub(crate) fn new(wire: Wire, spec: WriterSpec) -> Outgoing {
        Outgoing {
            inner: Arc::new(Inner {
                wire,
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
            spec,
        }
    }

    /// The bytes queued and not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.inner.lock().pending()
    }

    /// Queues `data` from the service without writing it (the caller holds the
    /// service lock; [`flush`](Outgoing::flush) writes after releasing it). With a
    /// `limit`, refuses it when bytes are already waiting and the queue would grow
    /// past `limit` (into an empty queue it goes: it would be written at once).
    pub(crate) fn enqueue(&self, data: &[u8], limit: Option<usize>) -> Push {
        let mut st = self.inner.lock();
        if st.refusing || st.broken || st.aborted || st.finishing {
            return Push::Closed;
        }
        let pending = st.pending();
        if matches!(limit, Some(max) if pending > 0 && pending + data.len() > max) {
            return Push::Full;
        }
        let flush = st.buf.is_empty();
        st.buf.extend_from_slice(data);
        Push::Queued { flush }
    }

    /// Writes what was [`enqueue`](Outgoing::enqueue)d: hands it to the writer
    /// thread if there is one, else writes what the kernel takes now and starts
    /// the writer for the rest.
    pub(crate) fn flush(&self) {
        let mut st = self.inner.lock();
        if st.buf.is_empty() || st.broken || st.aborted {
            return;
        }
        if st.writer.is_none() {
            match self.inner.wire.send_now(&st.buf) {
                Ok(n) => {
                    st.written += n as u64;
                    st.buf.drain(..n);
                    if st.buf.is_empty() {
                        release(&mut st.buf);
                        self.inner.notify(&st);
                        return;
                    }
                }
                Err(_) => {
                    st.broken = true;
                    st.buf = Vec::new();
                    self.inner.notify(&st);
                    return;
                }
            }
            if let Err(e) = self.start_writer().map(|t| st.writer = Some(t)) {
                self.writer_failed(&mut st, e);
                return;
            }
        }
        self.inner.notify(&st);
    }

    /// Queues the server's last words (a notice), even after the service's
    /// output is refused.
    pub(crate) fn push_final(&self, mut data: &[u8]) -> Push {
        let mut st = self.inner.lock();
        if st.broken || st.aborted || st.finishing {
            return Push::Closed;
        }
        if st.pending() == 0 {
            // Nothing ahead of these bytes: write what the kernel takes now.
            match self.inner.wire.send_now(data) {
                Ok(n) => {
                    st.written += n as u64;
                    data = &data[n..];
                }
                Err(_) => {
                    st.broken = true;
                    st.buf = Vec::new();
                    self.inner.notify(&st);
                    return Push::Closed;
                }
            }
            if data.is_empty() {
                return Push::Queued { flush: false };
            }
        }
        st.buf.extend_from_slice(data);
        if st.writer.is_none() {
            match self.start_writer() {
                Ok(t) => st.writer = Some(t),
                Err(e) => {
                    self.writer_failed(&mut st, e);
                    return Push::Closed;
                }
            }
        } else {
            self.inner.notify(&st);
        }
        Push::Queued { flush: false }
    }

    /// No writer thread could be had: the connection cannot go on.
    fn writer_failed(&self, st: &mut State, e: io::Error) {
        log::error!(
            "threadkit: cannot start a writer thread for {}: {e}",
            self.spec.client
        );
        st.broken = true;
        st.buf = Vec::new();
        // Wake the connection's reader.
        let _ = self.inner.wire.socket().shutdown(Shutdown::Both);
        self.inner.notify(st);
    }

    fn start_writer(&self) -> io::Result<Thread> {
        let inner = Arc::clone(&self.inner);
        let mut builder = Thread::builder()
            .name(format!("client {} writer", self.spec.client))
            .daemon(self.spec.daemon)
            .target(move || inner.write_loop());
        if let Some(size) = self.spec.stack_size {
            builder = builder.stack_size(size);
        }
        builder.spawn().map_err(io::Error::other)
    }

    /// Whether a send failed: the connection cannot be written any more.
    pub(crate) fn is_broken(&self) -> bool {
        self.inner.lock().broken
    }

    /// Refuses the service's output from now on (the connection is closing).
    pub(crate) fn refuse(&self) {
        self.inner.lock().refusing = true;
    }

    /// Wakes anyone waiting in [`wait_below`](Outgoing::wait_below), so they
    /// look at their `stopped` condition again.
    pub(crate) fn wake(&self) {
        let st = self.inner.lock();
        self.inner.notify(&st);
    }

    /// Waits until fewer than `limit` bytes are queued, `stopped()` holds, or
    /// the queue is broken: true. False when no byte was written for `idle`
    /// (`None`: wait as long as it takes).
    pub(crate) fn wait_below(
        &self,
        limit: usize,
        idle: Option<Duration>,
        stopped: impl Fn() -> bool,
    ) -> bool {
        let mut st = self.inner.lock();
        let mut seen = st.written;
        let mut deadline = idle.and_then(threading::deadline);
        loop {
            if st.pending() < limit || st.broken || st.aborted || stopped() {
                return true;
            }
            if st.written != seen {
                seen = st.written;
                deadline = idle.and_then(threading::deadline);
            }
            st = match deadline {
                None => self.inner.wait(st, None),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.inner.wait(st, Some(deadline - now))
                }
            };
        }
    }

    /// Takes no more output and waits for the queue to be written: true when
    /// it was (or the connection broke: nothing more to do), false when no
    /// byte was written for `stall`.
    pub(crate) fn finish(&self, stall: Duration) -> bool {
        let mut deadline = Instant::now() + stall;
        let mut st = self.inner.lock();
        let mut seen = st.written;
        st.refusing = true;
        st.finishing = true;
        self.inner.notify(&st);
        loop {
            if st.pending() == 0 || st.broken || st.aborted {
                return true;
            }
            let now = Instant::now();
            if st.written != seen {
                seen = st.written;
                deadline = now + stall;
            }
            if now >= deadline {
                return false;
            }
            st = self.inner.wait(st, Some(deadline - now));
        }
    }

    /// Drops whatever is queued and stops the writer (the caller shuts the
    /// socket down to break a send in progress).
    pub(crate) fn abort(&self) {
        let mut st = self.inner.lock();
        st.refusing = true;
        st.aborted = true;
        st.buf = Vec::new();
        self.inner.notify(&st);
    }

    /// Waits (bounded) for the writer thread, if one was started, to end; call
    /// after `finish` or `abort` and shutting the socket down.
    pub(crate) fn join_writer(&self) {
        let writer = self.inner.lock().writer.take();
        if let Some(writer) = writer {
            if let Ok(false) = writer.join_timeout(WRITER_JOIN) {
                log::warn!(
                    "threadkit: the writer thread of {} did not end",
                    self.spec.client
                );
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent: recover.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on `changed` (at most `timeout`), counted in `waiting`.
    fn wait<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, State> {
        st.waiting += 1;
        let mut st = match timeout {
            None => self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner),
            Some(t) => {
                self.changed
                    .wait_timeout(st, t)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
        st.waiting -= 1;
        st
    }

    /// Wakes the waiters on `changed`, if any (the caller holds the lock).
    fn notify(&self, st: &State) {
        if st.waiting > 0 {
            self.changed.notify_all();
        }
    }

    /// The writer thread: writes the queue with blocking sends until the
    /// connection ends.
    fn write_loop(&self) {
        let mut chunk = Vec::new();
        loop {
            {
                let mut st = self.lock();
                loop {
                    if st.aborted || st.broken {
                        return;
                    }
                    if !st.buf.is_empty() {
                        break;
                    }
                    if st.finishing {
                        return;
                    }
                    st = self.wait(st, None);
                }
                // Swap buffers: the queue keeps an allocation to grow into
                // while this one is written.
                chunk.clear();
                std::mem::swap(&mut chunk, &mut st.buf);
                st.in_flight = chunk.len();
            }
            let mut data = &chunk[..];
            let mut drained = false;
            while !data.is_empty() {
                let result = self.wire.send(data);
                let mut st = self.lock();
                match result {
                    Ok(n) => {
                        data = &data[n..];
                        st.in_flight -= n;
                        st.written += n as u64;
                        if data.is_empty() && st.buf.is_empty() {
                            // Drained: the memory of a burst goes back.
                            release(&mut st.buf);
                            drained = true;
                        }
                        self.notify(&st);
                    }
                    // The socket's idle timeout also bounds each send: keep
                    // trying while the connection lives.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                        ) && !st.aborted => {}
                    Err(_) => {
                        st.in_flight = 0;
                        st.buf = Vec::new();
                        st.broken = true;
                        self.notify(&st);
                        return;
                    }
                }
            }
            if drained && chunk.capacity() > KEEP {
                memory::freed(std::mem::take(&mut chunk).capacity());
            }
        }
    }
}

/// The most an empty queue keeps allocated: a drained queue gives back the
/// memory of a burst (an idle connection holds no large buffer).
const KEEP: usize = 16 * 1024;

/// Frees an empty buffer's allocation when it is larger than [`KEEP`].
pub(crate) fn release(buf: &mut Vec<u8>) {
    if buf.is_empty() && buf.capacity() > KEEP {
        memory::freed(std::mem::take(buf).capacity());
    }
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("Outgoing")
            .field("client", &self.spec.client)
            .field("pending", &st.pending())
            .field("writer", &st.writer.is_some())
            .field("broken", &st.broken)
            .finish()
    }
}
