"""`swarm check FILE.py`: every place where the program could not migrate, before it runs.

What it reports (file:line:col and the reason):
- constructs the compiler rejects (async code, `except*`, reserved names, syntax errors);
- calls that hand a function to C or library code, which would call it back where no capture
  can pass: `sorted/min/max(key=f)`, `list.sort(key=f)`, `map(f, ...)`, `filter(f, ...)`,
  anything from `functools`/`itertools`/`operator` given a function, and decorators that come
  from other modules (`@functools.lru_cache`, `@contextlib.contextmanager`);
- locals that hold values that never pickle: open files, locks, sockets, threads;
- calls inside class bodies (a class body is not compiled; a suspension there cannot migrate);
- a generator that suspends, consumed by C or library code: `list(gen())`, `sum(g)`,
  `sorted(t.walk())`, `itertools.islice(gen(), 5)`, `enumerate(gen())`, `",".join(map(str,
  gen()))`, `xs.extend(gen())`, `[*gen()]`, `a, b = gen()`, `x in gen()` (C code advances it,
  so a suspension inside it finds an uncompiled frame). A Python `for` loop, a comprehension,
  `yield from`, `next(g)` and `g.send(v)` advance it from compiled code and are fine, and so
  is a generator expression consumed whole by a builtin (`sum(f(x) for x in xs)`: the
  compiler builds a list there instead).

Each is reported only where a suspension can happen (suspends.py): a key function that never
suspends, a file opened in a helper that touches no remote data, a library call in a class
body are fine. A report is a warning about what *may* stop a migration: at run time such a
place makes the program go on without moving (told on its stderr; NotMigratable under
--strict) - never a wrong continuation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from swarm.compiler.analysis import ModuleFacts
from swarm.compiler.desugar import CONSUME_ALL
from swarm.compiler.errors import CompileError, InternalCompilerError
from swarm.compiler.registry import compile_source
from swarm.compiler.suspends import Suspensions

CALLBACK_BUILTINS = {"sorted": "key", "min": "key", "max": "key"}
FUNCTION_TAKERS = {"map", "filter"}
LIBRARY_MODULES = {"functools", "itertools", "operator", "contextlib"}
UNPICKLABLE_FACTORIES = {
    "open": "an open file", "Lock": "a lock", "RLock": "a lock", "Condition": "a condition",
    "Semaphore": "a semaphore", "Event": "an event", "Thread": "a thread",
    "socket": "a socket", "create_connection": "a socket", "Context": "a ZeroMQ context",
}


#: builtins that iterate an argument in C (map and filter: the arguments after the function)
ITERATING_BUILTINS = {"list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min",
                      "max", "any", "all", "enumerate", "zip", "map", "filter", "bytes",
                      "bytearray"}
#: methods of builtin types that iterate their argument in C
ITERATING_METHODS = {"join", "extend", "update", "union", "intersection", "difference",
                     "symmetric_difference", "issubset", "issuperset", "isdisjoint",
                     "fromkeys", "writelines", "extendleft", "intersection_update",
                     "difference_update", "symmetric_difference_update", "writerows"}
#: standard library modules whose functions and classes iterate an argument in C or Python
#: that is not compiled (itertools.islice, collections.deque, heapq.nlargest, statistics.mean)
ITERATING_MODULES = {"itertools", "functools", "collections", "heapq", "statistics", "math",
                     "operator", "bisect", "array", "csv"}
LIST_FIRST = "iterate it with a `for` loop or a comprehension yourself: `[x for x in g]`"


@dataclass(frozen=True, order=True)
class Finding:
    """One place `swarm check` reports: file:line:col and why."""

    filename: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.message}"


def check_source(source: str, filename: str) -> list[Finding]:
    """Every place where the program in `source` could not migrate (the module's
    docstring), or why it does not compile; sorted by position."""
    try:
        compile_source(source, filename, "__check__")
    except CompileError as e:
        return [Finding(filename, e.line, e.col, e.message)]
    except InternalCompilerError as e:  # swarm's bug: said in one line, not a traceback
        return [Finding(filename, 1, 1, f"swarm's compiler failed on this file (a bug in "
                                        f"swarm, not in the program; please report it): {e}")]
    tree = ast.parse(source, filename)
    facts = ModuleFacts(tree)
    suspends = Suspensions(tree, facts)
    return sorted(set(_Checker(filename, facts, suspends, _Generators(tree, suspends))
                      .run(tree)))


def check_file(path: str) -> list[Finding]:
    """check_source of the file at `path`."""
    with open(path, encoding="utf-8") as f:
        return check_source(f.read(), path)


def _is_function_value(node: ast.expr, facts: ModuleFacts) -> bool:
    """Could this argument be a user function (so C code would call back into it)?"""
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Name):
        return not facts.is_builtin(node.id)
    return isinstance(node, ast.Attribute)


def _shown(call: ast.Call, callee: str) -> str:
    """The call as written if it is short, else its callee (`list(t.walk())`, `zip(...)`)."""
    text = ast.unparse(call)
    return text if len(text) <= 40 else f"{callee[:-2]}(...)"


def _own_nodes(stmts):
    """The nodes of these statements, not those of functions, lambdas and classes inside."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                      ast.ClassDef)):
                todo.append(child)


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(fn.body))


