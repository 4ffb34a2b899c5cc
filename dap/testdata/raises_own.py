# A program that ends with an exception of its own class, raised in Python
# code, after a finally block ran on its way out (dap/exception_test.go).


class LedgerError(Exception):
    pass


def withdraw(balance, amount):
    if amount > balance:
        raise LedgerError("overdrawn", balance - amount)
    return balance - amount


def main():
    balance = 10
    try:
        for amount in (3, 4, 5):
            balance = withdraw(balance, amount)
    finally:
        closed = True
    return balance, closed


main()
