//! `Queue`, `LifoQueue`, `PriorityQueue` and `SimpleQueue`, with CPython's
//! `test_queue.py` as the checklist, plus threadkit's stop contract, arrival order,
//! panics under the lock and a stress test.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use threadkit::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue};
use threadkit::threading::{Error, Thread};

mod primitives;
use primitives::{join, spawn, stress_count, wait_until};

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn fifo_lifo_and_priority_orders() {
    // CPython's BaseQueueTestMixin.simple_queue_test with its `cum` inputs.
    let items = [111, 333, 222];
    let q = Queue::new(0);
    let l = LifoQueue::new(0);
    let p = PriorityQueue::new(0);
    for i in items {
        q.put(i).unwrap();
        l.put(i).unwrap();
        p.put(i).unwrap();
    }
    let drain =
        |f: &dyn Fn() -> Result<i32, GetError>| (0..3).map(|_| f().unwrap()).collect::<Vec<_>>();
    assert_eq!(drain(&|| q.get()), [111, 333, 222]);
    assert_eq!(drain(&|| l.get()), [222, 333, 111]);
    assert_eq!(drain(&|| p.get()), [111, 222, 333]);
}

/// Equal under `Ord`, told apart by a tag the order ignores.
#[derive(Debug)]
struct Keyed(u32, &'static str);
impl PartialEq for Keyed {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        self.0.cmp(&o.0)
    }
}

#[test]
fn priority_keeps_equal_items_in_insertion_order() {
    let q = PriorityQueue::new(0);
    let tags = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for (i, t) in tags.iter().enumerate() {
        q.put(Keyed(if i % 2 == 0 { 2 } else { 1 }, t)).unwrap();
    }
    let got: Vec<_> = (0..8).map(|_| q.get().unwrap().1).collect();
    assert_eq!(got, ["b", "d", "f", "h", "a", "c", "e", "g"]);
}

#[test]
fn qsize_empty_full_and_maxsize() {
    let q = Queue::new(2);
    assert_eq!(
        (q.maxsize(), q.qsize(), q.empty(), q.full()),
        (2, 0, true, false)
    );
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!((q.qsize(), q.empty(), q.full()), (2, false, true));
    let unbounded = Queue::new(0);
    for i in 0..1000 {
        unbounded.try_put(i).unwrap();
    }
    assert!(!unbounded.full());
}

#[test]
fn put_timeout_on_a_full_queue_waits_the_whole_timeout() {
    let q = Queue::new(1);
    q.put(0).unwrap();
    let start = Instant::now();
    assert!(matches!(q.put_timeout(1, SHORT), Err(PutError::Full(1))));
    assert!(start.elapsed() >= SHORT);
    assert_eq!(q.qsize(), 1);
}

#[test]
fn get_timeout_on_an_empty_queue_waits_the_whole_timeout() {
    let q: Queue<u8> = Queue::new(0);
    let start = Instant::now();
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert!(start.elapsed() >= SHORT);
}

#[test]
fn try_put_and_try_get_never_block() {
    let q = Queue::new(1);
    let start = Instant::now();
    assert_eq!(q.try_get(), Err(GetError::Empty));
    q.try_put(1).unwrap();
    assert!(matches!(q.try_put(2), Err(PutError::Full(2))));
    assert_eq!(q.try_get(), Ok(1));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn blocking_get_is_woken_by_a_put_and_blocking_put_by_a_get() {
    let q = Arc::new(Queue::new(1));
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || tx.send(q2.get().unwrap()).unwrap());
    wait_until("the getter", || q.n_waiting() == 1);
    q.put(7).unwrap();
    join(&t);
    assert_eq!(rx.recv().unwrap(), 7);

    q.put(1).unwrap();
    let q2 = q.clone();
    let t = spawn(move || q2.put(2).unwrap());
    wait_until("the putter", || q.n_waiting() == 1);
    assert_eq!(q.get(), Ok(1));
    join(&t);
    assert_eq!(q.get(), Ok(2));
}

#[test]
fn blocked_getters_are_served_in_arrival_order() {
    let q = Arc::new(Queue::new(0));
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..4 {
        let (q2, tx) = (q.clone(), tx.clone());
        threads.push(spawn(move || {
            let item = q2.get().unwrap();
            tx.send((i, item)).unwrap();
        }));
        wait_until("the getter", || q.n_waiting() == i + 1);
    }
    for item in 0..4 {
        q.put(item).unwrap();
        // A try_get now must not overtake the woken getter.
        assert_eq!(q.try_get(), Err(GetError::Empty));
        // The one item went to the oldest getter still waiting.
        let (getter, got) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!((getter, got), (item as usize, item));
    }
    threads.iter().for_each(join);
}

