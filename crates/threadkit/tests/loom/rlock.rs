//! `RLock`: hand-over from a recursive owner to a blocked thread.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::sync::Arc;
use threadkit::threading::{Error, RLock};

#[test]
fn hand_over_after_the_last_level() {
    loom::model(|| {
        let rlock = Arc::new(RLock::new());
        let count = Arc::new(AtomicUsize::new(0));
        let (r, c) = (Arc::clone(&rlock), Arc::clone(&count));
        let other = thread::spawn(move || {
            r.acquire();
            assert!(r.is_owned());
            let v = c.load(Ordering::Relaxed);
            c.store(v + 1, Ordering::Relaxed);
            r.release().unwrap();
            assert!(matches!(r.release(), Err(Error::NotOwner)));
        });
        rlock.acquire();
        rlock.acquire();
        let v = count.load(Ordering::Relaxed);
        count.store(v + 1, Ordering::Relaxed);
        rlock.release().unwrap();
        assert!(rlock.is_owned());
        rlock.release().unwrap();
        other.join().unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 2);
        assert!(!rlock.locked());
        assert!(!rlock.is_owned());
    });
}

#[test]
fn a_non_owner_cannot_release() {
    loom::model(|| {
        let rlock = Arc::new(RLock::new());
        let r = Arc::clone(&rlock);
        let other = thread::spawn(move || {
            // Whether or not the main thread holds it, we do not own it.
            matches!(r.release(), Err(Error::NotOwner))
        });
        rlock.acquire();
        rlock.release().unwrap();
        assert!(other.join().unwrap());
        assert!(!rlock.locked());
    });
}

#[test]
fn recursive_owners_exclude_each_other() {
    // The re-entry is learnt from the failed CAS, and the last level's release
    // is a CAS that expects the caller as holder: with the other thread
    // queued, it takes the slow path and hands over.
    loom::model(|| {
        let rlock = Arc::new(RLock::new());
        let count = Arc::new(AtomicUsize::new(0));
        let (r, c) = (Arc::clone(&rlock), Arc::clone(&count));
        let other = thread::spawn(move || {
            let _outer = r.lock();
            let _inner = r.lock();
            assert_eq!(r.recursion_count(), 2);
            let v = c.load(Ordering::Relaxed);
            c.store(v + 1, Ordering::Relaxed);
        });
        {
            let _outer = rlock.lock();
            let _inner = rlock.lock();
            let v = count.load(Ordering::Relaxed);
            count.store(v + 1, Ordering::Relaxed);
        }
        assert!(!rlock.is_owned());
        other.join().unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 2);
        assert!(!rlock.locked());
    });
}
