def add(a, b):
    return a + b


def twice(x):
    y = add(x, x)
    return add(y, 0)


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    t = twice(add(1, 2))
    f = fact(5)
    g = fib(5)
    return t + f + g


r = main()
r = main()
print(r)