#[test]
fn blocked_putters_are_served_in_arrival_order() {
    let q = Arc::new(Queue::new(1));
    q.put(100).unwrap();
    let mut threads = Vec::new();
    for i in 0..4 {
        let q2 = q.clone();
        threads.push(spawn(move || q2.put(i).unwrap()));
        wait_until("the putter", || q.n_waiting() == i + 1);
    }
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(q.get().unwrap());
    }
    threads.iter().for_each(join);
    assert_eq!(got, [100, 0, 1, 2, 3]);
}

#[test]
fn join_returns_only_after_every_task_done() {
    let q = Arc::new(Queue::new(0));
    for i in 0..3 {
        q.put(i).unwrap();
    }
    let done = Arc::new(AtomicUsize::new(0));
    let (q2, d2) = (q.clone(), done.clone());
    let worker = spawn(move || {
        for _ in 0..3 {
            q2.get().unwrap();
            std::thread::sleep(Duration::from_millis(5));
            d2.fetch_add(1, Ordering::SeqCst);
            q2.task_done().unwrap();
        }
    });
    q.join();
    assert_eq!(done.load(Ordering::SeqCst), 3);
    assert_eq!(q.unfinished_tasks(), 0);
    join(&worker);
}

#[test]
fn join_timeout_reports_unfinished_tasks() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    let start = Instant::now();
    assert!(!q.join_timeout(SHORT));
    assert!(start.elapsed() >= SHORT);
    assert_eq!(q.n_waiting(), 0);
    q.get().unwrap();
    q.task_done().unwrap();
    assert!(q.join_timeout(SHORT));
}

#[test]
fn too_many_task_done_is_an_error() {
    let q = Queue::new(0);
    assert!(matches!(q.task_done(), Err(Error::TaskDoneTooOften)));
    q.put(1).unwrap();
    q.task_done().unwrap();
    assert!(matches!(q.task_done(), Err(Error::TaskDoneTooOften)));
    assert_eq!(
        Error::TaskDoneTooOften.to_string(),
        "task_done() called too many times"
    );
}

#[test]
fn shutdown_wakes_every_blocked_putter_and_getter() {
    let empty: Arc<Queue<u32>> = Arc::new(Queue::new(0));
    let full = Arc::new(Queue::new(1));
    full.put(0).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..3 {
        let (e, f, tx1, tx2) = (empty.clone(), full.clone(), tx.clone(), tx.clone());
        threads.push(spawn(move || tx1.send(format!("{:?}", e.get())).unwrap()));
        threads.push(spawn(move || {
            let err = f.put(i + 1).unwrap_err();
            assert_eq!(err.into_inner(), i + 1);
            tx2.send("put ShutDown".to_string()).unwrap();
        }));
    }
    wait_until("the waiters", || {
        empty.n_waiting() == 3 && full.n_waiting() == 3
    });
    empty.shutdown(false);
    full.shutdown(false);
    threads.iter().for_each(join);
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got.iter().filter(|s| *s == "Err(ShutDown)").count(), 3);
    assert_eq!(got.iter().filter(|s| *s == "put ShutDown").count(), 3);
    // The getter still drains what is left, then sees ShutDown.
    assert_eq!(full.get(), Ok(0));
    assert_eq!(full.get(), Err(GetError::ShutDown));
    assert!(matches!(full.try_put(9), Err(PutError::ShutDown(9))));
}

#[test]
fn immediate_shutdown_drops_what_is_left_and_counts_it_done() {
    let q = Arc::new(Queue::new(0));
    for i in 0..3 {
        q.put(Arc::new(i)).unwrap();
    }
    let probe = q.try_get().unwrap();
    q.task_done().unwrap();
    q.put(probe.clone()).unwrap();
    let q2 = q.clone();
    let joiner = spawn(move || q2.join());
    wait_until("the joiner", || q.n_waiting() == 1);
    q.shutdown(true);
    join(&joiner);
    assert!(q.is_shutdown());
    assert_eq!(q.qsize(), 0);
    assert_eq!(Arc::strong_count(&probe), 1, "the left item was dropped");
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.get(), Err(GetError::ShutDown));
}

#[test]
fn iter_ends_at_shutdown_and_empty() {
    let q = Arc::new(Queue::new(4));
    let q2 = q.clone();
    let (tx, rx) = mpsc::channel();
    let t = spawn(move || tx.send(q2.iter().sum::<u64>()).unwrap());
    for i in 1..=100 {
        q.put(i).unwrap();
    }
    q.shutdown(false);
    join(&t);
    assert_eq!(rx.recv().unwrap(), 5050);
    assert_eq!((&*q).into_iter().next(), None);
}

