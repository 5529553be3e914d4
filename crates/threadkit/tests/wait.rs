//! Wait records: `ThreadInfo::waiting` is set while a thread is blocked in a
//! threadkit wait and cleared on every way out; object names and short ids.

use std::sync::Arc;
use std::time::Duration;

use threadkit::threading::{
    dump, Barrier, Condition, Event, Lock, RLock, Thread, ThreadInfo, WaitKind,
};

mod seeing;
use seeing::{blocked, spawn, waiting_of};

/// Joins `t` and checks that no record of `name` is left.
fn ends_clear(t: Thread, name: &str) {
    t.join().unwrap();
    assert_eq!(waiting_of(name), None);
}

#[test]
fn an_event_wait_is_recorded_and_cleared_when_set() {
    let ev = Arc::new(Event::new().with_name("go"));
    let e = Arc::clone(&ev);
    let t = spawn("ev-set", move || assert!(e.wait()));
    let w = blocked("ev-set", WaitKind::Event);
    assert_eq!(w.object, "go");
    assert_eq!((w.timeout, w.holder), (None, None));
    // Still there while it waits, and its age grows.
    std::thread::sleep(Duration::from_millis(20));
    assert!(blocked("ev-set", WaitKind::Event).waited >= Duration::from_millis(20));
    ev.set();
    ends_clear(t, "ev-set");
}

#[test]
fn a_timed_wait_is_cleared_when_it_times_out() {
    let ev = Arc::new(Event::new());
    let e = Arc::clone(&ev);
    let t = spawn("ev-timeout", move || {
        assert!(!e.wait_timeout(Duration::from_millis(300)));
    });
    let w = blocked("ev-timeout", WaitKind::Event);
    assert!(w.object.starts_with("Event#"), "{}", w.object);
    assert!(w.timeout.is_some_and(|t| t <= Duration::from_millis(300)));
    ends_clear(t, "ev-timeout");
}

#[test]
fn a_wait_is_cleared_when_the_thread_is_stopped() {
    let l = Arc::new(Lock::new().with_name("held"));
    l.acquire();
    let l2 = Arc::clone(&l);
    let t = spawn("lock-stopped", move || {
        assert!(!l2.acquire_timeout(Duration::from_secs(60)));
    });
    let w = blocked("lock-stopped", WaitKind::Lock);
    assert_eq!(w.object, "held");
    // Locked by the test's own thread: its ident is the holder.
    assert_eq!(w.holder, Some(threadkit::threading::get_ident()));
    t.stop();
    ends_clear(t, "lock-stopped");
    l.release().unwrap();
}

#[test]
fn a_lock_wait_is_cleared_when_acquired() {
    let l = Arc::new(RLock::new().with_name("rl"));
    let l2 = Arc::clone(&l);
    let holder = Arc::new(Event::new());
    let release = Arc::new(Event::new());
    let (h, r) = (Arc::clone(&holder), Arc::clone(&release));
    let owner = spawn("rl-owner", move || {
        let _g = l2.lock();
        h.set();
        r.wait();
    });
    holder.wait();
    let l3 = Arc::clone(&l);
    let t = spawn("rl-waiter", move || drop(l3.lock()));
    let w = blocked("rl-waiter", WaitKind::RLock);
    assert_eq!(w.holder, owner.ident());
    assert_eq!(w.holder_name.as_deref(), Some("rl-owner"));
    let row = dump().into_iter().find(|r| r.name == "rl-waiter").unwrap();
    let table = ThreadInfo::table(&[row]).to_string();
    assert!(
        table.lines().next().unwrap().ends_with("WAITING"),
        "{table}"
    );
    assert!(
        table.contains("RLock \"rl\" held by rl-owner (ident "),
        "{table}"
    );
    release.set();
    owner.join().unwrap();
    ends_clear(t, "rl-waiter");
}

#[test]
fn a_condition_wait_is_recorded_without_holder_until_notified() {
    let cond = Arc::new(Condition::new().with_name("cv"));
    let c = Arc::clone(&cond);
    let t = spawn("cv-waiter", move || {
        let _g = c.lock();
        assert!(c.wait().unwrap());
    });
    let w = blocked("cv-waiter", WaitKind::Condition);
    assert_eq!((w.object.as_str(), w.holder), ("cv", None));
    cond.acquire();
    cond.notify(1).unwrap();
    cond.release().unwrap();
    ends_clear(t, "cv-waiter");
}

#[test]
fn a_barrier_wait_is_recorded_and_cleared_when_it_trips() {
    let b = Arc::new(Barrier::new(2).with_name("start"));
    let b2 = Arc::clone(&b);
    let t = spawn("bar-waiter", move || {
        b2.wait().unwrap();
    });
    assert_eq!(blocked("bar-waiter", WaitKind::Barrier).object, "start");
    b.wait().unwrap();
    ends_clear(t, "bar-waiter");
}

