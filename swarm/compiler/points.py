"""The markers and walks the A-normal form pass and the passes after it share.

`Point` marks a statement that is a suspension point (`Delegation` a `yield from`, which holds
points of its own); `FunctionState` is what the pass
learns about one function; the walks visit one scope (nested defs, classes and lambdas are
seen but not entered).
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import (
    CHILDREN,
    SHAPES,
    children_function,
    no_children,
    position_of,
    skeleton,
)

#: iterables that are never user generators: no point for their `next`
BUILTIN_ITERS = frozenset({"range", "enumerate", "zip", "reversed", "sorted", "list", "tuple",
                           "dict", "set", "frozenset", "str", "map", "filter", "iter", "bytes"})


class Point(ast.stmt):
    """Marker: `stmt` (an Assign or Expr whose value is a call or a yield) is point `point`.

    kind: "call" (a call that may suspend), "next" (`next(gen)`: `gen` is the generator
    expression), "yield". `callee` is an expression that re-evaluates the called object at
    capture time, for the direct-call check.
    """

    _fields = ("stmt",)


class Delegation(ast.stmt):
    """Marker: a `yield from` (anf_exprs.expr_YieldFrom). The function runs `native` - the
    delegation itself, at C speed - whose captures are reported at `point` (the `next` point
    of `expansion`) advancing the delegate `gen`; only a resumer runs `expansion`, the
    delegation spelled out as PEP 380 does, re-entered at one of its points."""

    _fields = ("native", "expansion")


class InlineComp(ast.expr):
    """Marker: a comprehension run as a loop of the enclosing function (desugar.py): `body`
    builds the value into the local `result` (a Name), the expression's value. The A-normal
    form makes `body` the expression's prelude; `names` describes its temporaries (the
    comprehension's own variables, renamed) for error messages."""

    _fields = ("body", "result")


#: statements without a statement list (a Point is none of them)
NO_BLOCK = frozenset({ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return,
                      ast.Delete, ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Pass,
                      ast.Break, ast.Continue, ast.Global, ast.Nonlocal})


class FunctionState:
    """What the Linearizer learns about one function (or the module's top level): its
    points and locals."""

    def __init__(self, qualname: str, is_module: bool, is_generator: bool) -> None:
        self.qualname = qualname
        self.is_module = is_module
        self.is_generator = is_generator
        self.points: list[int] = []
        self.locals: set[str] = set()
        self.captures = False  # has it a point a capture can pass (not only yields)?
        self.has_try = False  # does its body hold a `try` (its own, or one made by the
        # A-normal form)? Else lowering's guard_trys has nothing to do there


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_SCOPE_SET = frozenset(_SCOPES)


def walk_no_scopes(stmts):
    """Every node of `stmts` in this scope: nested defs, classes and lambdas are yielded
    themselves (they bind a name here) but not entered."""
    todo = list(stmts)
    pop = todo.pop
    get = CHILDREN.get
    while todo:
        node = pop()
        yield node
        cls = type(node)
        if cls not in _SCOPE_SET:
            fn = get(cls) or children_function(cls)
            if fn is not no_children:
                todo += fn(node)


def contains_point(stmts) -> bool:
    """Does any of these statements (not counting nested scopes) hold a point? (Statements
    the A-normal form made: a point is a statement, or a loop's `next`.)

    Discussion: only the statement lists are walked: a point is never inside an
    expression once the A-normal form has run (a comprehension run as a loop became
    statements). The walk of every node was a tenth of compiling a module of `try`s."""
    todo = list(stmts)
    pop = todo.pop
    while todo:
        node = pop()
        cls = type(node)
        if cls is Point:
            return True
        if cls in NO_BLOCK or cls in _SCOPE_SET:
            continue
        if cls is Delegation:
            todo += node.native
            todo += node.expansion
            continue
        d = node.__dict__
        if d.get("sw_next_point"):
            return True
        for field in _BLOCKS:  # (handlers and cases hold bodies of their own)
            v = d.get(field)
            if v:
                todo += v
    return False


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def bound_names(stmts) -> tuple[set[str], set[str]]:
    """(names the statements bind in their scope, names they declare global/nonlocal)."""
    names, declared, _ = _scope_facts(stmts)
    return names, declared


