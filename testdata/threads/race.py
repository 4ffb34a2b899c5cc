"""Two threads race on a shared counter, as in the program of the article
that the project started from ("How I debug Python code with a Time Travel
Debugger"): one thread adds under a lock, the other without it, so some of
the first thread's additions can be lost.

main() greets, counts the files next to it, and then starts the threads. gdb's
record full records one thread: a window recorded from main ends where the
first thread starts (thread1.start(), below), and timelens says so. Under rr
or UDB the whole race can be replayed.

Run alone (python3 race.py) it prints how many additions were lost, which
depends on how the interpreter switches threads: often none.
"""
import os
import threading


class Shared:
    count = 0


shared = Shared()
lock = threading.Lock()
ROUNDS = 2000


def add_locked():
    """Adds 1 to the count ROUNDS times, holding the lock around each add."""
    for _ in range(ROUNDS):
        with lock:
            before = shared.count
            shared.count = before + 1


def add_unlocked():
    """Adds 1 to the count ROUNDS times with no lock: its read and its write
    can straddle the other thread's."""
    for _ in range(ROUNDS):
        before = shared.count
        shared.count = before + 1


def greet(name):
    x = 3
    y = 4
    print(f"hello from {name}: {x + y = }")


def count_files():
    here = os.path.dirname(os.path.abspath(__file__))
    names = sorted(os.listdir(here))
    return len(names)


def report(expected):
    lost = expected - shared.count
    print(f"count {shared.count}, expected {expected}: {lost} lost")
    return lost


def join_all(threads):
    """Waits for every thread; returns how many there were."""
    for t in threads:
        t.join()
    return len(threads)


def main():
    """Greets, counts the files here, then races the two threads and reports
    how many additions were lost. A window recorded from here with gdb's
    record full ends at thread1.start(): the first clone of a thread."""
    greet("main")
    files = count_files()
    thread1 = threading.Thread(target=add_locked)
    thread2 = threading.Thread(target=add_unlocked)
    thread1.start()
    thread2.start()
    joined = join_all([thread1, thread2])
    return report(joined * ROUNDS), files


if __name__ == "__main__":
    main()
