"""The latency benchmark's program (cmd/timelens BenchmarkHints): work's loop
runs ROUNDS times, so that each call of work has over 300 line events
before its last lines; main calls it twice, the second call for gotos into
a call the editor has never shown."""

ROUNDS = 100


class Ledger:
    def __init__(self):
        self.entries = []
        self.total = 0

    def add(self, amount):
        self.entries.append(amount)
        self.total += amount


def work(rounds):
    ledger = Ledger()
    total = 0
    for i in range(rounds):
        amount = i * 2
        total += amount
        ledger.add(amount)
    return total, ledger


def main():
    first = work(ROUNDS)
    second = work(ROUNDS)
    return first, second


main()
