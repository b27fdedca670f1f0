"""Which functions of a module may suspend: what `swarm check` needs to avoid false alarms.

A callback handed to C code, an open file, a call in a class body only stop a migration if a
suspension can happen there. This module answers "may this call, this function, this block
suspend?" from the source alone, with a fixpoint over the module's functions:

- a call of a builtin never suspends; neither does one of a name imported from the standard
  library (`from dataclasses import field`), nor a method call `x.m()` unless `m` is a
  method of the module that may suspend or a Ref operation (`get`, `set`, `delete`,
  `relocate`, `result`);
- a call of a function or class of the module suspends if that function (the class's
  `__init__`) may; a call of anything imported from `swarm`, or from a module that is
  neither the standard library's nor this one's, may suspend;
- a function may suspend if any call in it may (nested functions count: they may be called).

It is a lint's answer: a method name shared by a suspending method makes every call of that
name suspend, and what a user module beside the script does is not looked into.
"""

from __future__ import annotations

import ast
import sys

from swarm.compiler.analysis import ModuleFacts

REF_METHODS = frozenset({"get", "set", "delete", "relocate", "result"})
_STDLIB = frozenset(sys.stdlib_module_names)


class Suspensions:
    """Which calls of a module may suspend (for `swarm check`)."""

    def __init__(self, tree: ast.Module, facts: ModuleFacts) -> None:
        self.facts = facts
        self.stdlib_names: set[str] = set()  # names bound by imports from the stdlib
        self.swarm_names: set[str] = set()  # names bound by imports from swarm
        self.defs: dict[str, list[ast.FunctionDef]] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                relative = getattr(node, "level", 0) or 0
                for a in node.names:
                    root = (module or a.name).split(".")[0]
                    bound = a.asname or (a.name if module else a.name.split(".")[0])
                    if root == "swarm" and not relative:
                        self.swarm_names.add(bound)
                    elif root in _STDLIB and not relative:
                        self.stdlib_names.add(bound)
            elif isinstance(node, ast.FunctionDef):
                self.defs.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        self.suspending: set[str] = set()
        changed = True
        while changed:  # fixpoint: a function suspends if something it calls does
            changed = False
            for fname, nodes in self.defs.items():
                if fname not in self.suspending and any(self.block(n.body) for n in nodes):
                    self.suspending.add(fname)
                    changed = True

    def block(self, stmts) -> bool:
        """May these statements (or an expression) suspend?"""
        nodes = stmts if isinstance(stmts, list) else [stmts]
        for node in nodes:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and self.call(sub):
                    return True
                if isinstance(sub, (ast.Yield, ast.YieldFrom)):
                    continue  # a yield parks the generator; its consumer is what moves
        return False

    def call(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in self.swarm_names:
                return True
            if self.facts.is_builtin(func.id):
                return any(self.function_value(a) for a in call.args) or any(
                    self.function_value(k.value) for k in call.keywords)
            if func.id in self.defs:
                return func.id in self.suspending
            if func.id in self.classes:
                return "__init__" in self.suspending and self._has_init(func.id)
            return func.id not in self.stdlib_names
        if isinstance(func, ast.Attribute):
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.swarm_names:
                return True
            if isinstance(root, ast.Name) and root.id in self.stdlib_names:
                return any(self.function_value(a) for a in call.args)
            return func.attr in REF_METHODS or func.attr in self.suspending
        return True

    def _has_init(self, cls: str) -> bool:
        return any(isinstance(s, ast.FunctionDef) and s.name == "__init__"
                   for s in self.classes[cls].body)

    def function_value(self, node: ast.expr) -> bool:
        """Is `node` a function (handed to C code) that may suspend when called?"""
        if isinstance(node, ast.Lambda):
            return self.block(node.body)
        if isinstance(node, ast.Name):
            if node.id in self.defs:
                return node.id in self.suspending
            if node.id in self.swarm_names:
                return True
            return False
        if isinstance(node, ast.Attribute):
            return node.attr in self.suspending
        return False
