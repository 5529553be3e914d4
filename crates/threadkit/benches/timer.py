"""CPython's threading.Timer for the record: start + cancel of 10,000 timers of 1 s.

Run: python3 benches/timer.py
"""
import threading
import time

N = 10_000


def main():
    start = time.perf_counter()
    timers = [threading.Timer(1.0, lambda: None) for _ in range(N)]
    for t in timers:
        t.start()
    peak = threading.active_count()
    for t in timers:
        t.cancel()
    for t in timers:
        t.join()
    took = time.perf_counter() - start
    print(f"cpython: start+cancel of {N} timers: {took:.3f} s "
          f"({took / N * 1e6:.1f} us per timer, {peak} threads at peak)")


if __name__ == "__main__":
    main()
