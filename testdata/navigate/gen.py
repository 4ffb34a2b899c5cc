def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "done"


def wrap(n):
    got = yield from count(n)
    yield got


class Tick:
    def __await__(self):
        yield "tick"


async def worker(n):
    done = 0
    for k in range(n):
        await Tick()
        done += k
    return done


def drive(coro):
    steps = 0
    try:
        while True:
            coro.send(None)
            steps += 1
    except StopIteration as stop:
        return steps, stop.value


def main():
    total = 0
    for v in count(4):
        total += v
    g = wrap(2)
    a = next(g)
    b = next(g)
    c = next(g)
    squares = list(x * x for x in range(3))
    w = drive(worker(3))
    return total, a, b, c, squares, w


print(main())