_SCOPE_FACTS = frozenset({ast.FunctionDef, ast.ClassDef, ast.ExceptHandler, ast.Import,
                          ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom})


def _scope_facts(stmts, lines: list[int] | None = None) -> tuple[set[str], set[str], bool]:
    """bound_names, and whether the statements yield, in one walk of their scope.

    `lines` (sorted, ModuleFacts.scope_lines): the lines where a walrus, a yield, a lambda or
    a comprehension starts. An expression read that spans none of them binds no name and
    does not yield: it is not walked (assignment targets are, and statements spanning such a
    line are walked whole).

    Discussion: the names a function binds are needed before its body is rewritten (which
    operands are stable), and walking every node of every function for them was a twentieth
    of compiling; most of a function's nodes are expressions read, which bind nothing."""
    if lines is None:
        return _scope_facts_walked(list(stmts))
    met, whole = skeleton(stmts, lines, SHAPES)
    names: set[str] = set()
    declared: set[str] = set()
    for node in met:
        _binds(node, type(node), names, declared)
    found, found_declared, yields = _scope_facts_walked(whole)
    return names | found, declared | found_declared, yields


def _scope_facts_walked(todo: list) -> tuple[set[str], set[str], bool]:
    """_scope_facts by a walk of every node under `todo` (nested scopes not entered)."""
    names: set[str] = set()
    declared: set[str] = set()
    yields = False
    pop = todo.pop
    get = CHILDREN.get
    Name, Load = ast.Name, ast.Load
    while todo:
        node = pop()
        cls = type(node)
        if cls is Name:
            if type(node.ctx) is not Load:
                names.add(node.id)
            continue
        if cls not in _SCOPE_SET:
            fn = get(cls) or children_function(cls)
            if fn is not no_children:
                todo += fn(node)
        if cls not in _SCOPE_FACTS:  # (most nodes: one test)
            continue
        if cls is ast.FunctionDef or cls is ast.ClassDef:
            names.add(node.name)
        elif cls is ast.Yield or cls is ast.YieldFrom:
            yields = True
        else:
            _binds(node, cls, names, declared)
    return names, declared, yields


def function_scope(fn: ast.FunctionDef, lines: list[int] | None = None) -> tuple[set[str], bool]:
    """(the names a function assigns, less those it declares global or nonlocal; does its
    own body - not a nested scope - yield?), in one walk (`lines`: see _scope_facts)."""
    names, declared, yields = _scope_facts(fn.body, lines)
    return names - declared, yields


def assigned_locals(fn: ast.FunctionDef) -> set[str]:
    """The names a function assigns, less those it declares global or nonlocal."""
    return function_scope(fn)[0]


def is_generator(fn: ast.FunctionDef) -> bool:
    """Does the function's own body (not a nested scope) yield?"""
    return _scope_facts(fn.body)[2]


def stored_names(stmts) -> set[str]:
    """Names a prelude assigns (a walrus's target, hoisted into an assignment)."""
    return {n.id for n in walk_no_scopes(stmts)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def clone_ref(e):
    """A fresh copy of a name or attribute chain (to evaluate it again in a handler), each
    node at the position of the one it copies."""
    if isinstance(e, ast.Attribute):
        return ast.Attribute(value=clone_ref(e.value), attr=e.attr, ctx=_LOAD, **position_of(e))
    return ast.Name(id=e.id, ctx=_LOAD, **position_of(e))


_LOAD = ast.Load()


def reevaluable(e) -> bool:
    """Names and attribute chains on a name can be evaluated again in the capture handler."""
    while isinstance(e, ast.Attribute):
        e = e.value
    return isinstance(e, ast.Name)


def _binds(node, cls, names: set, declared: set) -> None:
    """The names an except clause or an import binds, or a global/nonlocal declares."""
    if cls is ast.ExceptHandler:
        if node.name:
            names.add(node.name)
    elif cls is ast.Import or cls is ast.ImportFrom:
        names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    elif cls is ast.Global or cls is ast.Nonlocal:
        declared |= set(node.names)
