"""What the source files say: the names each line binds, the line of a
function's `def` (its code's first line is its first decorator's), and (for
CPython 3.10, whose code objects have no co_qualname) the qualified name of
the code that starts at a line. Parsed with gdb's own Python, never the
debuggee's.
"""

import ast
import json

_CACHE = {}
# path -> the text the recording ran, for the files a saved recording keeps
# a copy of (load_sources).
_RAN_TEXT = {}


def _parsed(path):
    """(syntax tree or None, cache entry) of the text the recording ran: the
    recording's copy when it keeps one (load_sources), else the file as this
    session first reads it, so that a file the user saves while debugging
    keeps the parse whose line numbers are the recording's."""
    entry = _CACHE.get(path)
    if entry is None:
        text = _RAN_TEXT.get(path)
        try:
            if text is None:
                with open(path, "rb") as f:
                    text = f.read()
            tree = ast.parse(text, path)
        except (OSError, TypeError, SyntaxError, ValueError):
            tree = None
        entry = _CACHE[path] = {"tree": tree}
    return entry["tree"], entry


def text(path):
    """The text of path the recording ran: the recording's copy when it keeps
    one (load_sources), else the file now; OSError when it cannot be read."""
    ran = _RAN_TEXT.get(path)
    if ran is None:
        with open(path, "rb") as f:
            ran = f.read()
    if isinstance(ran, bytes):
        ran = ran.decode("utf-8", "replace")
    return ran


def load_sources(path):
    """Take the text of each file when the recording ran, from the JSON file
    path ({"files": {path: text}}) a saved recording keeps; the number of files."""
    with open(path, encoding="utf-8") as f:
        files = json.load(f).get("files") or {}
    for name, text in files.items():
        _RAN_TEXT[name] = text
        _CACHE.pop(name, None)
    return len(files)


def _bound(target):
    """The names a target binds: `a`, `a, *b`, `(a, [b])`; not the object of
    `a.x = ...` or `a[i] = ...`, which is changed, not bound."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            yield from _bound(e)
    elif isinstance(target, ast.Starred):
        yield from _bound(target.value)


def stores(path):
    """Line -> names that line's statement binds, from the source's syntax
    tree: what a line's inline history shows as assigned. {} when the file
    cannot be read or parsed by this Python."""
    tree, entry = _parsed(path)
    if "stores" in entry:
        return entry["stores"]
    out = {}

    def bind(line, target):
        names = out.setdefault(str(line), [])
        for name in _bound(target):
            if name not in names:
                names.append(name)

    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    bind(node.lineno, t)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                if node.value is not None or isinstance(node, ast.AugAssign):
                    bind(node.lineno, node.target)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                bind(getattr(node, "lineno", getattr(node.target, "lineno", 0)), node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        bind(node.lineno, item.optional_vars)
            elif isinstance(node, ast.NamedExpr):
                bind(node.lineno, node.target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    out.setdefault(str(node.lineno), []).append((a.asname or a.name).split(".")[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                out.setdefault(str(line), []).append(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                out.setdefault(str(node.lineno), []).append(node.name)
    entry["stores"] = out
    return out


_COMPREHENSIONS = {ast.ListComp: "<listcomp>", ast.SetComp: "<setcomp>",
                   ast.DictComp: "<dictcomp>", ast.GeneratorExp: "<genexpr>"}


def _qualnames(tree):
    """(code name, first line) -> qualified name, as the compiler makes them
    (Python/compile.c compiler_set_qualname): Class.method,
    outer.<locals>.inner, outer.<locals>.<lambda>."""
    out = {}

    def visit(node, prefix, in_function):
        for child in ast.iter_child_nodes(node):
            name = None
            line = getattr(child, "lineno", None)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = child.name
                if child.decorator_list:
                    line = child.decorator_list[0].lineno
            elif isinstance(child, ast.Lambda):
                name = "<lambda>"
            elif type(child) in _COMPREHENSIONS:
                name = _COMPREHENSIONS[type(child)]
            if name is None:
                visit(child, prefix, in_function)
                continue
            if prefix:
                qual = prefix + (".<locals>." if in_function else ".") + name
            else:
                qual = name
            out.setdefault((name, line), qual)
            visit(child, qual, not isinstance(child, ast.ClassDef))

    visit(tree, "", False)
    return out


def qualname(path, firstlineno, name):
    """The qualified name of the code named name that starts at firstlineno of
    path; name itself when the source cannot say."""
    tree, entry = _parsed(path)
    if tree is None:
        return name
    if "qualnames" not in entry:
        entry["qualnames"] = _qualnames(tree)
    return entry["qualnames"].get((name, firstlineno), name)


def def_line(path, firstlineno, name):
    """The line of the `def` (or `lambda`) of the function named name whose
    code starts at firstlineno (its first decorator's line when it has
    decorators): where the editor shows its parameters. firstlineno when the
    source cannot say."""
    tree, entry = _parsed(path)
    if tree is None:
        return firstlineno
    lines = entry.get("deflines")
    if lines is None:
        lines = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                lines.setdefault((node.name, first), node.lineno)
            elif isinstance(node, ast.Lambda):
                lines.setdefault(("<lambda>", node.lineno), node.lineno)
        entry["deflines"] = lines
    return lines.get((name, firstlineno), firstlineno)


_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def made_once_from(path, firstlineno):
    """The first line of the module-level statement that makes the function
    whose code begins at firstlineno (its def, or the class it is a method
    of; decorators included), when only the main module's own run of that
    line can make it, once: not inside a loop or another function. None
    otherwise, or without the source. While the module's frame is before
    that line, the function does not exist yet (window.py's import run-over)."""
    tree, _ = _parsed(path)
    if tree is None:
        return None

    def first_line(node):
        return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])

    def contains(node):
        end = getattr(node, "end_lineno", None) or node.lineno
        return first_line(node) <= firstlineno <= end

    top = next((s for s in tree.body if contains(s)), None)
    if top is None:
        return None
    node, depth = top, 0
    while node is not None and depth < 100:
        if isinstance(node, _LOOPS):
            return None
        if isinstance(node, _FUNCTIONS) and first_line(node) != firstlineno:
            return None  # made by another function, at each of its calls
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and first_line(node) == firstlineno:
            return first_line(top)
        node = next((c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt) and contains(c)), None)
        depth += 1
    return None
