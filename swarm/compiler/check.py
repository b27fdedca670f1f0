"""`swarm check FILE.py`: every place where the program could not migrate, before it runs.

What it reports (file:line:col and the reason):
- constructs the compiler rejects (async code, `except*`, reserved names, syntax errors);
- calls that hand a function to C or library code, which would call it back where no capture
  can pass: `sorted/min/max(key=f)`, `list.sort(key=f)`, `map(f, ...)`, `filter(f, ...)`,
  anything from `functools`/`itertools`/`operator` given a function, and decorators that come
  from other modules (`@functools.lru_cache`, `@contextlib.contextmanager`);
- locals that hold values that never pickle: open files, locks, sockets, threads;
- calls inside class bodies (a class body is not compiled; a suspension there cannot migrate).

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
from swarm.compiler.errors import CompileError
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
    tree = ast.parse(source, filename)
    facts = ModuleFacts(tree)
    return sorted(set(_Checker(filename, facts, Suspensions(tree, facts)).run(tree)))


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


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str, facts: ModuleFacts, suspends: Suspensions) -> None:
        self.filename = filename
        self.facts = facts
        self.suspends = suspends
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
        self.generic_visit(node)
        self.scope_suspends.pop()

    def visit_Module(self, node):
        self.scope_suspends = [self.suspends.block(node.body)]
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
