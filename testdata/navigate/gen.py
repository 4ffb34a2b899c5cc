def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "done"


def wrap(n):
    got = yield from count(n)
    yield got


def main():
    total = 0
    for v in count(4):
        total += v
    g = wrap(2)
    a = next(g)
    b = next(g)
    c = next(g)
    squares = list(x * x for x in range(3))
    return total, a, b, c, squares


print(main())
