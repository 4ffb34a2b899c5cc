"""Conditions of run-to-line: a Python expression, evaluated by timelens from
the debuggee's memory in one frame, never by running code in the program.

What a condition may use (CONTRACT.md, timelens.runToLine):
  * names: the frame's locals (cells and free variables included), then the
    module's globals (the frame's f_globals), then the builtin constants
    None, True, False, Ellipsis, NotImplemented, __debug__;
  * attribute chains (an instance's __dict__ or __slots__, a class's or a
    module's namespace; not a property or other descriptor, which would run
    code), subscripts of builtin containers with a constant key or index
    (x[0], x[-1], d["k"], d[1, 2]), constants and tuple/list/set displays;
  * comparisons (chained too: 0 < i <= n), `in`, `is` / `is not` against
    None, True, False or another object, arithmetic (+ - * / // % ** and
    unary - + ~), `and` / `or` / `not`, `a if c else b`, and len() of a
    builtin (str, bytes, list, tuple, dict, set, frozenset, range).

compile() checks the shape once, before time moves: anything else is a
TimelensError "bad-condition" naming what is not supported and why. At each
stop, evaluate() reads what the expression names from memory; builtin values
become Python values of gdb's own Python, where the arithmetic and the
comparisons happen. Two kinds of failure there:
  * Miss: the name, attribute, key or index is not there at this time, or
    the operation fails (None > 3, 1 / 0): the condition does not hold at
    this stop (what Python would raise is kept, to explain a run that found
    nothing);
  * a TimelensError "bad-condition": the expression needs code of the
    program to run (== on instances of a class, the truth of an object with
    __bool__ or __len__, a property): it will need it at every stop, so the
    run stops with that error and time does not move.
"""

import ast
import operator

import gdb

from . import frames
from .errors import TimelensError
from .values import Reader

MAX_NODES = 100000       # objects read for one evaluation
MAX_STR = 1 << 20        # characters of a str (bytes of a bytes) compared whole
MAX_ITEMS = 100000       # items of one container converted whole
MAX_BITS = 1 << 20       # bits of an int an operation may produce
BUILTIN_CONSTANTS = {"None": None, "True": True, "False": False, "Ellipsis": Ellipsis,
                     "NotImplemented": NotImplemented, "__debug__": True}
SINGLETONS = (None, True, False, Ellipsis, NotImplemented)
# Objects whose value() is never a container: evaluate renders the others
# (lists, instances) from memory as the hints do.
_SCALARS = ("PyLong_Type", "PyBool_Type", "_PyNone_Type", "PyFloat_Type", "PyComplex_Type")


def bad(condition, what, why):
    return TimelensError("bad-condition", "condition %r: %s %s" % (condition, what, why),
                         condition=condition, unsupported=what)


class Miss(Exception):
    """The condition cannot be decided here: it does not hold at this stop."""


# -- values read from memory --------------------------------------------------------

class Obj:
    """An object of the debuggee, at an address; read when an operation needs it."""

    __slots__ = ("addr",)

    def __init__(self, addr):
        self.addr = addr


