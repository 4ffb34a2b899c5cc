"""Values of every kind pyext renders, each checked at a checkpoint."""

import dataclasses
import enum
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import checkpoint  # noqa: E402

G_INT = 42
G_STR = "global"
deleted_global = 1
del deleted_global


class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b


class Slotted:
    __slots__ = ("x", "y", "__private")

    def __init__(self, x):
        self.x = x
        self.__private = "p"


class SlottedChild(Slotted):
    __slots__ = ("z",)

    def __init__(self):
        super().__init__(1)
        self.z = [1, 2]


class Empty:
    pass


class NoStorage:
    __slots__ = ()


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.5
    tags: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class SlotPoint:
    x: int
    y: int


class Color(enum.Enum):
    RED = 1


class MyError(Exception):
    pass


class Node:
    def __init__(self, name):
        self.name = name
        self.children = []
        self.parent = None


class Many:
    def __init__(self):
        for i in range(40):
            setattr(self, "attr%d" % i, i)


def scalars():
    zero = 0
    neg = -1
    small = 2**30
    word = 2**64
    negbig = -(2**100)
    big = 10**50
    huge = 7**5000
    enormous = 2**(30 * 2000 + 5)
    f1 = 0.1
    f2 = 1e300
    f3 = -0.0
    f4 = float("inf")
    f5 = float("nan")
    f6 = 1.5e-320
    f7 = 123456789.125
    c1 = 1 + 2j
    c2 = complex(-0.0, -0.0)
    t = True
    fa = False
    n = None
    e = ...
    ni = NotImplemented
    checkpoint("scalars")
    return zero, neg, small, word, negbig, big, huge, enormous, f1, f2, f3, f4, f5, f6, f7, c1, c2, t, fa, n, e, ni


def strings():
    empty = ""
    ascii_ = "hello"
    quote1 = "it's"
    quote2 = 'say "hi"'
    quote3 = "both ' and \""
    ctrl = "tab\tnl\nnul\x00del\x7f\\"
    latin = "h\xe9llo w\xf6rld \xff"
    latin_ctrl = "\x80\x9f\xa0\xad"
    ucs2 = "\u03a9\u03bc\u03ad\u03b3\u03b1 \u4e2d\u6587"
    zw = "zero\u200bwidth"
    emoji = "smile \U0001F600 ok"
    astral = "\U00010348\U0001F4A9"
    lone = "a\ud800b"
    long_ascii = "x" * 500
    long_ucs4 = "\U0001F600" * 300
    long_quote = "'" * 200 + '"'
    b1 = b""
    b2 = b"bytes\x00'\"\xff"
    b3 = bytes(range(256))
    checkpoint("strings")
    return empty, ascii_, quote1, quote2, quote3, ctrl, latin, latin_ctrl, ucs2, zw, emoji, astral, lone, long_ascii, long_ucs4, long_quote, b1, b2, b3


def containers():
    l0 = []
    l1 = [1, "two", 3.0, None]
    t0 = ()
    t1 = (1,)
    t2 = (1, (2, 3), [4])
    d0 = {}
    d1 = {"a": 1, "b": [1, 2], 3: "three", (1, 2): None}
    d2 = {k: k * 2 for k in range(10)}
    for k in (1, 3, 5):
        del d2[k]
    d2[100] = "new"
    d3 = {"x": 1, "y": 2}
    del d3["x"]
    s0 = set()
    s1 = {1, 2, 3}
    s2 = set(range(20))
    for k in range(5, 15):
        s2.discard(k)
    fs0 = frozenset()
    fs1 = frozenset({"a"})
    r1 = range(10)
    r2 = range(1, 10, 2)
    r3 = range(5, -5, -3)
    deep = [[[[[1]]]]]
    deep_d = {"a": {"b": {"c": {"d": 1}}}}
    selfref = [1, 2]
    selfref.append(selfref)
    selfdict = {"k": 1}
    selfdict["me"] = selfdict
    mutual = [[]]
    mutual[0].append(mutual)
    big_list = list(range(1000))
    big_dict = {str(i): i for i in range(1000)}
    nested_long = [["y" * 50] * 3] * 3
    tuple_of_lists = ([1], [2])
    checkpoint("containers")
    return locals()


def instances():
    p = Plain(1, "b")
    p2 = Plain([1, 2], {"k": Plain(0, None)})
    p2.extra = 3
    p3 = Plain(1, 2)
    del p3.a
    p4 = Plain(5, 6)
    p4.__dict__["viadict"] = 7
    sl = Slotted(3)
    sc = SlottedChild()
    em = Empty()
    ns = NoStorage()
    pt = Point(1)
    pt2 = Point(2, 3.5, ["t"])
    sp = SlotPoint(1, 2)
    col = Color.RED
    err = ValueError("bad")
    myerr = MyError("mine")
    many = Many()
    root = Node("root")
    child = Node("child")
    child.parent = root
    root.children.append(child)
    me = Node("me")
    me.parent = me
    obj = object()
    func = scalars
    lam = lambda q: q  # noqa: E731
    cls = Plain
    mod = os
    bi = len
    meth = [].append
    code = scalars.__code__
    gen = (i for i in range(3))
    typ = int
    checkpoint("instances")
    return locals()


def closures():
    counter = 0
    shared = ["s"]

    def inc(step):
        nonlocal counter
        counter += step
        late = "unbound before"  # noqa: F841
        checkpoint("closure-inner")
        return shared

    inc(5)
    checkpoint("closure-outer")
    return inc


def cell_arg(arg):
    def use():
        return arg
    checkpoint("cell-arg")
    return use


def unbound():
    before = 1
    checkpoint("unbound")
    after = 2
    return before, after


def generator(n):
    total = 0
    for i in range(n):
        total += i
        checkpoint("generator")
        yield total


def comprehension():
    base = 10
    values = [checkpoint("listcomp") or base + x for x in range(1)]
    gen = list(checkpoint("genexp") or x for x in range(1))
    dct = {k: checkpoint("dictcomp") for k in "a"}
    return values, gen, dct


def level3(x):
    y = x * 2
    checkpoint("stack")
    return y


def level2(x):
    return level3(x + 1)


def level1():
    return level2(1)


class ClassBody:
    attr = 1
    checkpoint("class-body")
    other = attr + 1


class MyStr(str):
    pass


class SlotsAndDict:
    __slots__ = ("s", "__dict__")

    def __init__(self):
        self.s = "slot"
        self.d = "dict"


def more_instances():
    ms = MyStr("text")
    sd = SlotsAndDict()
    replaced = Plain(1, 2)
    replaced.__dict__ = {"new": [1], "other": None}
    grown = Plain(0, 0)
    for i in range(3):
        setattr(grown, "late%d" % i, i)
    del grown.a
    checkpoint("more-instances")
    return ms, sd, replaced, grown


async def coroutine(x):
    inside = [x]
    checkpoint("coroutine")
    return inside


def drive_coroutine():
    coro = coroutine(7)
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value


def main():
    scalars()
    strings()
    containers()
    instances()
    more_instances()
    drive_coroutine()
    closures()
    cell_arg("argument")
    unbound()
    for _ in generator(2):
        pass
    comprehension()
    level1()


main()
checkpoint("module")
