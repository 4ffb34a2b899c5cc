# Attribute writes for last-write tests: a hot loop of specialized stores,
# __slots__, a dataclass (a field only its generated __init__ writes), a
# chain written in a callee, writes in a loop of a callee two frames up, and
# an instance whose attributes move to a dict that grows after the write.
import os
from dataclasses import dataclass


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 0
        self.y = 0


@dataclass
class Point:
    x: int
    y: int


class Box:
    def __init__(self, inner):
        self.inner = inner


def set_from_callee(b):
    b.inner.y = 99


@dataclass
class Tag:
    label: str
    hits: int = 0


def deeper(s, tag):
    for i in range(30):
        s.y = i
        tag.label = "l%d" % i


def outer(s, tag):
    deeper(s, tag)


def main():
    os.getppid()
    c = Counter()
    s = Slotted()
    p = Point(1, 2)
    b = Box(p)
    for i in range(40):
        c.bump()
        s.x = i
    p.x = 7
    set_from_callee(b)
    tag = Tag("new")
    outer(s, tag)
    for k in range(40):
        setattr(c, "extra%d" % k, k)
    total = i
    seen = c.count
    os.getppid()


main()