#[test]
fn stop_ends_a_timed_get_and_put_early() {
    let q: Arc<Queue<u8>> = Arc::new(Queue::new(1));
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || {
        let start = Instant::now();
        let got = q2.get_timeout(Duration::from_secs(60));
        tx.send((got, start.elapsed())).unwrap();
    });
    wait_until("the getter", || q.n_waiting() == 1);
    t.stop();
    join(&t);
    let (got, took) = rx.recv().unwrap();
    assert_eq!(got, Err(GetError::Empty));
    assert!(took < Duration::from_secs(30));
    assert_eq!(q.n_waiting(), 0);

    q.put(0).unwrap();
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || tx.send(q2.put_timeout(1, Duration::from_secs(60))).unwrap());
    wait_until("the putter", || q.n_waiting() == 1);
    t.stop();
    join(&t);
    assert!(matches!(rx.recv().unwrap(), Err(PutError::Full(1))));
    // The queue still works.
    assert_eq!(q.try_get(), Ok(0));
}

#[test]
fn stop_does_not_interrupt_a_plain_get() {
    let q = Arc::new(Queue::new(0));
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || tx.send(q2.get()).unwrap());
    wait_until("the getter", || q.n_waiting() == 1);
    t.stop();
    std::thread::sleep(SHORT);
    assert!(t.is_alive(), "get() returned on a stop");
    q.put(5).unwrap();
    join(&t);
    assert_eq!(rx.recv().unwrap(), Ok(5));
}

/// Panics in `cmp` when its key is 13 and the flag is armed.
#[derive(Debug)]
struct Touchy(u32, Arc<std::sync::atomic::AtomicBool>);
impl PartialEq for Touchy {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Touchy {}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Touchy {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        if (self.0 == 13 || o.0 == 13) && self.1.load(Ordering::SeqCst) {
            panic!("unlucky compare");
        }
        self.0.cmp(&o.0)
    }
}

#[test]
fn a_panic_in_cmp_reaches_the_caller_and_leaves_the_queue_usable() {
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let q = Arc::new(PriorityQueue::new(0));
    q.put(Touchy(5, armed.clone())).unwrap();
    armed.store(true, Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        q.put(Touchy(13, armed.clone()))
    }));
    assert!(r.is_err(), "the panic reached the caller");
    armed.store(false, Ordering::SeqCst);
    // The lock is free and the queue works: a blocked getter still gets served.
    let mut got: Vec<_> = std::iter::from_fn(|| q.try_get().ok())
        .map(|t| t.0)
        .collect();
    got.sort();
    assert_eq!(got, [5, 13]);
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || tx.send(q2.get().unwrap().0).unwrap());
    wait_until("the getter", || q.n_waiting() == 1);
    q.put(Touchy(1, armed.clone())).unwrap();
    join(&t);
    assert_eq!(rx.recv().unwrap(), 1);
}

#[test]
fn errors_display_and_give_the_item_back() {
    assert_eq!(PutError::Full(1).to_string(), "queue is full");
    assert_eq!(PutError::ShutDown(1).to_string(), "queue is shut down");
    assert_eq!(
        format!("{:?}", PutError::Full(std::sync::Mutex::new(1))),
        "Full(..)"
    );
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<PutError<String>>();
    is_error::<GetError>();
}

#[test]
fn simple_queue_puts_never_block_and_gets_in_order() {
    let q = Arc::new(SimpleQueue::new());
    for i in 0..1000 {
        q.put(i);
    }
    assert_eq!(q.qsize(), 1000);
    assert_eq!(q.try_get(), Some(0));
    assert_eq!(
        (1..1000).map(|_| q.get()).sum::<i32>(),
        (1..1000).sum::<i32>()
    );
    assert!(q.empty());
    let start = Instant::now();
    assert_eq!(q.get_timeout(SHORT), None);
    assert!(start.elapsed() >= SHORT);
    let (q2, (tx, rx)) = (q.clone(), mpsc::channel());
    let t = spawn(move || tx.send(q2.get()).unwrap());
    wait_until("the getter", || {
        q.put(42);
        rx.try_recv().is_ok_and(|v| v == 42)
    });
    join(&t);
}

/// Starts `producers` threads, the `p`-th putting `p * per_producer ..` (the next
/// `per_producer` numbers): every number below `producers * per_producer` once.
fn spawn_producers(q: &Arc<Queue<u64>>, producers: u64, per_producer: u64) -> Vec<Thread> {
    (0..producers)
        .map(|p| {
            let q = q.clone();
            spawn(move || {
                for i in 0..per_producer {
                    q.put(p * per_producer + i).unwrap();
                }
            })
        })
        .collect()
}

