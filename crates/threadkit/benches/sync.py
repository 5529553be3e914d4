"""The workloads of benches/sync in CPython's threading, for the record.

Run: python3 benches/sync.py   (CPython 3.11; prints ns per operation)

- lock_uncontended: threading.Lock acquire + release on one thread;
- lock_two_threads_increment: two threads each add 1 to a counter under one Lock,
  time per increment;
- event_ping_pong: two threads bounce between two Events, time per one-way hand-off;
- semaphore_hand_off: a producer releases, a consumer acquires (a second
  Semaphore for the way back), time per one-way hand-off.
"""

import sys
import threading
import time


def per_op(total_ns, ops):
    return total_ns / ops


def lock_uncontended(n=1_000_000):
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter_ns()
    for _ in range(n):
        acquire()
        release()
    return per_op(time.perf_counter_ns() - t0, n)


def two_threads(work, n):
    start = threading.Barrier(3)

    def run():
        start.wait()
        work(n)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter_ns()
    for t in threads:
        t.join()
    return time.perf_counter_ns() - t0


def lock_two_threads_increment(n=200_000):
    lock = threading.Lock()
    count = [0]

    def work(k):
        for _ in range(k):
            with lock:
                count[0] += 1

    elapsed = two_threads(work, n)
    assert count[0] == 2 * n
    return per_op(elapsed, 2 * n)


def event_ping_pong(n=20_000):
    ping, pong = threading.Event(), threading.Event()

    def other():
        for _ in range(n):
            ping.wait()
            ping.clear()
            pong.set()

    t = threading.Thread(target=other)
    t.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        ping.set()
        pong.wait()
        pong.clear()
    elapsed = time.perf_counter_ns() - t0
    t.join()
    return per_op(elapsed, 2 * n)


def semaphore_hand_off(n=20_000):
    items, slots = threading.Semaphore(0), threading.Semaphore(1)

    def consumer():
        for _ in range(n):
            items.acquire()
            slots.release()

    t = threading.Thread(target=consumer)
    t.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        slots.acquire()
        items.release()
    t.join()
    elapsed = time.perf_counter_ns() - t0
    return per_op(elapsed, n)


def main():
    print(f"CPython {sys.version.split()[0]}")
    for bench in (lock_uncontended, lock_two_threads_increment, event_ping_pong,
                  semaphore_hand_off):
        print(f"{bench.__name__:28} {bench():10.1f} ns/op")


if __name__ == "__main__":
    main()
