# Code without a source file: a dataclass's generated __init__ and
# namedtuple's __new__ (both compiled from strings), and a function exec'd
# from a string. Moves pass through them like C code; their writes count
# for the last write, placed at the line that called them.
from collections import namedtuple
from dataclasses import dataclass

Pair = namedtuple("Pair", "a b")


@dataclass
class Box:
    label: str
    size: int = 0


ns = {}
exec(compile("def twice(x):\n    y = x * 2\n    return y\n", "<generated>", "exec"), ns)
twice = ns["twice"]


def fill(box, times):
    for i in range(times):
        box.label = "b%d" % i


def make(n):
    boxes = []
    for i in range(n):
        b = Box("x", i)
        p = Pair(i, b)
        boxes.append(p)
    return boxes


def main():
    got = make(3)
    box = Box("first")
    fill(box, 12)
    t = twice(len(got))
    return box, t


box, t = main()
print(box.label, t)
