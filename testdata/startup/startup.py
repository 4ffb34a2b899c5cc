"""Start-up search: the window begins at the first call of FUNC, never a
later one. Each function below is first called with 1 and later with 2, in
ways that a search could miss: after many calls of other functions, as a
method made in a class body, nested in another function, as a generator or
a coroutine (whose call begins at its first resumption, created after an
older one), from an import (startup_mod.setup, searched by name), from C
(sorted's key), and a function never called at all."""
import json

import startup_mod


def warm(i):
    return i + 1


def fresh(n):
    total = n
    return total


class Account:
    def deposit(self, n):
        self.balance = n
        return n


def outer(n):
    def inner(k):
        return k * 2

    return inner(n)


def gen(n):
    yield n
    yield n + 1


async def coro(n):
    return n


def key(n):
    return -n


def never(n):
    return n


def main():
    s = 0
    for i in range(300):
        s = warm(s)
    fresh(1)
    a = Account()
    a.deposit(1)
    outer(1)
    g2 = gen(2)
    g1 = gen(1)
    next(g1)
    next(g2)
    c2 = coro(2)
    c1 = coro(1)
    for c in (c1, c2):
        try:
            c.send(None)
        except StopIteration:
            pass
    sorted([1, 2], key=key)
    json.dumps({"n": 1})
    fresh(2)
    a.deposit(2)
    outer(2)
    startup_mod.setup(2)
    return s


main()
