//! The workloads `queue.rs` (criterion) and `queue_interleaved.rs` share: a
//! transfer through a channel with any number of producers and consumers, and the
//! pinned wake-up round trip through two queues against bare park/unpark.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use threadkit::queue::Queue;

pub const CAP: usize = 1024;
pub const SIDES: u64 = 4;

/// The sending and receiving halves a benchmark needs, cloned per thread.
pub trait Channel: Send + 'static {
    type Tx: Send + Clone + 'static;
    type Rx: Send + Clone + 'static;
    fn make() -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, v: u64);
    fn recv(rx: &Self::Rx) -> u64;
}

pub struct Tk;
impl Channel for Tk {
    type Tx = Arc<Queue<u64>>;
    type Rx = Arc<Queue<u64>>;
    fn make() -> (Self::Tx, Self::Rx) {
        let q = Arc::new(Queue::new(CAP));
        (q.clone(), q)
    }
    fn send(tx: &Self::Tx, v: u64) {
        tx.put(v).unwrap();
    }
    fn recv(rx: &Self::Rx) -> u64 {
        rx.get().unwrap()
    }
}

pub struct Crossbeam;
impl Channel for Crossbeam {
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;
    fn make() -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(CAP)
    }
    fn send(tx: &Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(rx: &Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

/// std's receiver is single-consumer: several consumers share it behind a Mutex,
/// as a std user would.
pub struct Std;
impl Channel for Std {
    type Tx = mpsc::SyncSender<u64>;
    type Rx = Arc<Mutex<mpsc::Receiver<u64>>>;
    fn make() -> (Self::Tx, Self::Rx) {
        let (tx, rx) = mpsc::sync_channel(CAP);
        (tx, Arc::new(Mutex::new(rx)))
    }
    fn send(tx: &Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(rx: &Self::Rx) -> u64 {
        rx.lock().unwrap().recv().unwrap()
    }
}

/// Moves `per_side * producers` items from `producers` threads to `consumers`
/// threads; returns the time from the first spawn to the last join.
pub fn transfer<C: Channel>(producers: u64, consumers: u64, per_side: u64) -> Duration {
    let (tx, rx) = C::make();
    let total = per_side * producers;
    let start = Instant::now();
    let ps: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            thread::spawn(move || (0..per_side).for_each(|i| C::send(&tx, i)))
        })
        .collect();
    let cs: Vec<_> = (0..consumers)
        .map(|c| {
            let rx = rx.clone();
            let n = total / consumers + u64::from(c < total % consumers);
            thread::spawn(move || (0..n).map(|_| C::recv(&rx)).sum::<u64>())
        })
        .collect();
    ps.into_iter().for_each(|p| p.join().unwrap());
    let sum: u64 = cs.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(sum, producers * per_side * (per_side.max(1) - 1) / 2);
    start.elapsed()
}

/// A round trip: main puts, the partner's blocked get wakes and puts back, main's
/// blocked get wakes.
pub fn wake_queue(iters: u64) -> Duration {
    let (ping, pong) = (Arc::new(Queue::new(1)), Arc::new(Queue::new(1)));
    let partner = {
        let (ping, pong) = (ping.clone(), pong.clone());
        thread::spawn(move || {
            for v in ping.iter() {
                pong.put(v).unwrap();
            }
        })
    };
    let start = Instant::now();
    for i in 0..iters {
        ping.put(i).unwrap();
        assert_eq!(pong.get(), Ok(i));
    }
    let took = start.elapsed();
    ping.shutdown(false);
    partner.join().unwrap();
    took
}

/// The floor: a flag each way plus `park`/`unpark`.
pub fn wake_park(iters: u64) -> Duration {
    let flags = Arc::new((AtomicBool::new(false), AtomicBool::new(false)));
    let main = thread::current();
    let partner = {
        let flags = flags.clone();
        thread::spawn(move || {
            for _ in 0..iters {
                while !flags.0.swap(false, Ordering::Acquire) {
                    thread::park();
                }
                flags.1.store(true, Ordering::Release);
                main.unpark();
            }
        })
    };
    let start = Instant::now();
    for _ in 0..iters {
        flags.0.store(true, Ordering::Release);
        partner.thread().unpark();
        while !flags.1.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
    let took = start.elapsed();
    partner.join().unwrap();
    took
}