#[test]
fn eight_producers_eight_consumers_lose_and_duplicate_nothing() {
    let per_producer = stress_count(100_000) as u64 / 8;
    let q = Arc::new(Queue::new(64));
    let sum = Arc::new(AtomicU64::new(0));
    let count = Arc::new(AtomicU64::new(0));
    let producers = spawn_producers(&q, 8, per_producer);
    let consumers: Vec<_> = (0..8)
        .map(|_| {
            let (q, sum, count) = (q.clone(), sum.clone(), count.clone());
            spawn(move || {
                for item in q.iter() {
                    sum.fetch_add(item, Ordering::Relaxed);
                    count.fetch_add(1, Ordering::Relaxed);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    for t in &producers {
        assert!(
            t.join_timeout(Duration::from_secs(120)).unwrap(),
            "producer hung"
        );
    }
    assert!(q.join_timeout(Duration::from_secs(120)), "tasks unfinished");
    q.shutdown(false);
    consumers.iter().for_each(join);
    let n = 8 * per_producer;
    assert_eq!(count.load(Ordering::Relaxed), n);
    assert_eq!(sum.load(Ordering::Relaxed), n * (n - 1) / 2);
}

/// Moves `n` items from one producer to one consumer through `q`, both sides
/// alternating plain and timed calls, and returns the consumer's checksum.
fn spsc_checksum(q: &Arc<Queue<u64>>, n: u64) -> u64 {
    let q2 = q.clone();
    let producer = spawn(move || {
        for i in 0..n {
            if i % 2 == 0 {
                q2.put(i).unwrap();
            } else {
                q2.put_timeout(i, Duration::from_secs(60)).unwrap();
            }
        }
    });
    let mut sum = 0;
    for i in 0..n {
        sum += if i % 3 == 0 {
            q.get_timeout(Duration::from_secs(60)).unwrap()
        } else {
            q.get().unwrap()
        };
    }
    join(&producer);
    sum
}

#[test]
fn spinning_and_parking_spsc_loses_and_duplicates_nothing() {
    // Capacities 1 and 2 make both sides spin and park all the time; 1,024 is the
    // benchmark's, where the consumer mostly spins on an emptied queue.
    let n = stress_count(40_000) as u64;
    for cap in [1, 2, 1024] {
        let q = Arc::new(Queue::new(cap));
        assert_eq!(spsc_checksum(&q, n), n * (n - 1) / 2, "capacity {cap}");
        assert!(q.empty());
        assert_eq!(q.n_waiting(), 0);
    }
}

#[test]
fn spinning_and_parking_mpmc_loses_and_duplicates_nothing() {
    let per_producer = stress_count(40_000) as u64 / 4;
    let q = Arc::new(Queue::new(2));
    let (sum, count) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let producers = spawn_producers(&q, 4, per_producer);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (q, sum, count) = (q.clone(), sum.clone(), count.clone());
            spawn(move || loop {
                // Timed gets give up and come back, racing the grants.
                match q.get_timeout(Duration::from_micros(50)) {
                    Ok(item) => {
                        sum.fetch_add(item, Ordering::Relaxed);
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(GetError::Empty) => {}
                    Err(GetError::ShutDown) => break,
                }
            })
        })
        .collect();
    producers.iter().for_each(join);
    q.shutdown(false);
    consumers.iter().for_each(join);
    let n = 4 * per_producer;
    assert_eq!(count.load(Ordering::Relaxed), n);
    assert_eq!(sum.load(Ordering::Relaxed), n * (n - 1) / 2);
}

#[test]
fn timed_gets_giving_up_as_a_put_grants_them_lose_nothing() {
    // A getter whose timeout fires just as a put grants it an item still gets it,
    // and its reused wait entry never carries that late wake-up into its next
    // wait: each item arrives exactly once, and nothing is left behind.
    let n = stress_count(20_000) as u64;
    let (ping, pong) = (Arc::new(Queue::new(1)), Arc::new(Queue::new(1)));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let echo = spawn(move || {
        let mut seen = 0;
        while seen < n {
            match ping2.get_timeout(Duration::from_micros(20 + seen % 30)) {
                Ok(v) => {
                    assert_eq!(v, seen, "items out of order or duplicated");
                    seen += 1;
                    pong2.put(v).unwrap();
                }
                Err(e) => assert_eq!(e, GetError::Empty),
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    for i in 0..n {
        ping.put(i).unwrap();
        assert_eq!(pong.get(), Ok(i));
        assert!(Instant::now() < deadline, "ping-pong too slow");
    }
    join(&echo);
    assert!(ping.empty() && pong.empty());
}

/// Puts `per_producer` tagged items from each of `producers` threads into `q`,
/// alternating `try_put` (retried) and `put`; returns the threads.
fn spawn_tagged_producers(
    q: &Arc<Queue<(u64, u64)>>,
    producers: u64,
    per_producer: u64,
) -> Vec<Thread> {
    (0..producers)
        .map(|p| {
            let q = q.clone();
            spawn(move || {
                for i in 0..per_producer {
                    if i % 2 == 0 {
                        q.put((p, i)).unwrap();
                    } else {
                        let mut item = (p, i);
                        loop {
                            match q.try_put(item) {
                                Ok(()) => break,
                                Err(PutError::Full(back)) => item = back,
                                Err(e) => panic!("unexpected {e:?}"),
                            }
                            std::thread::yield_now();
                        }
                    }
                }
            })
        })
        .collect()
}

#[test]
fn lock_free_puts_and_gets_keep_each_producers_order() {
    // The bounded FIFO's ring, used without the lock while nobody waits and under
    // it when someone does: every consumer sees each producer's items in the
    // order they were put, and the queue never holds more than its bound.
    let (producers, consumers) = (3u64, 3u64);
    let per_producer = stress_count(60_000) as u64 / producers;
    for cap in [1, 3, 64] {
        let q = Arc::new(Queue::new(cap));
        let total = Arc::new(AtomicU64::new(0));
        let puts = spawn_tagged_producers(&q, producers, per_producer);
        let gets: Vec<_> = (0..consumers)
            .map(|c| {
                let (q, total) = (q.clone(), total.clone());
                spawn(move || {
                    let mut last = vec![None; producers as usize];
                    loop {
                        let got = if c == 0 { q.try_get() } else { q.get() };
                        let (p, i) = match got {
                            Ok(item) => item,
                            Err(GetError::Empty) => {
                                std::thread::yield_now();
                                continue;
                            }
                            Err(GetError::ShutDown) => break,
                        };
                        let seen = &mut last[p as usize];
                        assert!(
                            seen.is_none_or(|s| s < i),
                            "producer {p}: {i} after {seen:?}"
                        );
                        *seen = Some(i);
                        assert!(q.qsize() <= cap, "over the bound");
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        puts.iter().for_each(join);
        q.shutdown(false);
        gets.iter().for_each(join);
        assert_eq!(
            total.load(Ordering::Relaxed),
            producers * per_producer,
            "capacity {cap}"
        );
        assert!(q.empty());
        assert_eq!(q.n_waiting(), 0);
    }
}

/// Counts its drops, wherever it is dropped.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn immediate_shutdown_racing_lock_free_puts_and_gets_leaves_nothing() {
    // Producers and a consumer run on a bounded queue while it is shut down with
    // `immediate`: no item is lost (each is dropped exactly once), none stays in
    // the queue, and every item not taken by a get is counted done.
    let rounds = stress_count(200);
    let deadline = Instant::now() + Duration::from_secs(120);
    for round in 0..rounds {
        let drops = Arc::new(AtomicUsize::new(0));
        let (made, got) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let q = Arc::new(Queue::new(4));
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let (q, drops, made) = (q.clone(), drops.clone(), made.clone());
                spawn(move || loop {
                    made.fetch_add(1, Ordering::Relaxed);
                    match q.put(Counted(drops.clone())) {
                        Ok(()) => {}
                        Err(PutError::ShutDown(_)) => break,
                        Err(PutError::Full(_)) => unreachable!("put blocks while full"),
                    }
                })
            })
            .collect();
        let consumer = {
            let (q, got) = (q.clone(), got.clone());
            spawn(move || {
                for _ in q.iter() {
                    got.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        std::thread::sleep(Duration::from_micros(50 + (round as u64 % 7) * 30));
        q.shutdown(true);
        producers.iter().for_each(join);
        join(&consumer);
        assert_eq!(q.try_get().map(drop), Err(GetError::ShutDown));
        assert_eq!(q.qsize(), 0, "round {round}: items left after shutdown");
        let got = got.load(Ordering::Relaxed);
        assert_eq!(
            q.unfinished_tasks(),
            got,
            "round {round}: dropped items not done"
        );
        let made = made.load(Ordering::Relaxed);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            made,
            "round {round}: lost or leaked"
        );
        assert!(Instant::now() < deadline, "rounds too slow");
    }
}
