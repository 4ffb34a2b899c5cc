"""A program whose lines hide more than they show, for the bytecode view:
each function's checkpoint runs once its loop has warmed it (CPython 3.11+
specializes an instruction after a few runs), so the debugger reads
specialized instructions where dis, in the same process, names them."""

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


def main():
    acct = Account("ada")
    chained(acct, 20)
    squares(12)
    short_circuit(list(range(12)))
    closure(2)
    wide(True)
    total = 0
    for i in range(30):
        total += acct.balance if i % 3 else i
    checkpoint("main")
    return total


main()
