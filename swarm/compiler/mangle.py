"""Pass 0: apply CPython's private-name mangling ourselves, inside classes.

Resumers of methods are module-level functions, where CPython would not mangle `self.__x`.
Mangling the source first (`__x` -> `_Cls__x` inside class `Cls`) is what CPython does anyway,
and mangled names are not mangled again, so normal code is unchanged and resumers agree.
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import Visitor, stmt_lists


def _mangle(ident: str | None, cls: str | None) -> str | None:
    if (ident is None or cls is None or not ident.startswith("__") or ident.endswith("__")
            or "." in ident):
        return ident
    stripped = cls.lstrip("_")
    return f"_{stripped}{ident}" if stripped else ident


class _Mangler(Visitor):
    def __init__(self) -> None:
        self.cls: str | None = None

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        node.name = _mangle(node.name, self.cls)
        for n in node.bases + node.keywords + node.decorator_list:
            self.visit(n)
        saved, self.cls = self.cls, node.name
        for stmt in node.body:
            self.visit(stmt)
        self.cls = saved

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        node.name = _mangle(node.name, self.cls)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        node.id = _mangle(node.id, self.cls)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        node.attr = _mangle(node.attr, self.cls)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        node.arg = _mangle(node.arg, self.cls)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        node.arg = _mangle(node.arg, self.cls)
        self.generic_visit(node)

    def visit_Global(self, node) -> None:
        node.names = [_mangle(n, self.cls) for n in node.names]

    visit_Nonlocal = visit_Global

    def visit_alias(self, node: ast.alias) -> None:
        node.asname = _mangle(node.asname, self.cls)


def mangle_private_names(tree: ast.Module) -> None:
    """Mangle `__private` names inside classes as CPython would (in place; idempotent).

    Discussion: nothing outside a class is mangled, and a class is a statement: only the
    statement lists are walked to the outermost classes (not the expressions, most of the
    tree), and each class is visited whole. The whole tree was walked: 2% of compiling the
    suite, for the one of its 49 sources the text test lets through (regex_v8, whose
    strings hold `__`)."""
    mangler = _Mangler()
    todo = [tree]
    pop = todo.pop
    while todo:
        node = pop()
        if type(node) is ast.ClassDef:
            mangler.visit(node)
            continue
        for stmts in stmt_lists(node):
            todo += stmts