class Env:
    """What one evaluation reads: frame f (CodeInfo ci) at the current time."""

    def __init__(self, f, ci, condition):
        self.r = Reader()
        self.L = self.r.L
        self.f = f
        self.ci = ci
        self.condition = condition
        self.nodes = 0
        self._names = {}

    def bad(self, what, why):
        return bad(self.condition, what, why)

    def count(self, n=1):
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise self.bad("a condition reading more than %d objects" % MAX_NODES, "is too large to evaluate")

    def sym(self, o):
        return self.L.type_by_addr.get(self.r.type_of(o.addr))

    def type_name(self, o):
        return self.r.type_name(self.r.type_of(o.addr))

    # -- names -----------------------------------------------------------------
    def lookup(self, name):
        """The address of name in the frame's variables or globals, or None
        (Reader.lookup_name; the builtins are not looked at)."""
        if name not in self._names:
            hit = self.r.lookup_name(self.f, self.ci, name, ("local", "global"))
            self._names[name] = hit[0] if hit else None
        return self._names[name]

    def name(self, name):
        addr = self.lookup(name)
        if addr:
            return Obj(addr)
        if name in BUILTIN_CONSTANTS:
            return BUILTIN_CONSTANTS[name]
        raise Miss("name %r is not defined in %s at this time" % (name, self.ci.qualname))

    # -- conversion --------------------------------------------------------------
    def plain(self, v, what):
        """v as a Python value; an object that is not a builtin value cannot be
        used by an operation that would run its methods."""
        if not isinstance(v, Obj):
            return v
        p = self.value(v.addr, 0)
        if isinstance(p, Obj):
            raise self.bad("%s of %s objects" % (what, self.type_name(p)),
                           "would run their methods in the program: compare their attributes, or use `is`")
        return p

    def value(self, addr, depth):
        """The Python value of a builtin object (containers converted whole,
        within bounds), or Obj(addr) for any other object."""
        self.count()
        r = self.r
        L = self.L
        o = Obj(addr)
        sym = self.sym(o)
        if sym == "PyLong_Type":
            v, bits = r.read_int(addr)
            if v is None:
                raise self.bad("an int of %d bits" % bits, "is too large to compare")
            return v
        if sym == "PyBool_Type":
            return r.bool_value(addr)
        if sym == "_PyNone_Type":
            return None
        if sym == "PyFloat_Type":
            return r.float_value(addr)
        if sym == "PyComplex_Type":
            return r.complex_value(addr)
        if sym == "PyUnicode_Type":
            s, n = r.read_str(addr, MAX_STR + 1)
            if n > MAX_STR:
                raise self.bad("a str of %d characters" % n, "is too long to compare")
            return s
        if sym == "PyBytes_Type":
            n = r.bytes_size(addr)
            if n > MAX_STR:
                raise self.bad("a bytes of %d bytes" % n, "is too long to compare")
            return r.bytes_value(addr)
        if sym == "PyEllipsis_Type":
            return Ellipsis
        if sym == "_PyNotImplemented_Type":
            return NotImplemented
        if sym == "PyRange_Type" and L.range_fields:
            return range(*r.range_value(addr))
        if depth > 20:
            raise self.bad("a value nested deeper than 20 containers", "is too deep to compare")
        if sym in ("PyList_Type", "PyTuple_Type"):
            items = [self.value(a, depth + 1) for a in self.items(o)]
            return items if sym == "PyList_Type" else tuple(items)
        if sym == "PyDict_Type":
            out = {}
            for k, val, _ in r.dict_items(addr):
                self.count()
                out[self.key(self.value(k, depth + 1))] = self.value(val, depth + 1)
            return out
        if sym in ("PySet_Type", "PyFrozenSet_Type"):
            out = {self.key(self.value(k, depth + 1)) for k in r.set_items(addr)}
            return out if sym == "PySet_Type" else frozenset(out)
        return o

    def key(self, v):
        if isinstance(v, Obj):
            raise self.bad("a dict or set holding %s objects" % self.type_name(v),
                           "cannot be compared without running their __hash__ and __eq__")
        if isinstance(v, (list, dict, set)):
            raise Miss("unhashable %s" % type(v).__name__)
        return v

    def items(self, o):
        """The item addresses of a list or tuple."""
        r = self.r
        n = r.ob_size(o.addr)
        if n < 0 or n > MAX_ITEMS:
            raise self.bad("a container of %d items" % n, "is too large to compare")
        self.count(n)
        return r.mem.ptrs(r.sequence_items_base(o.addr, self.sym(o)), n)

    # -- operations on objects -----------------------------------------------------
    def attr(self, v, name):
        if not isinstance(v, Obj):
            raise self.bad("attribute .%s of a %s value" % (name, type(v).__name__),
                           "is not supported (a method or a computed attribute would run code)")
        self.count()
        sym = self.sym(v)
        if sym is not None and sym not in ("PyType_Type", "PyModule_Type"):
            raise self.bad("attribute .%s of a %s" % (name, self.type_name(v)),
                           "is not supported (a method or a computed attribute would run code)")
        try:
            hit = self.r.lookup_attr(v.addr, name)
        except TimelensError as e:
            if e.code == "unsupported":
                raise self.bad("attribute .%s" % name, "is a property: evaluating it would run code")
            raise
        if hit is None:
            raise Miss("%s object has no attribute %r (readable without running code)"
                       % (self.type_name(v), name))
        return Obj(hit[0])

    def subscript(self, v, key):
        if not isinstance(v, Obj):
            try:
                return v[key]
            except (LookupError, TypeError) as e:
                raise Miss("%s: %s" % (type(e).__name__, e))
        self.count()
        sym = self.sym(v)
        r = self.r
        if sym in ("PyList_Type", "PyTuple_Type"):
            if not isinstance(key, int) or isinstance(key, bool):
                raise Miss("%s indices must be integers" % self.type_name(v))
            n = r.ob_size(v.addr)
            i = key + n if key < 0 else key
            if not 0 <= i < n:
                raise Miss("index %d out of range (%d items)" % (key, n))
            base = r.sequence_items_base(v.addr, sym)
            return Obj(r.mem.ptr(base + 8 * i))
        if sym == "PyDict_Type":
            want = self.key(key)
            for k, val, _ in r.dict_items(v.addr):
                self.count()
                kv = self.value(k, 1)
                if not isinstance(kv, Obj) and kv == want:
                    return Obj(val)
            raise Miss("KeyError: %r" % (key,))
        if sym in ("PyUnicode_Type", "PyBytes_Type", "PyRange_Type"):
            return self.subscript(self.value(v.addr, 0), key)
        raise self.bad("a subscript of a %s" % self.type_name(v), "would run its __getitem__ in the program")

    def length(self, v):
        if not isinstance(v, Obj):
            try:
                return len(v)
            except TypeError as e:
                raise Miss("TypeError: %s" % e)
        sym = self.sym(v)
        r = self.r
        if sym in ("PyList_Type", "PyTuple_Type", "PyBytes_Type"):
            return r.ob_size(v.addr)
        if sym == "PyUnicode_Type":
            return r.str_info(v.addr)[0]
        if sym == "PyDict_Type":
            return r.mem.i64(v.addr + self.L.dict_used)
        if sym in ("PySet_Type", "PyFrozenSet_Type"):
            return r.mem.i64(v.addr + self.L.set_used)
        if sym == "PyRange_Type":
            return len(self.value(v.addr, 0))
        if sym is not None:
            raise Miss("TypeError: object of type %s has no len()" % self.type_name(v))
        raise self.bad("len() of a %s" % self.type_name(v), "would run its __len__ in the program")

    def truth(self, v):
        if not isinstance(v, Obj):
            return bool(v)
        p = self.value(v.addr, 0)
        if not isinstance(p, Obj):
            return bool(p)
        # An instance is true unless its class defines __bool__ or __len__,
        # which would have to run.
        r = self.r
        tp = r.type_of(v.addr)
        for t in r.mro(tp):
            d = r.mem.ptr(t + self.L.tp_dict)
            for special in ("__bool__", "__len__"):
                if d and r.dict_lookup_str(d, special):
                    raise self.bad("the truth of a %s object" % self.type_name(v),
                                   "would run its %s in the program: compare explicitly (x is not None, len(...))"
                                   % special)
        return True

    def identity(self, a, b):
        if isinstance(a, Obj) and isinstance(b, Obj):
            return a.addr == b.addr
        for x, y in ((a, b), (b, a)):
            if isinstance(x, Obj):
                if not any(y is s for s in SINGLETONS):
                    raise self.bad("`is` with %r" % (y,), "is not supported: `is` compares identity with None, "
                                   "True, False or another object; use == to compare values")
                p = self.value(x.addr, 0)
                return p is y
        if not any(a is s for s in SINGLETONS) and not any(b is s for s in SINGLETONS):
            raise self.bad("`is` between two constants", "is not supported; use ==")
        return a is b


