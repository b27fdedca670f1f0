"""The conformance suite's AST pass: a checkpoint at the entry of every function and loop body.

`instrument(source, sizes)` returns the benchmark's source with
- `_conformance_checkpoint()` as the first statement of every function (after its docstring)
  and of every `for`/`while` body, and imported from the pyperf stand-in at the top;
- the module-level (or `if __name__ == "__main__":`) assignments named in `sizes` given the
  suite's small values instead (`DEFAULT_ITERATIONS = 20000` -> `DEFAULT_ITERATIONS = 3`);
- `time.perf_counter()` read from the stand-in's counter, so returned timings are the same in
  every run.
Nothing is edited by hand: the suite runs the benchmark files of the installed pyperformance.
"""

from __future__ import annotations

import ast

CHECKPOINT = "_conformance_checkpoint"


def _call() -> ast.stmt:
    return ast.Expr(value=ast.Call(func=ast.Name(id=CHECKPOINT, ctx=ast.Load()), args=[],
                                   keywords=[]))


def _has_docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[0], ast.Expr) and isinstance(
        body[0].value, ast.Constant) and isinstance(body[0].value.value, str)


class _Checkpoints(ast.NodeTransformer):
    def _function(self, node):
        self.generic_visit(node)
        at = 1 if _has_docstring(node.body) else 0
        node.body.insert(at, _call())
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _loop(self, node):
        self.generic_visit(node)
        node.body.insert(0, _call())
        return node

    visit_For = visit_AsyncFor = visit_While = _loop

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if (node.attr == "perf_counter" and isinstance(node.value, ast.Name)
                and node.value.id == "time"):
            return ast.copy_location(ast.Attribute(value=ast.Name(id="pyperf", ctx=ast.Load()),
                                                   attr="perf_counter", ctx=node.ctx), node)
        return node


def _is_main_guard(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare)
            and isinstance(stmt.test.left, ast.Name) and stmt.test.left.id == "__name__")


def _resize(stmts: list[ast.stmt], sizes: dict, done: set) -> None:
    for stmt in stmts:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in sizes):
            stmt.value = ast.copy_location(ast.Constant(sizes[stmt.targets[0].id]), stmt.value)
            done.add(stmt.targets[0].id)
        elif _is_main_guard(stmt):
            _resize(stmt.body, sizes, done)


def instrument(source: str, filename: str, sizes: dict | None = None) -> str:
    tree = ast.parse(source, filename)
    sizes = sizes or {}
    done: set = set()
    _resize(tree.body, sizes, done)
    missing = set(sizes) - done
    if missing:
        raise ValueError(f"{filename}: no assignment of {sorted(missing)} to resize")
    tree = _Checkpoints().visit(tree)
    at = 0
    while at < len(tree.body) and (
            (at == 0 and _has_docstring(tree.body))
            or (isinstance(tree.body[at], ast.ImportFrom) and tree.body[at].module == "__future__")):
        at += 1
    tree.body[at:at] = [ast.ImportFrom(module="pyperf", names=[ast.alias(name=CHECKPOINT)],
                                       level=0),
                        ast.Import(names=[ast.alias(name="pyperf")])]
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"