#[test]
fn a_join_is_recorded_with_the_joined_thread_as_holder() {
    let go = Arc::new(Event::new());
    let g = Arc::clone(&go);
    let target = spawn("joined", move || {
        g.wait();
    });
    let tc = target.clone();
    let t = spawn("joiner", move || tc.join().unwrap());
    let w = blocked("joiner", WaitKind::Join);
    assert_eq!(w.object, "joined");
    assert_eq!(w.holder, target.ident());
    assert!(
        w.to_string()
            .starts_with("join \"joined\" of joined (ident "),
        "{w}"
    );
    go.set();
    ends_clear(t, "joiner");
}

#[test]
fn unnamed_objects_keep_one_short_id() {
    let l = Arc::new(Lock::new());
    assert_eq!(l.name(), None);
    l.acquire();
    let ids: Vec<String> = (0..2)
        .map(|i| {
            let l2 = Arc::clone(&l);
            let name = format!("unnamed-{i}");
            let t = spawn(&name, move || {
                let _ = l2.acquire_timeout(Duration::from_millis(200));
            });
            let id = blocked(&name, WaitKind::Lock).object;
            t.join().unwrap();
            id
        })
        .collect();
    assert!(ids[0].starts_with("Lock#"), "{}", ids[0]);
    assert_eq!(ids[0], ids[1]);
    l.release().unwrap();
}

#[test]
fn a_semaphore_wait_is_recorded_and_cleared_when_a_permit_comes() {
    let sem = Arc::new(threadkit::threading::BoundedSemaphore::new(1).with_name("slots"));
    sem.acquire();
    let s = Arc::clone(&sem);
    let t = spawn("sem-waiter", move || {
        assert!(s.acquire_timeout(Duration::from_secs(60)));
        s.release().unwrap();
    });
    let w = blocked("sem-waiter", WaitKind::Semaphore);
    assert_eq!((w.object.as_str(), w.holder), ("slots", None));
    sem.release().unwrap();
    ends_clear(t, "sem-waiter");
}

#[test]
fn queue_gets_and_puts_are_recorded_and_cleared() {
    use threadkit::queue::Queue;
    let q = Arc::new(Queue::<u32>::new(1).with_name("jobs"));
    let q2 = Arc::clone(&q);
    let getter = spawn("q-get", move || assert_eq!(q2.get(), Ok(7)));
    let w = blocked("q-get", WaitKind::QueueGet);
    assert_eq!(
        (w.object.as_str(), w.timeout, w.holder),
        ("jobs", None, None)
    );
    q.put(7).unwrap();
    ends_clear(getter, "q-get");

    // Full: a timed put waits as Queue.put, an unnamed queue shows as Queue#N.
    let full = Arc::new(Queue::<u32>::new(1));
    full.put(1).unwrap();
    let f = Arc::clone(&full);
    let putter = spawn("q-put", move || {
        assert!(f.put_timeout(2, Duration::from_secs(60)).is_ok());
    });
    let w = blocked("q-put", WaitKind::QueuePut);
    assert!(w.object.starts_with("Queue#"), "{}", w.object);
    assert!(w.timeout.is_some());
    assert_eq!(full.get(), Ok(1));
    ends_clear(putter, "q-put");
}

#[test]
fn a_future_wait_is_recorded_and_cleared() {
    use threadkit::futures::ThreadPoolExecutor;
    let pool = ThreadPoolExecutor::new(1);
    let go = Arc::new(Event::new());
    let g = Arc::clone(&go);
    let fut = Arc::new(pool.submit(move || assert!(g.wait())).unwrap());
    let f = Arc::clone(&fut);
    let t = spawn("fut-wait", move || f.wait());
    let w = blocked("fut-wait", WaitKind::Future);
    assert!(w.object.starts_with("Future#"), "{}", w.object);
    go.set();
    ends_clear(t, "fut-wait");
}

#[test]
fn a_queued_waiter_is_shown_the_holder_a_hand_off_made() {
    // Two threads queue behind the test's thread; the release hands the lock to
    // the first, whose acquire (by the slow path, others still queued) must
    // show the second who holds it now: the holder is not written by the fast
    // paths, only shown to the queue.
    let l = Arc::new(Lock::new().with_name("handed"));
    l.acquire();
    let got = Arc::new(Event::new());
    let go_on = Arc::new(Event::new());
    let (l1, g, o) = (Arc::clone(&l), Arc::clone(&got), Arc::clone(&go_on));
    let first = spawn("hand-first", move || {
        l1.acquire();
        g.set();
        o.wait();
        l1.release().unwrap();
    });
    assert_eq!(
        blocked("hand-first", WaitKind::Lock).holder,
        Some(threadkit::threading::get_ident())
    );
    let l2 = Arc::clone(&l);
    let second = spawn("hand-second", move || drop(l2.lock()));
    blocked("hand-second", WaitKind::Lock);
    l.release().unwrap();
    got.wait();
    let w = blocked("hand-second", WaitKind::Lock);
    assert_eq!(w.holder, first.ident());
    assert_eq!(w.holder_name.as_deref(), Some("hand-first"));
    go_on.set();
    first.join().unwrap();
    ends_clear(second, "hand-second");
}