# -- compiling ----------------------------------------------------------------------

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge}
_UNOPS = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}

# What each unsupported syntax is, for the error.
_NAMES = {"Lambda": "a lambda", "ListComp": "a list comprehension", "SetComp": "a set comprehension",
          "DictComp": "a dict comprehension", "GeneratorExp": "a generator expression",
          "Await": "await", "Yield": "yield", "YieldFrom": "yield from", "JoinedStr": "an f-string",
          "FormattedValue": "an f-string", "Starred": "a starred expression", "NamedExpr": "an assignment (:=)",
          "Slice": "a slice", "Dict": "a dict display", "MatMult": "the @ operator"}


def _size_guard(env, op, a, b):
    """Refuses an operation whose result would be huge (gdb's own Python does it)."""
    if op is operator.pow and isinstance(a, int) and isinstance(b, int) and b > 0:
        if max(abs(a), 2).bit_length() * b > MAX_BITS:
            raise env.bad("%r ** %r" % (a, b), "is too large to compute")
    if op is operator.lshift and isinstance(b, int) and b > MAX_BITS:
        raise env.bad("a shift by %d" % b, "is too large to compute")
    if op is operator.mul:
        for s, n in ((a, b), (b, a)):
            if isinstance(s, (str, bytes, list, tuple)) and isinstance(n, int) and len(s) * n > MAX_ITEMS * 10:
                raise env.bad("a repetition of %d items" % (len(s) * n), "is too large to compute")


