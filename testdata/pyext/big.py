"""Big values for the rendering budget test: pyext must render them truncated, fast."""

import os
import threading

big_str = "x" * 100_000_000
big_ucs4 = "\U0001F600" * 1_000_000
big_list = list(range(1_000_000))
big_dict = {i: str(i) for i in range(200_000)}
big_set = set(range(200_000))
big_int = 3 ** 100_000


def worker(ready, stop):
    name = "worker"  # noqa: F841
    ready.set()
    stop.wait()


ready = threading.Event()
stop = threading.Event()
t = threading.Thread(target=worker, args=(ready, stop), name="worker")
t.start()
ready.wait()
os.getpid()  # the test stops here
stop.set()
t.join()
