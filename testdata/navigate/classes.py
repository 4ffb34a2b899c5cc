class Account:
    count = 0

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        Account.count += 1

    def deposit(self, amount):
        self.balance += amount
        return self.balance

    @property
    def rich(self):
        return self.balance > 100

    @staticmethod
    def fee(x):
        return x // 10

    @classmethod
    def make(cls, owner):
        return cls(owner, 5)

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"


def main():
    a = Account("ada")
    b = Account.make("bob")
    for amt in (30, 50, 70):
        a.deposit(amt - Account.fee(amt))
    r = a.rich
    text = str([a, b])
    return r, text


print(main())
