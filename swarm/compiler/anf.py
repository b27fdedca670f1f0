"""Pass 3: A-normal form. Every call that may suspend becomes a statement of its own.

The result of a call that may suspend goes to a temporary (`_sw_t12 = f(x)`), wrapped in a
`Point` marker node carrying a module-wide point id; operands evaluated before it are hoisted
into temporaries first, so evaluation order (and every side effect) stays where it was.
Short-circuit operators, conditional expressions and chained comparisons become `if`s.

Compound statements whose hidden control flow would hide a point (`with`, `try ... finally`,
`for`, `while`) are desugared in anf_compound.py; expressions and assignment targets are in
anf_exprs.py.
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import (
    CHILDREN,
    ModuleFacts,
    assign,
    children_function,
    locate_at,
    located,
    name,
    no_children,
    position_of,
)
from swarm.compiler.anf_compound import CompoundStatements
from swarm.compiler.anf_exprs import Expressions
from swarm.compiler.compiled import PointInfo
from swarm.compiler.errors import CompileError, error_at
from swarm.compiler.points import (
    FunctionState,
    InlineComp,
    Point,
    function_scope,
)

_STMT_METHODS: dict[type, object] = {}  # statement class -> its rule (looked up once)
#: statements holding expressions and no block: left alone when _quiet
_SIMPLE = frozenset({ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return,
                     ast.Delete, ast.Raise, ast.Assert})
_LOUD = frozenset({ast.Yield, ast.YieldFrom, ast.Await, InlineComp})
_USER_LOCALS = frozenset({"locals", "vars"})  # wrapped (anf_exprs.expr_generic_call)


class Linearizer(CompoundStatements, Expressions):
    """Pass 3 over one module: statements here, compound statements (anf_compound.py) and
    expressions (anf_exprs.py) in the mixins."""

    def __init__(self, facts: ModuleFacts, filename: str, points: dict[int, PointInfo],
                 temp_names: dict[str, str], counter) -> None:
        self.facts = facts
        self.filename = filename
        self.point_info = points
        self.temp_names = temp_names
        self.counter = counter
        self.fn: FunctionState | None = None
        self.point_targets: dict[int, str] = {}  # point -> the name its call's value goes to
        self.point_callees: dict[int, tuple] = {}  # point -> what it calls ("self", "m")
        # Discussion: a function has one capture handler, not one per point: the handler
        # finds its point from the instruction the capture passed (swarm/continuation/
        # sites.py) by the position CPython gives it - a call's end, a loop's or a `yield
        # from`'s span. `sites` maps those keys to points; a key two points share (code the
        # compiler made at one position) is `ambiguous`, and such points keep a handler of
        # their own (lower.py)
        self.sites: dict[tuple, int] = {}
        self.ambiguous: set[tuple] = set()
        self.point_gens: dict[int, tuple] = {}  # a `next` point -> the generator it advances
        self.functions: list[tuple[ast.AST, FunctionState]] = []

    # ---- bookkeeping ---------------------------------------------------------------------
    def new_point(self, node: ast.AST) -> int:
        point = next(self.counter)
        self.fn.points.append(point)
        d = node.__dict__  # (getattr(node, "lineno", 0), without the class lookup)
        self.point_info[point] = PointInfo(self.fn.qualname, self.filename,
                                           d.get("lineno", 0), d.get("col_offset", 0) + 1)
        return point

    def temp(self, hint: str, what: str | None = None) -> str:
        t = self.facts.temp(hint)
        if what:
            self.temp_names[t] = what
        return t

    def point(self, stmt: ast.stmt, like: ast.AST, kind: str, callee=None, gen=None) -> Point:
        position = position_of(like)
        locate_at(stmt, position)
        # (the marker at `like`'s position, as located() would put it: its one child, the
        # statement, has one now)
        node = Point(stmt=stmt, **position)
        node.point = self.new_point(like)
        node.kind = kind
        node.callee = callee
        node.gen = gen
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            self.point_targets[node.point] = stmt.targets[0].id
        path = _dotted(callee) if kind == "call" else None
        if path:
            self.point_callees[node.point] = path
        if kind != "yield":
            self.fn.captures = True
            if kind == "next":
                self.point_gens[node.point] = _dotted(gen)
            value = getattr(stmt, "value", None)
            node.sw_site = self.site("c", value, node.point) if isinstance(
                value, ast.Call) else None
        return node

    def site(self, kind: str, at: ast.AST, point: int) -> tuple | None:
        """Register where point `point`'s instruction is in the bytecode: ("c", end line,
        end column) of a call (CPython moves a method call's start, never its end); ("f",
        span) of a `for` loop's FOR_ITER, ("s", span) of a `yield from`'s SEND. None when
        the node has no position yet (a translated script: filled in later)."""
        d = at.__dict__
        if d.get("end_col_offset") is None or d.get("lineno") is None:
            return None
        if kind == "c":
            key = ("c", d["end_lineno"], d["end_col_offset"])
        else:
            key = (kind, d["lineno"], d["col_offset"], d["end_lineno"], d["end_col_offset"])
        if self.sites.setdefault(key, point) != point:
            self.ambiguous.add(key)
        return key

    def stable(self, e: ast.expr) -> bool:
        """Can `e` be evaluated later without a different result? (constants, plain locals)"""
        if isinstance(e, ast.Constant):
            return True
        if e.__dict__.get("sw_stable"):  # a comprehension's `_sw_cr.append` (desugar.py)
            return True
        if isinstance(e, ast.Name):
            if e.id.startswith("_sw_") and not e.id.startswith("_sw_box_"):
                return True  # compiler temps are assigned once; no call can change them
            return not self.fn.is_module and e.id in self.fn.locals
        return False

    # ---- functions -----------------------------------------------------------------------
    def module(self, tree: ast.Module) -> None:
        state = FunctionState("<module>", True, False)
        self._function(tree, state)

    def _function(self, node, state: FunctionState) -> None:
        saved, self.fn = self.fn, state
        if isinstance(node, ast.FunctionDef):
            a = node.args
            state.locals = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
            state.locals |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
            state.locals |= node.sw_assigned
            del node.sw_assigned
        node.body = self.block(node.body)
        node.sw_state = state
        self.functions.append((node, state))
        self.fn = saved

    def function_def(self, node: ast.FunctionDef) -> None:
        prefix = "" if self.fn.is_module else self.fn.qualname + ".<locals>."
        cls = getattr(node, "sw_class_qualname", None)
        qualname = (cls + "." if cls else prefix) + node.name
        node.sw_qualname = qualname
        node.sw_assigned, generator = function_scope(node, self.facts.scope_lines)
        self._function(node, FunctionState(qualname, False, generator))

    def class_def(self, node: ast.ClassDef) -> None:
        prefix = "" if self.fn.is_module else self.fn.qualname + ".<locals>."
        cls_qualname = (getattr(node, "sw_class_qualname", None) or prefix) + node.name
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                item.sw_class_qualname = cls_qualname
                self.function_def(item)
            elif isinstance(item, ast.ClassDef):
                item.sw_class_qualname = cls_qualname + "."
                self.class_def(item)

    # ---- statements ----------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        cls = type(s)
        if cls in _SIMPLE and self._quiet(s):
            s.sw_quiet = True  # (read by pipeline._temps_read: it reads no compiler temp)
            return [s]
        method = _STMT_METHODS.get(cls)
        if method is None:
            method = getattr(type(self), "stmt_" + cls.__name__, None)
            if method is None:
                raise error_at(s, f"statement {cls.__name__} is not supported by the "
                               "continuation compiler", self.filename)
            _STMT_METHODS[cls] = method
        return method(self, s)

    def _quiet(self, s: ast.stmt) -> bool:
        """Is `s` left as it is by the A-normal form: no call that may suspend, no yield, no
        comprehension run as a loop, no `locals()`/`vars()`, no name of the compiler's?

        Discussion: most statements are (`x = a[i] + 1`, `return self.v`), and the rules
        for expressions walked each of their nodes to give them back unchanged; the walk
        here stops at the first node that needs them (the value of `x = f(y)` is the second
        node looked at). Such a statement reads no compiler temp either: the live-temps
        walk skips it (pipeline._temps_read)."""
        may_suspend = self.facts.may_suspend
        todo = [s]
        pop = todo.pop
        get = CHILDREN.get
        Name, Call = ast.Name, ast.Call
        while todo:
            n = pop()
            cls = type(n)
            if cls is Name:
                ident = n.id
                if ident.startswith("_sw_") and not ident.startswith("_sw_box_"):
                    return False
                continue
            if cls is Call:
                func = n.func
                if may_suspend(n) or (type(func) is Name and func.id in _USER_LOCALS):
                    return False
            elif cls in _LOUD:
                return False
            fn = get(cls) or children_function(cls)
            if fn is not no_children:
                todo += fn(n)
        return True

    def stmt_FunctionDef(self, s):
        pre, apply = self._decorators(s)
        pre += self._defaults(s.args)
        self.function_def(s)
        return pre + [s] + apply

    def _defaults(self, args: ast.arguments) -> list[ast.stmt]:
        """Defaults are evaluated when the def runs, left to right: if one may suspend, all
        are evaluated into temporaries first (same order), so they are points too."""
        exprs = list(args.defaults) + [d for d in args.kw_defaults if d is not None]
        if not any(self.facts.has_suspending_call(d) for d in exprs):
            return []
        pre: list[ast.stmt] = []

        def hoist(d):
            t = self.temp("dflt")
            pre.extend(self.stmt(located(ast.Assign(targets=[name(t, ast.Store())], value=d), d)))
            return located(name(t), d)

        args.defaults = [hoist(d) for d in args.defaults]
        args.kw_defaults = [hoist(d) if d is not None else None for d in args.kw_defaults]
        return pre

    def stmt_ClassDef(self, s):
        pre, apply = self._decorators(s)
        self.class_def(s)
        return pre + [s] + apply

    def _decorators(self, s):
        """`@d(x) def f` -> `_sw_d = d(x); def f; f = _sw_d(f)`: decorating runs user code
        that may suspend (decorator expressions first, top to bottom, then applied from the
        bottom up, as CPython does)."""
        decos = s.decorator_list
        if not decos or all(isinstance(d, ast.Name) and self.facts.is_builtin(d.id)
                            for d in decos):
            return [], []
        pre: list[ast.stmt] = []
        held = []
        for d in decos:
            t = self.temp("deco")
            pre += self.stmt(located(ast.Assign(targets=[name(t, ast.Store())], value=d), d))
            held.append(t)
        value: ast.expr = name(s.name)
        for t in reversed(held):
            value = ast.Call(func=name(t), args=[value], keywords=[])
        s.decorator_list = []
        apply = self.stmt(located(ast.Assign(targets=[name(s.name, ast.Store())], value=value),
                                  s))
        return pre, apply

    def _simple(self, s):
        return [s]

    stmt_Pass = stmt_Break = stmt_Continue = stmt_Global = stmt_Nonlocal = _simple
    stmt_Import = stmt_ImportFrom = _simple

    def stmt_Expr(self, s):
        v = s.value
        if isinstance(v, ast.YieldFrom):
            pre, _ = self.expr(v)
            return pre
        if isinstance(v, ast.Call) and self.facts.may_suspend(v):
            pre, stmt = self.call_stmt(v, lambda call: ast.Expr(value=call))
            return pre + [stmt]
        if isinstance(v, ast.Yield):
            pre, value = self.expr(v.value) if v.value is not None else ([], None)
            return pre + [self.point(ast.Expr(value=ast.Yield(value=value)), s, "yield")]
        pre, e = self.expr(v)
        return pre + [located(ast.Expr(value=e), s)]

    def stmt_Assign(self, s):
        v = s.value
        if len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            target = s.targets[0]
            if isinstance(v, ast.Call) and self.facts.may_suspend(v):
                pre, stmt = self.call_stmt(v, lambda call: ast.Assign(targets=[target],
                                                                      value=call))
                return pre + [stmt]
            if isinstance(v, ast.Yield):
                pre, value = self.expr(v.value) if v.value is not None else ([], None)
                stmt = ast.Assign(targets=[target], value=ast.Yield(value=value))
                return pre + [self.point(stmt, s, "yield")]
        pre, value = self.expr(v)
        target_parts = [self.target(t) for t in s.targets]
        if not any(p for p, _ in target_parts):
            return pre + [located(ast.Assign(targets=[t for _, t in target_parts],
                                             value=value), s)]
        if not self.stable(value):
            t = self.temp("t")
            pre.append(located(assign(t, value), s))
            value = name(t)
        for p, target in target_parts:
            pre.extend(p)
            pre.append(located(ast.Assign(targets=[target], value=value), s))
        return pre

    def stmt_AnnAssign(self, s):
        if s.value is None:
            return [s]
        pre, value = self.expr(s.value)
        tpre, target = self.target(s.target)
        if tpre:
            return pre + tpre + [located(ast.Assign(targets=[target], value=value), s)]
        s.value = value
        return pre + [s]

    def stmt_AugAssign(self, s):
        pre_v, value = self.expr(s.value)
        target = s.target
        if not pre_v and not self._has_prelude_target(target):
            s.value = value
            return [s]
        if isinstance(target, ast.Name) and self.stable(target):
            return pre_v + [located(ast.AugAssign(target=target, op=s.op, value=value), s)]
        out: list[ast.stmt] = []
        acc = self.temp("acc")
        if isinstance(target, ast.Name):
            out.append(located(assign(acc, name(target.id)), s))
            store = ast.Name(id=target.id, ctx=ast.Store())
        elif isinstance(target, ast.Attribute):
            p, obj = self.expr(target.value)
            o = self.temp("obj")
            out += p + [located(assign(o, obj), s),
                        located(assign(acc, ast.Attribute(value=name(o), attr=target.attr,
                                                          ctx=ast.Load())), s)]
            store = ast.Attribute(value=name(o), attr=target.attr, ctx=ast.Store())
        elif isinstance(target, ast.Subscript):
            p, (obj, idx) = self.children([target.value, target.slice])
            o, i = self.temp("obj"), self.temp("idx")
            out += p + [located(assign(o, obj), s), located(assign(i, idx), s),
                        located(assign(acc, ast.Subscript(value=name(o), slice=name(i),
                                                          ctx=ast.Load())), s)]
            store = ast.Subscript(value=name(o), slice=name(i), ctx=ast.Store())
        else:  # pragma: no cover - the grammar allows nothing else
            raise error_at(s, "unsupported augmented assignment target", self.filename)
        out += pre_v
        out.append(located(ast.AugAssign(target=name(acc, ast.Store()), op=s.op, value=value), s))
        out.append(located(ast.Assign(targets=[store], value=name(acc)), s))
        return out

    def _has_prelude_target(self, target) -> bool:
        return self.facts.has_suspending_call(target)

    def stmt_Return(self, s):
        if s.value is None:
            return [s]
        pre, s.value = self.expr(s.value)
        return pre + [s]

    def stmt_Delete(self, s):
        pre: list[ast.stmt] = []
        targets = []
        for t in s.targets:
            p, t2 = self.target(t)
            pre += p
            targets.append(t2)
        s.targets = targets
        return pre + [s]

    def stmt_Raise(self, s):
        pre, (exc, cause) = self.children([s.exc, s.cause])
        s.exc, s.cause = exc, cause
        return pre + [s]

    def stmt_Assert(self, s):
        pre, test = self.expr(s.test)
        mpre, msg = self.expr(s.msg) if s.msg is not None else ([], None)
        if not pre and not mpre:
            return [s]
        args = [msg] if msg is not None else []
        err = ast.Call(func=name("AssertionError"), args=args, keywords=[])
        err.sw_safe = True
        fail = mpre + [located(ast.Raise(exc=err, cause=None), s)]
        return pre + [located(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test), body=fail,
                                     orelse=[]), s)]

    def stmt_If(self, s):
        pre, s.test = self.expr(s.test)
        s.body = self.block(s.body)
        s.orelse = self.block(s.orelse)
        return pre + [s]


def _dotted(e) -> tuple[str, ...] | None:
    """("self", "table", "sort") for `self.table.sort`; None for anything else."""
    parts = []
    while isinstance(e, ast.Attribute):
        parts.append(e.attr)
        e = e.value
    if not isinstance(e, ast.Name):
        return None
    parts.append(e.id)
    return tuple(reversed(parts))


__all__ = ["Linearizer", "Point", "FunctionState", "CompileError"]
