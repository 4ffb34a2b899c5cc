"""A program whose lines hide more than they show, for the bytecode view:
each function's checkpoint runs once its loop has warmed it (CPython 3.11+
specializes an instruction after a few runs), so the debugger reads
specialized instructions where dis, in the same process, names them; and
code whose bytecode has its own shapes: a comprehension, a chained call, a
short-circuit `and`, a closure, an f-string, a generator, try/except/finally
and with, async for, a jump long enough to need EXTENDED_ARG."""

from dis_oracle import checkpoint

LIMIT = 10


class Account:
    def __init__(self, owner):
        self.owner = owner
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount
        return self


def chained(acct, n):
    for i in range(n):
        acct.deposit(i).deposit(1)
    return acct.deposit(2).deposit(len(checkpoint("chained")))


def squares(n):
    total = 0
    for k in range(n):
        total += sum([j * j for j in range(k) if j % 2 == 0])
    return [checkpoint("comprehension") if j == n - 1 else j for j in range(n)]


def short_circuit(values):
    hits = 0
    for v in values:
        if v > 3 and v < LIMIT:
            hits += 1
    return hits > 0 and checkpoint("and") == "and"


def closure(step):
    count = 0

    def bump(x):
        nonlocal count
        count += step
        return f"{x!r}:{count:>3}"

    words = [bump(i) for i in range(8)]
    return bump(checkpoint("closure")), words


def wide(flag):
    y = 0
    if flag:
        y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1; y += 1  # noqa: E702  (a jump over this line needs EXTENDED_ARG)
    checkpoint("wide")
    return y


def evens(n):
    for i in range(n):
        yield i * 2
    checkpoint("generator")


class Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def exceptions(xs):
    out = 0
    for x in xs:
        try:
            out += 10 // x
        except ZeroDivisionError:
            out -= 1
        finally:
            out += 0
    with Quiet() as q:
        checkpoint("exceptions")
    return out, q


async def ticks(n):
    for i in range(n):
        yield i


async def consume():
    total = 0
    async for t in ticks(12):
        total += t
    checkpoint("async")
    return total


def run(coro):
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value


def main():
    acct = Account("ada")
    chained(acct, 20)
    squares(12)
    short_circuit(list(range(12)))
    closure(2)
    wide(True)
    sum(evens(12))
    exceptions([2, 0, 5, 1] * 4)
    run(consume())
    total = 0
    for i in range(30):
        total += acct.balance if i % 3 else i
    checkpoint("main")
    return total


main()
