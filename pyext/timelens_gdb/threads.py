"""The runtime's interpreters and their thread states, read from memory.

Below frames and values, which both walk them (frames to find a thread's
current frame, values to tell a thread state from other objects), so that
neither imports the other.
"""

from . import layout, memory


def thread_states(L=None):
    """Yield (interpreter id, tstate address) for every thread of every interpreter."""
    L = L or layout.get()
    interp = memory.u64(L.runtime + L.rt_interp_head)
    ni = 0
    while interp and ni < 256:
        iid = memory.i64(interp + L.is_id)
        ts = memory.u64(interp + L.is_threads_head)
        nt = 0
        while ts and nt < 10000:
            yield iid, ts
            ts = memory.u64(ts + L.ts_next)
            nt += 1
        interp = memory.u64(interp + L.is_next)
        ni += 1
