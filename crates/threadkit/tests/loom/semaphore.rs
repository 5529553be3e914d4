use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use threadkit::threading::{BoundedSemaphore, Error, Semaphore};

#[test]
fn release_wakes_a_blocked_acquire() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let t = thread::spawn(move || s.release());
        sem.acquire();
        t.join().unwrap();
        assert!(!sem.try_acquire());
        assert_eq!(sem.n_waiting(), 0);
    });
}

#[test]
fn one_permit_gives_mutual_exclusion() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    sem.acquire();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(sem.try_acquire());
        assert!(!sem.try_acquire());
    });
}

#[test]
fn release_n_wakes_two_waiters() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let s = sem.clone();
                thread::spawn(move || s.acquire())
            })
            .collect();
        sem.release_n(2);
        for t in threads {
            t.join().unwrap();
        }
        assert!(!sem.try_acquire());
    });
}

#[test]
fn bounded_semaphore_counts_exactly() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let s = sem.clone();
                thread::spawn(move || {
                    s.acquire();
                    s.release().unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(matches!(sem.release(), Err(Error::OverRelease)));
        assert!(sem.try_acquire());
    });
}

#[test]
fn three_threads_share_two_permits() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    let _g = sem.access();
                    assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        {
            let _g = sem.access();
            assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
            inside.fetch_sub(1, Ordering::SeqCst);
        }
        for t in threads {
            t.join().unwrap();
        }
        assert!(sem.try_acquire() && sem.try_acquire());
        assert!(!sem.try_acquire());
    });
}
