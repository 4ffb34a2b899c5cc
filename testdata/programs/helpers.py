"""Helpers that return before main ends: their lines have no hints once
they are off the stack, unless the server shows past calls (--past-calls)."""


def deposit(acct, amount):
    before = acct["balance"]
    after = before + amount
    acct["balance"] = after
    return after


def main():
    acct = {"balance": 0}
    for amount in (10, 20):
        deposit(acct, amount)
    total = acct["balance"]
    return total


main()
