"""A lost update between two asyncio tasks.

The tasks add 1 to a shared balance 2 and 4 times. The first holds an
asyncio.Lock around its read-modify-write; the second does not, and awaits
(standing for I/O) between reading the balance and writing it back, so its
write overwrites the first task's update. The assertion at the end fails:
6 deposits, but the balance is lower.

Recorded from main's first line (the event loop already exists: gdb's record
full cannot record epoll_create1, FACTS.md).
"""
import asyncio


class Account:
    def __init__(self):
        self.balance = 0


async def deposit_locked(acct, lock, times):
    for _ in range(times):
        async with lock:
            current = acct.balance
            await asyncio.sleep(0)
            acct.balance = current + 1


async def deposit_unlocked(acct, times):
    for _ in range(times):
        current = acct.balance
        await asyncio.sleep(0)  # I/O: the other task runs here
        acct.balance = current + 1


async def main():
    acct = Account()
    lock = asyncio.Lock()
    await asyncio.gather(deposit_locked(acct, lock, 2), deposit_unlocked(acct, 4))
    assert acct.balance == 6, f"lost update: balance is {acct.balance}, expected 6"


asyncio.run(main())
