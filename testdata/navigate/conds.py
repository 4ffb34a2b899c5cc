LIMIT = 3
NAMES = ("ada", "bob")


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a
        self.b = [a, a * 2]


class Eq:
    def __eq__(self, other):
        return True

    def __bool__(self):
        return False


class Box:
    def __init__(self, v):
        self.v = v

    @property
    def double(self):
        return self.v * 2


def walk(items):
    total = 0
    seen = {}
    last = None
    for i, item in enumerate(items):
        p = Point(i, -i)
        s = Slotted(i)
        total += i * 2
        seen[str(i)] = [i, (i, "x")]
        text = "n%d" % i
        ratio = i / 3
        flags = {i % 2, 3}
        last = item
    return total, seen, last


def main():
    e = Eq()
    b = Box(4)
    data = [1, 2.5, "three", None, (4, 5)]
    r = walk(data)
    nothing = None
    return r, e, b, nothing


main()
