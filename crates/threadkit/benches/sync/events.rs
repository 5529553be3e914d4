//! `Event` and `Semaphore` hand-offs between two threads, against the floor
//! (`std::thread::park`/`unpark`) and the usual Mutex + Condvar peers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use criterion::Criterion;
use threadkit::threading::{Event, Semaphore};

/// One side of a ping-pong: `ping` wakes the partner, `pong` waits for its answer.
trait PingPong: Send + Sync + 'static {
    /// The main thread's half of one round trip.
    fn round_trip(&self);
    /// The partner's half; `false` when asked to stop.
    fn answer(&self, stop: &AtomicBool) -> bool;
    /// Wakes the partner so it can see the stop flag.
    fn release_partner(&self);
}

/// Runs `iters` round trips against a partner thread that lives for the whole
/// benchmark.
fn bench_ping_pong<P: PingPong>(c: &mut Criterion, group: &str, name: &str, p: P) {
    let p = Arc::new(p);
    let stop = Arc::new(AtomicBool::new(false));
    let partner: JoinHandle<()> = {
        let (p, stop) = (p.clone(), stop.clone());
        thread::spawn(move || while p.answer(&stop) {})
    };
    c.benchmark_group(group).bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                p.round_trip();
            }
            start.elapsed()
        })
    });
    stop.store(true, Ordering::SeqCst);
    p.release_partner();
    partner.join().unwrap();
}

/// Two threadkit events: set / wait / clear each way.
struct Events {
    ping: Event,
    pong: Event,
}

impl PingPong for Events {
    fn round_trip(&self) {
        self.ping.set();
        self.pong.wait();
        self.pong.clear();
    }
    fn answer(&self, stop: &AtomicBool) -> bool {
        self.ping.wait();
        self.ping.clear();
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        self.pong.set();
        true
    }
    fn release_partner(&self) {
        self.ping.set();
    }
}

/// The floor: flags plus `std::thread::park`/`unpark`.
struct Parking {
    ping: AtomicBool,
    pong: AtomicBool,
    main: thread::Thread,
    partner: Mutex<Option<thread::Thread>>,
}

impl Parking {
    fn partner(&self) -> thread::Thread {
        loop {
            if let Some(t) = self.partner.lock().unwrap().clone() {
                return t;
            }
            thread::yield_now();
        }
    }
}

impl PingPong for Parking {
    fn round_trip(&self) {
        self.ping.store(true, Ordering::Release);
        self.partner().unpark();
        while !self.pong.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
    fn answer(&self, stop: &AtomicBool) -> bool {
        {
            let mut me = self.partner.lock().unwrap();
            if me.is_none() {
                *me = Some(thread::current());
            }
        }
        while !self.ping.swap(false, Ordering::Acquire) {
            thread::park();
        }
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        self.pong.store(true, Ordering::Release);
        self.main.unpark();
        true
    }
    fn release_partner(&self) {
        self.ping.store(true, Ordering::Release);
        self.partner().unpark();
    }
}

/// An event built from `std::sync::Mutex<bool>` + `Condvar`.
#[derive(Default)]
struct CondvarEvent {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl CondvarEvent {
    fn set(&self) {
        *self.flag.lock().unwrap() = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut f = self.flag.lock().unwrap();
        while !*f {
            f = self.cv.wait(f).unwrap();
        }
    }
    fn clear(&self) {
        *self.flag.lock().unwrap() = false;
    }
}

struct CondvarEvents {
    ping: CondvarEvent,
    pong: CondvarEvent,
}

impl PingPong for CondvarEvents {
    fn round_trip(&self) {
        self.ping.set();
        self.pong.wait();
        self.pong.clear();
    }
    fn answer(&self, stop: &AtomicBool) -> bool {
        self.ping.wait();
        self.ping.clear();
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        self.pong.set();
        true
    }
    fn release_partner(&self) {
        self.ping.set();
    }
}

/// Two threadkit semaphores: release one, acquire the other.
struct Semaphores {
    ping: Semaphore,
    pong: Semaphore,
}

impl PingPong for Semaphores {
    fn round_trip(&self) {
        self.ping.release();
        self.pong.acquire();
    }
    fn answer(&self, stop: &AtomicBool) -> bool {
        self.ping.acquire();
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        self.pong.release();
        true
    }
    fn release_partner(&self) {
        self.ping.release();
    }
}

/// A counting semaphore from `parking_lot::Mutex<usize>` + `Condvar`.
#[derive(Default)]
struct PlSemaphore {
    count: parking_lot::Mutex<usize>,
    cv: parking_lot::Condvar,
}

impl PlSemaphore {
    fn acquire(&self) {
        let mut n = self.count.lock();
        while *n == 0 {
            self.cv.wait(&mut n);
        }
        *n -= 1;
    }
    fn release(&self) {
        *self.count.lock() += 1;
        self.cv.notify_one();
    }
}

struct PlSemaphores {
    ping: PlSemaphore,
    pong: PlSemaphore,
}

impl PingPong for PlSemaphores {
    fn round_trip(&self) {
        self.ping.release();
        self.pong.acquire();
    }
    fn answer(&self, stop: &AtomicBool) -> bool {
        self.ping.acquire();
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        self.pong.release();
        true
    }
    fn release_partner(&self) {
        self.ping.release();
    }
}

/// Uncontended costs: a wait on a set event, a free permit.
fn fast_paths(c: &mut Criterion) {
    let mut g = c.benchmark_group("fast path");
    let ev = Event::new();
    ev.set();
    g.bench_function("Event::wait (set)", |b| b.iter(|| ev.wait()));
    let sem = Semaphore::new(1);
    g.bench_function("Semaphore acquire+release", |b| {
        b.iter(|| {
            sem.acquire();
            sem.release();
        })
    });
    g.finish();
}

/// The group list for `main.rs`.
pub fn benches(c: &mut Criterion) {
    bench_ping_pong(
        c,
        "event ping-pong",
        "threadkit Event",
        Events {
            ping: Event::new(),
            pong: Event::new(),
        },
    );
    bench_ping_pong(
        c,
        "event ping-pong",
        "std park/unpark (floor)",
        Parking {
            ping: AtomicBool::new(false),
            pong: AtomicBool::new(false),
            main: thread::current(),
            partner: Mutex::new(None),
        },
    );
    bench_ping_pong(
        c,
        "event ping-pong",
        "std Mutex+Condvar event",
        CondvarEvents {
            ping: CondvarEvent::default(),
            pong: CondvarEvent::default(),
        },
    );
    bench_ping_pong(
        c,
        "semaphore hand-off",
        "threadkit Semaphore",
        Semaphores {
            ping: Semaphore::new(0),
            pong: Semaphore::new(0),
        },
    );
    bench_ping_pong(
        c,
        "semaphore hand-off",
        "parking_lot Mutex+Condvar semaphore",
        PlSemaphores {
            ping: PlSemaphore::default(),
            pong: PlSemaphore::default(),
        },
    );
    fast_paths(c);
}
