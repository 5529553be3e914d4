"""The workloads of benches/queue.rs in CPython's queue module, for the README.

Run: python3 benches/queue.py   (prints ns per item / per round trip)

- queue_spsc: one producer puts, one consumer gets, Queue(maxsize=1024), ns per item;
- queue_4p4c: 4 producers and 4 consumers on one Queue(maxsize=1024), ns per item;
- queue_wake: a get blocked on an empty queue woken by a put, both ways (a
  ping-pong over two Queue(maxsize=1)), ns per round trip.
"""

import sys

# This file is itself named queue.py: take its directory off the path so that
# `import queue` finds the standard library's module.
del sys.path[0]

import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402


def transfer(producers, consumers, per_producer):
    q = queue.Queue(maxsize=1024)
    total = producers * per_producer

    def produce():
        put = q.put
        for i in range(per_producer):
            put(i)

    def consume(n):
        get = q.get
        for _ in range(n):
            get()

    shares = [total // consumers + (c < total % consumers) for c in range(consumers)]
    threads = [threading.Thread(target=produce) for _ in range(producers)]
    threads += [threading.Thread(target=consume, args=(n,)) for n in shares]
    t0 = time.perf_counter_ns()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter_ns() - t0) / total


def wake(n):
    ping, pong = queue.Queue(maxsize=1), queue.Queue(maxsize=1)

    def partner():
        for _ in range(n):
            pong.put(ping.get())

    t = threading.Thread(target=partner)
    t.start()
    t0 = time.perf_counter_ns()
    for i in range(n):
        ping.put(i)
        pong.get()
    took = time.perf_counter_ns() - t0
    t.join()
    return took / n


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(f"CPython {sys.version.split()[0]}")
    print(f"queue_spsc  {transfer(1, 1, n):8.0f} ns/item")
    print(f"queue_4p4c  {transfer(4, 4, n // 4):8.0f} ns/item")
    print(f"queue_wake  {wake(n // 10):8.0f} ns/round trip")


if __name__ == "__main__":
    main()
