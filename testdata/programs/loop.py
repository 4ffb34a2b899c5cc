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


main()
