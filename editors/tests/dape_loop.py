"""testdata/programs/loop.py with a full collection just before main(): on
CPython 3.14 an incremental garbage collection otherwise falls inside main,
which makes its recording 30 times slower (editors/tests/emacs_dape_test.el
records main in the sid root). The lines below the import are loop.py's."""
import gc


class Account:
    def __init__(self, owner):
        self.owner = owner
        self.balance = 0
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(amount)
        return self.balance


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    acct = Account("ada")
    total = 0
    for i in range(5):
        total += i
        acct.deposit(i * 10)
    f = fib(4)
    squares = [k * k for k in range(4)]
    name = "café ☕"
    return total, f, squares, name


gc.collect()
main()