class Condition:
    """A compiled condition: evaluate(f, ci) decides it in frame f (code ci),
    now; True or False, Miss when it cannot be decided here."""

    def __init__(self, text):
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as e:
            raise TimelensError("bad-condition", "condition %r is not a Python expression: %s" % (text, e.msg),
                                condition=text, unsupported="syntax")
        self.fn = self._compile(tree.body)

    def evaluate(self, f, ci):
        env = Env(f, ci, self.text)
        try:
            return env.truth(self.fn(env))
        except (ArithmeticError, TypeError, ValueError) as e:
            raise Miss("%s: %s" % (type(e).__name__, e))
        except gdb.MemoryError as e:   # errors.Unreadable included
            raise Miss("unreadable memory: %s" % e)

    def value(self, f, ci):
        """The expression's value in frame f now: a Python value, or Obj for
        an object of the program that is not a builtin value; Miss when it
        cannot be read here."""
        env = Env(f, ci, self.text)
        try:
            v = self.fn(env)
            if isinstance(v, Obj):
                v = env.value(v.addr, 0) if env.sym(v) in _SCALARS else v
            return v
        except (ArithmeticError, TypeError, ValueError) as e:
            raise Miss("%s: %s" % (type(e).__name__, e))
        except gdb.MemoryError as e:   # errors.Unreadable included
            raise Miss("unreadable memory: %s" % e)

    def _unsupported(self, node):
        kind = type(node).__name__
        what = _NAMES.get(kind, "%s (%s)" % (kind, ast.dump(node)[:40]) if kind not in ("Call",) else "a call")
        return bad(self.text, what, "is not supported in a condition: timelens evaluates conditions from memory, "
                   "without running code in the program (names, attributes, constant subscripts, comparisons, "
                   "arithmetic, and/or/not and len() are)")

    def _compile(self, node):
        c = self._compile
        if isinstance(node, ast.Constant):
            v = node.value
            return lambda env: v
        if isinstance(node, ast.Name):
            name = node.id
            return lambda env: env.name(name)
        if isinstance(node, ast.Attribute):
            obj, name = c(node.value), node.attr
            return lambda env: env.attr(obj(env), name)
        if isinstance(node, ast.Subscript):
            sl = node.slice
            if isinstance(sl, getattr(ast, "Index", ())):  # gdb's Python < 3.9
                sl = sl.value
            key = self._constant(sl)
            obj = c(node.value)
            return lambda env: env.subscript(obj(env), key)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            parts = [c(e) for e in node.elts]
            make = {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)]
            if make is set:
                return lambda env: {env.key(env.plain(p(env), "a set display")) for p in parts}
            return lambda env: make(p(env) for p in parts)
        if isinstance(node, ast.BoolOp):
            parts = [c(v) for v in node.values]
            if isinstance(node.op, ast.And):
                def and_(env):
                    v = True
                    for p in parts:
                        v = p(env)
                        if not env.truth(v):
                            return v
                    return v
                return and_

            def or_(env):
                v = False
                for p in parts:
                    v = p(env)
                    if env.truth(v):
                        return v
                return v
            return or_
        if isinstance(node, ast.UnaryOp):
            operand = c(node.operand)
            if isinstance(node.op, ast.Not):
                return lambda env: not env.truth(operand(env))
            op = _UNOPS[type(node.op)]
            return lambda env: op(env.plain(operand(env), "arithmetic"))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise self._unsupported(node.op)
            op = _BINOPS[type(node.op)]
            left, right = c(node.left), c(node.right)

            def binop(env):
                a = env.plain(left(env), "arithmetic")
                b = env.plain(right(env), "arithmetic")
                _size_guard(env, op, a, b)
                return op(a, b)
            return binop
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            test, body, orelse = c(node.test), c(node.body), c(node.orelse)
            return lambda env: body(env) if env.truth(test(env)) else orelse(env)
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == "len"):
                what = ast.unparse(node.func) if hasattr(ast, "unparse") else "a function"
                raise bad(self.text, "a call of %s" % what, "is not supported: calling it would run code in the "
                          "program (len() of a builtin is the one call a condition may make)")
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                raise bad(self.text, "len() with %d arguments" % len(node.args), "is not supported: len(x) takes one")
            arg = c(node.args[0])

            def len_(env):
                if env.lookup("len"):
                    raise env.bad("len()", "is not supported here: the program defines its own len, and "
                                  "calling it would run code")
                return env.length(arg(env))
            return len_
        raise self._unsupported(node)

    def _constant(self, node):
        """The value of a constant subscript: a literal, -literal, or a tuple of them."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and \
                isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex)):
            v = node.operand.value
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Tuple):
            return tuple(self._constant(e) for e in node.elts)
        if isinstance(node, ast.Slice):
            raise self._unsupported(node)
        raise bad(self.text, "a subscript by an expression", "is not supported: subscripts take a constant key or "
                  "index (x[0], d['key'])")

    def _compare(self, node):
        left = self._compile(node.left)
        steps = []
        for op, right in zip(node.ops, node.comparators):
            if type(op) in _CMPOPS:
                f = _CMPOPS[type(op)]
                steps.append((lambda env, a, b, f=f: f(env.plain(a, "comparing"), env.plain(b, "comparing")),
                              self._compile(right)))
            elif isinstance(op, (ast.Is, ast.IsNot)):
                neg = isinstance(op, ast.IsNot)
                steps.append((lambda env, a, b, neg=neg: env.identity(a, b) != neg, self._compile(right)))
            elif isinstance(op, (ast.In, ast.NotIn)):
                neg = isinstance(op, ast.NotIn)
                steps.append((lambda env, a, b, neg=neg: _contains(env, b, a) != neg, self._compile(right)))
            else:
                raise self._unsupported(op)

        def compare(env):
            a = left(env)
            for test, right in steps:
                b = right(env)
                if not test(env, a, b):
                    return False
                a = b
            return True
        return compare


def _contains(env, container, item):
    c = env.plain(container, "`in` on")
    x = env.plain(item, "`in` with")
    if isinstance(c, dict):
        return env.key(x) in c
    return x in c


def compile(text):
    """A Condition, or a TimelensError "bad-condition" saying what is not supported."""
    return Condition(text)


def holds(cond, f, ci):
    """(holds, why not): whether cond holds in frame f now; why is the Miss's
    message when it could not be decided."""
    try:
        return cond.evaluate(f, ci), None
    except Miss as e:
        return False, str(e)


def evaluate_at(thread, depth, text):
    """-timelens-condition: the condition's value in the frame at depth, now
    (for tests and for checking a condition before a run)."""
    from .state import frame_at
    cond = compile(text)
    f, ci = frame_at(None, frames.tstate_for_thread(thread), depth)
    ok, why = holds(cond, f, ci)
    return {"condition": text, "depth": depth, "holds": ok, "undecided": why}
