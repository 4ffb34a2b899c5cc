def gen(n):
    for i in range(n):
        yield i * 2
    return n


def delegate(n):
    total = yield from gen(n)
    yield total


def risky(x):
    try:
        if x > 2:
            raise ValueError(x)
        return x
    except ValueError:
        return -1
    finally:
        x = 0


class Managed:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main():
    out = []
    for v in gen(30):
        out.append(v)
    for v in delegate(3):
        out.append(v)
    out.append(risky(1))
    out.append(risky(5))
    with Managed() as m:
        out.append(len(out))
    return out, m


main()
