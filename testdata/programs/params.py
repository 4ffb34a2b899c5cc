"""Parameters on def lines: a plain function, a method with a keyword-only
parameter, a lambda, a decorated recursive function and its wrapper's
*args and **kwargs; and an object mutated after it was bound (box)."""
import functools


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


class Box:
    def __init__(self, items):
        self.items = items

    def put(self, item, *, times=1):
        for _ in range(times):
            self.items.append(item)
        return len(self.items)


def scale(x, factor=2):
    return x * factor


@traced
def depth_first(n, depth=0):
    if n == 0:
        return depth
    return depth_first(n - 1, depth + 1)


def main():
    box = Box([])
    box.put("a", times=2)
    double = lambda v: scale(v)  # noqa: E731
    doubled = double(21)
    deepest = depth_first(3)
    box.put(doubled)
    return box, deepest


main()