class _Generators:
    """Which expressions are generators that suspend (a lint's answer, by name as in
    suspends.py): a call of a generator function or method of the module that may suspend,
    an instance of a class of the module whose `__iter__` is one, a generator expression that
    may suspend, `iter()` of one, and a local bound to one in the same scope."""

    def __init__(self, tree: ast.Module, suspends: Suspensions) -> None:
        self.suspends = suspends
        self.consumed: dict[int, dict[str, int]] = {}  # id(def) -> its parameters C iterates
        self.functions: set[str] = set()  # generator functions and methods that suspend
        self.library: set[str] = set()  # names bound by imports from ITERATING_MODULES
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                for a in node.names:
                    root = (node.module if isinstance(node, ast.ImportFrom) else a.name)
                    if (root or "").split(".")[0] in ITERATING_MODULES:
                        self.library.add(a.asname or a.name.split(".")[0])
        self.iterables: set[str] = set()  # classes whose __iter__ is one
        for name, defs in suspends.defs.items():
            if any(_is_generator(d) and suspends.block(d.body) for d in defs):
                self.functions.add(name)
        for name, cls in suspends.classes.items():
            if any(isinstance(s, ast.FunctionDef) and s.name == "__iter__"
                   and _is_generator(s) and suspends.block(s.body) for s in cls.body):
                self.iterables.add(name)

    def scope(self, stmts) -> dict[str, str]:
        """The names these statements bind to a suspending generator: name -> what it is."""
        names: dict[str, str] = {}
        for _ in range(2):  # twice: `h = g` after `g = gen()`
            for node in _own_nodes(stmts):
                value = getattr(node, "value", None)
                if not isinstance(node, (ast.Assign, ast.AnnAssign)) or value is None:
                    continue
                what = self.describe(value, names)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if what and isinstance(t, ast.Name):
                        names.setdefault(t.id, what)
        return names

    def describe(self, node: ast.expr, names: dict[str, str]) -> str | None:
        """What `node` is, if it is a generator that may suspend; else None."""
        if isinstance(node, ast.Name):
            what = names.get(node.id)
            return f"{node.id} ({what})" if what else None
        if isinstance(node, ast.GeneratorExp):
            inner = [node.elt] + [x for g in node.generators for x in g.ifs] + \
                [g.iter for g in node.generators[1:]]
            if self.suspends.block(inner) or any(
                    self.describe(g.iter, names) for g in node.generators):
                return "a generator expression"
            return None
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Name) and func.id == "iter" and len(node.args) == 1 \
                and self.suspends.facts.is_builtin("iter"):
            return self.describe(node.args[0], names)
        if isinstance(func, ast.Name) and func.id in self.iterables:
            return f"a {func.id} (its __iter__ is a generator)"
        if isinstance(func, ast.Name) and func.id in self.functions or \
                isinstance(func, ast.Attribute) and func.attr in self.functions:
            return f"the generator {ast.unparse(func)}()"
        return None


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str, facts: ModuleFacts, suspends: Suspensions,
                 generators: _Generators) -> None:
        self.filename = filename
        self.facts = facts
        self.suspends = suspends
        self.generators = generators
        self.scope_generators: list[dict[str, str]] = [{}]  # locals bound to such generators
        self.scope_suspends = [False]  # may the scope being visited suspend?
        self.found: list[Finding] = []
        self.library_names: set[str] = set()  # names imported from library modules

    def run(self, tree) -> list[Finding]:
        self.visit(tree)
        return self.found

    def report(self, node, message: str) -> None:
        self.found.append(Finding(self.filename, node.lineno, node.col_offset + 1, message))

    def visit_Import(self, node):
        for a in node.names:
            if a.name.split(".")[0] in LIBRARY_MODULES:
                self.library_names.add((a.asname or a.name).split(".")[0])

    def visit_ImportFrom(self, node):
        if node.module and node.module.split(".")[0] in LIBRARY_MODULES:
            self.library_names.update(a.asname or a.name for a in node.names)

    def _library_callee(self, func: ast.expr) -> str | None:
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.library_names:
            return ast.unparse(func)
        return None

    def visit_Call(self, node: ast.Call):
        func = node.func
        fname = func.id if isinstance(func, ast.Name) and self.facts.is_builtin(func.id) \
            else None
        key = CALLBACK_BUILTINS.get(fname or "")
        for kw in node.keywords:
            if kw.arg == "key" and (key or (isinstance(func, ast.Attribute)
                                            and func.attr == "sort")) \
                    and _is_function_value(kw.value, self.facts) \
                    and self.suspends.function_value(kw.value):
                what = fname or "list.sort"
                self.report(node, f"{what}(key=...) calls back into user code from C: a "
                                  "suspension inside the key function cannot migrate")
        if fname in FUNCTION_TAKERS and node.args and _is_function_value(
                node.args[0], self.facts) and self.suspends.function_value(node.args[0]):
            self.report(node, f"{fname}() calls back into user code from C: a suspension "
                              f"inside the function cannot migrate (use a loop or a "
                              "comprehension)")
        lib = self._library_callee(func)
        if lib and any(_is_function_value(a, self.facts) and self.suspends.function_value(a)
                       for a in node.args):
            self.report(node, f"{lib}(...) is library code calling a user function: a "
                              "suspension inside it cannot migrate")
        self._consumed_by(node, fname)
        self._handed_to_function(node)
        self.generic_visit(node)

    def _handed_to_function(self, node: ast.Call) -> None:
        """Report a generator that suspends passed to a function of the module that hands
        that parameter to C code (`def total(xs): return sum(xs)`; `total(gen())`)."""
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else None
        for fn in self.suspends.defs.get(fname or "", ()):
            consumed = self._consumed_params(fn)
            if not consumed:
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if isinstance(func, ast.Attribute) and params:
                params = params[1:]  # a method: its first parameter is the instance
            passed = list(zip(params, node.args, strict=False)) + [
                (k.arg, k.value) for k in node.keywords]
            for param, value in passed:
                what = param in consumed and self._generator(value)
                if what:
                    self.report(node, f"{_shown(node, fname + '()')} hands {what} to "
                                      f"{fname}(), which runs it through C code (line "
                                      f"{consumed[param]}): a suspension inside the "
                                      f"generator cannot migrate ({LIST_FIRST})")
                    return

    def _consumed_params(self, fn: ast.FunctionDef) -> dict[str, int]:
        """The parameters of `fn` it hands to C code that iterates them -> the line."""
        cache = self.generators.consumed
        if id(fn) not in cache:
            cache[id(fn)] = {}  # (a recursive call finds none while this is worked out)
            probe = _ParamProbe(self, fn)
            for stmt in fn.body:
                probe.visit(stmt)
            cache[id(fn)] = probe.consumed
        return cache[id(fn)]

    def _generator(self, node: ast.expr) -> str | None:
        return self.generators.describe(node, self.scope_generators[-1])

    def _consumed_by(self, node: ast.Call, fname: str | None) -> None:
        """Report a generator that suspends handed to C or library code that advances it."""
        func = node.func
        args = list(node.args) + [k.value for k in node.keywords]
        origin = "C code"
        if fname in ITERATING_BUILTINS:
            callee = f"{fname}()"
            if fname in ("map", "filter"):
                args = args[1:]
            whole = fname in CONSUME_ALL or fname in ("any", "all") and len(args) == 1
            if whole and node.args and isinstance(node.args[0], ast.GeneratorExp):
                args = args[1:]  # the compiler builds a list there instead
        elif isinstance(func, ast.Attribute) and func.attr in ITERATING_METHODS \
                and func.attr not in self.suspends.defs:
            callee = f".{func.attr}()"
            if func.attr == "join" and len(node.args) == 1 and \
                    isinstance(node.args[0], ast.GeneratorExp):
                args = []  # the compiler builds a list there instead
        elif self._stdlib_callee(func):
            callee, origin = f"{ast.unparse(func)}()", "library code"
        else:
            return
        for a in args:
            what = self._generator(a)
            if what:
                self.report(node, f"{_shown(node, callee)} advances {what} from {origin}: a "
                                  "suspension inside the generator cannot migrate "
                                  f"({LIST_FIRST})")
                return

    def _stdlib_callee(self, func: ast.expr) -> bool:
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in self.generators.library \
            and root.id not in self.suspends.defs and root.id not in self.suspends.classes

    def visit_Starred(self, node):
        what = isinstance(node.ctx, ast.Load) and self._generator(node.value)
        if what:
            self.report(node, f"*{ast.unparse(node.value)} unpacks {what} in C code: a "
                              f"suspension inside the generator cannot migrate ({LIST_FIRST})")
        self.generic_visit(node)

    def visit_Compare(self, node):
        for op, right in zip(node.ops, node.comparators, strict=True):
            what = isinstance(op, (ast.In, ast.NotIn)) and self._generator(right)
            if what:
                self.report(node, f"`in` searches {what} in C code: a suspension inside "
                                  "the generator cannot migrate (search it with a `for` loop)")
        self.generic_visit(node)

    def _decorators(self, node) -> None:
        for d in node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            lib = self._library_callee(target)
            if lib and isinstance(node, ast.FunctionDef) and node.name in \
                    self.suspends.suspending:
                self.report(d, f"decorator {lib} wraps {node.name} in library code: a "
                               f"suspension inside {node.name} cannot migrate")

    def visit_FunctionDef(self, node):
        self._decorators(node)
        self.scope_suspends.append(node.name in self.suspends.suspending)
        self.scope_generators.append(self.generators.scope(node.body))
        self.generic_visit(node)
        self.scope_generators.pop()
        self.scope_suspends.pop()

    def visit_Module(self, node):
        self.scope_suspends = [self.suspends.block(node.body)]
        self.scope_generators = [self.generators.scope(node.body)]
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        self._decorators(node)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                self.visit(stmt)
                continue
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call) and self.facts.may_suspend(sub) \
                        and self.suspends.call(sub):
                    self.report(sub, f"a call in the body of class {node.name} runs "
                                     "uncompiled: a suspension there cannot migrate")
            self.visit(stmt)

    def _unpicklable(self, value: ast.expr) -> str | None:
        if not isinstance(value, ast.Call):
            return None
        func = value.func
        ident = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if ident == "open" and isinstance(func, ast.Name) and not self.facts.is_builtin("open"):
            return None
        return UNPICKLABLE_FACTORIES.get(ident or "")

    def visit_Assign(self, node):
        unpacked = self._generator(node.value)
        if unpacked and any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
            self.report(node, f"unpacking {unpacked} runs it in C code: a suspension inside "
                              f"the generator cannot migrate ({LIST_FIRST}, or call next() "
                              "for each)")
        what = self._unpicklable(node.value)
        if what and self.scope_suspends[-1]:  # alive where the program may move
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.report(node, f"variable {t.id!r} holds {what}: the program cannot "
                                      "migrate while it is alive (close or drop it before "
                                      "touching remote data)")
        self.generic_visit(node)

    def visit_With(self, node):
        for item in node.items:
            what = self._unpicklable(item.context_expr)
            if what and self.suspends.block(node.body):
                held = item.optional_vars
                label = f"variable {held.id!r}" if isinstance(held, ast.Name) else "this with"
                self.report(item.context_expr, f"{label} holds {what} for the `with` block: "
                                               "the program cannot migrate inside it")
        self.generic_visit(node)


class _ParamProbe(_Checker):
    """Which parameters of a function its body hands to C code that iterates them: the
    checker's rules, with each parameter taken for a generator that suspends."""

    def __init__(self, checker: _Checker, fn: ast.FunctionDef) -> None:
        super().__init__(checker.filename, checker.facts, checker.suspends, checker.generators)
        args = fn.args
        self.params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        self.consumed: dict[str, int] = {}

    def _generator(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in self.params:
            return f"\0{node.id}\0"
        return None

    def report(self, node, message: str) -> None:
        if "\0" in message:
            self.consumed.setdefault(message.split("\0")[1], node.lineno)
