"""Pass 4: protect `try` statements from captures, then turn Point markers into handlers.

guard_trys (before resumers are built, so they are built on the final structure):
- a `try` with handlers that contains a point gets `except Capture: raise` first, so a user's
  bare `except:` or `except BaseException:` cannot swallow a capture;
- a handler that contains a point binds its exception to a name (`_sw_exc4` if the user gave
  none): a resumer re-raises it to re-enter the handler, so a bare `raise` still works;
- a `try` with a `finally` that contains a point is split: the finally part moves to an outer
  `try` whose `finally` runs only when no Capture is unwinding.
  Discussion: a capture is not an exit. The program goes on elsewhere; running `finally` now
  would close its files and release its locks while it still uses them.

lower_points (on the function and on every resumer): each Point becomes its statement, and
the body is wrapped in the function's one handler

    try:
        ...
        _sw_t3 = f(x)        # point 3
        ...
    except __swarm_support__.Capture:
        __swarm_support__.on_capture_at(__swarm_module__, locals())
        raise

which finds the point from the instruction the capture passed (anf.Linearizer.site records
where each point's instruction is). A point whose position another point shares keeps a
handler of its own around its call:

    try:
        _sw_t3 = f(x)
    except __swarm_support__.Capture:
        __swarm_support__.on_capture(__swarm_module__, 3, locals(), f)
        raise

and so does a `for` loop advancing a generator (around the whole loop) and a native
`yield from` (around the delegation, reported at its spelled-out form's `next` point).
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import (
    ModuleFacts,
    assign,
    located,
    name,
    position_of,
    stmt_lists,
    support,
)
from swarm.compiler.points import NO_BLOCK as _NO_BLOCK
from swarm.compiler.points import Delegation, Point, contains_point


def guard_trys(stmts: list[ast.stmt], facts: ModuleFacts, is_module: bool) -> list[ast.stmt]:
    """Every `try` that holds a point, at any depth, guarded (_guard) so that a capture
    passes through the user's handlers untouched."""
    out: list[ast.stmt] = []
    for s in stmts:
        if isinstance(s, (ast.FunctionDef, ast.ClassDef)):  # guarded on their own
            out.append(s)
            continue
        if isinstance(s, Delegation):  # the spelled-out `yield from` a resumer runs
            s.expansion = guard_trys(s.expansion, facts, is_module)
            out.append(s)
            continue
        for field in ("body", "orelse", "finalbody"):
            value = getattr(s, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(s, field, guard_trys(value, facts, is_module))
        for h in getattr(s, "handlers", ()):
            h.body = guard_trys(h.body, facts, is_module)
        if isinstance(s, ast.Try) and not getattr(s, "sw_guarded", False) and contains_point(
                s.body + s.orelse + [b for h in s.handlers for b in h.body]):
            out.extend(_guard(s, facts, is_module))
        else:
            out.append(s)
    return out


def _guard(s: ast.Try, facts: ModuleFacts, is_module: bool) -> list[ast.stmt]:
    for h in s.handlers:
        if not contains_point(h.body):
            continue
        # Discussion: CPython deletes an `except ... as e` name when the handler is left,
        # even by a Capture unwinding it, and a frame's record is taken after that (by the
        # function's one handler, around its whole body; a module's state is its globals,
        # read after unwinding) - so the exception is kept in a second name.
        keep = h.name or facts.temp("exc")
        h.name = facts.temp("exc")
        h.body.insert(0, located(assign(keep, name(h.name)), h))
        h.body.append(located(ast.Delete(targets=[name(keep, ast.Del())]), h))
        h.sw_exc_name = keep
    if s.handlers:
        passthrough = located(ast.ExceptHandler(type=support("Capture"), name=None,
                                                body=[ast.Raise()]), s)
        s.handlers.insert(0, passthrough)
    s.sw_guarded = True
    if not s.finalbody:
        return [s]
    flag = facts.temp("cap")
    inner = s.body
    if s.handlers:
        inner = [located(ast.Try(body=s.body, handlers=s.handlers, orelse=s.orelse,
                                 finalbody=[]), s)]
        inner[0].sw_guarded = True
    outer = ast.Try(
        body=inner,
        handlers=[ast.ExceptHandler(type=support("Capture"), name=None,
                                    body=[assign(flag, ast.Constant(True)), ast.Raise()])],
        orelse=[],
        finalbody=[ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(flag)),
                          body=s.finalbody, orelse=[])])
    outer.sw_guarded = True
    outer.sw_flag = flag
    return [located(assign(flag, ast.Constant(False)), s), located(outer, s)]


def capture_handler(point: int, locals_expr, how: str, arg: ast.expr,
                    at: ast.AST) -> ast.ExceptHandler:
    """`except __swarm_support__.Capture: __swarm_support__.<how>(__swarm_module__, point,
    locals, arg); raise` - the handler around a point's call, at `at`'s position.

    Discussion: every node is made with its position (`locals_expr(position)` too), not
    located afterwards: walking each new handler again was an eighth of compiling."""
    pos = position_of(at)
    if arg is not None and "lineno" not in arg.__dict__:
        located(arg, at)

    def sup(attr: str) -> ast.Attribute:
        return ast.Attribute(value=ast.Name(id="__swarm_support__", ctx=_LOAD, **pos),
                             attr=attr, ctx=_LOAD, **pos)
    args = [ast.Name(id="__swarm_module__", ctx=_LOAD, **pos),
            ast.Constant(value=point, **pos), locals_expr(pos), arg]
    if point is None:  # on_capture_at(__swarm_module__, locals): the point from the frame
        args = [args[0], args[2]]
    call = ast.Call(func=sup(how), args=args, keywords=[], **pos)
    return ast.ExceptHandler(type=sup("Capture"), name=None,
                             body=[ast.Expr(value=call, **pos), ast.Raise(**pos)], **pos)


def _guarded_call(stmt: ast.stmt, handler: ast.ExceptHandler, at: ast.AST) -> ast.Try:
    """`try: stmt` with `handler`, at `at`'s position."""
    if "lineno" not in stmt.__dict__:
        located(stmt, at)
    return ast.Try(body=[stmt], handlers=[handler], orelse=[], finalbody=[], **position_of(at))


_LOAD = ast.Load()


_VISITS: dict[type, object] = {}  # node class -> PointLowering's method for it


class PointLowering(ast.NodeTransformer):
    """Replace Point markers with their statements (a point whose site is known: the one
    handler of its function finds it) or with their own capture handlers (a site two points
    share, or none), and wrap `for` loops whose `next` point has no site."""

    def __init__(self, locals_expr_factory, done: dict | None = None,
                 ambiguous: frozenset | set = frozenset()) -> None:
        self.locals_expr = locals_expr_factory
        # Discussion: a function and its resumers share most statements; a statement whose
        # subtree was lowered already (in place) is not walked again - only a Point, or a
        # loop to wrap, met in another statement list is replaced there too
        self.done = {} if done is None else done  # id -> node (kept alive: ids stay unique)
        self.ambiguous = ambiguous

    def found(self, node) -> bool:
        """Will the function's one handler find this point from its instruction?"""
        key = getattr(node, "sw_site", None)
        return key is not None and key not in self.ambiguous

    def visit(self, node):
        cls = type(node)
        if cls is Point:
            return self.visit_Point(node)
        if cls is Delegation:
            return self.visit_Delegation(node)
        key = id(node)
        if key in self.done:
            if cls is ast.For and self._wraps(node):
                return self._wrap_for(node)
            return node
        if cls in _NO_BLOCK:  # (no statement list: nothing to lower in it)
            self.done[key] = node
            return node
        method = _VISITS.get(cls)
        if method is None:
            method = _VISITS[cls] = getattr(PointLowering, "visit_" + cls.__name__,
                                            PointLowering.generic_visit)
        result = method(self, node)
        self.done[key] = node
        return result

    def _wraps(self, node: ast.For) -> bool:
        return getattr(node, "sw_next_point", None) is not None and not self.found(node)

    def generic_visit(self, node):
        """Points (and loops to wrap) are statements: only statement lists are walked, in
        place (a function and its resumer share them), not the expressions."""
        for stmts in stmt_lists(node):
            out = []
            for s in stmts:
                r = self.visit(s)
                if isinstance(r, list):
                    out.extend(r)
                elif r is not None:
                    out.append(r)
            stmts[:] = out
        return node

    def visit_FunctionDef(self, node):  # nested functions are lowered on their own
        return node

    visit_ClassDef = visit_Lambda = visit_FunctionDef

    def visit_Point(self, node: Point):
        stmt = node.stmt
        if node.kind == "yield":
            return [located(assign("_sw_y", ast.Constant(node.point)), node), stmt]
        if getattr(node, "sw_resumed", False) or self.found(node):
            return stmt  # a resumer's call of the next record's resumer: found by its form
        if node.kind == "next":
            handler = capture_handler(node.point, self.locals_expr, "on_capture_next",
                                      node.gen, node)
        else:
            handler = capture_handler(node.point, self.locals_expr, "on_capture", node.callee,
                                      node)
        return _guarded_call(stmt, handler, node)

    def visit_Delegation(self, node: Delegation):
        """A `yield from`, native: a capture that comes out of the delegate is reported at
        the `next` point of its spelled-out form, which the resumer re-enters."""
        parked, delegating = node.native
        if self.found(node):
            return [parked, delegating]
        handler = capture_handler(node.point, self.locals_expr, "on_capture_next", node.gen,
                                  node)
        return [parked, _guarded_call(delegating, handler, node)]

    def visit_For(self, node: ast.For):
        self.generic_visit(node)
        if not self._wraps(node):
            return node
        return self._wrap_for(node)

    def _wrap_for(self, node: ast.For):
        point = node.sw_next_point
        handler = capture_handler(point, self.locals_expr, "on_capture_next",
                                  name(node.sw_iter), node)
        wrapper = ast.Try(body=[node], handlers=[handler], orelse=[], finalbody=[])
        wrapper.sw_wraps_for = True
        return located(wrapper, node)

    def visit_Try(self, node: ast.Try):
        # statements are shared by a function and its resumers, so a loop may already sit in
        # its wrapper (lowered with another tree): lower inside it, do not wrap it again
        if getattr(node, "sw_wraps_for", False):
            self.generic_visit(node.body[0])
            return node
        return self.generic_visit(node)


def lower_points(stmts: list[ast.stmt], is_module: bool, facts: ModuleFacts,
                 done: dict | None = None, ambiguous: frozenset | set = frozenset(),
                 handler: bool = False) -> list[ast.stmt]:
    """Lower the Points of `stmts`; `done` (shared by a function and its resumers) holds
    the statements lowered already; `handler`: wrap them in the function's one capture
    handler (`on_capture_at`)."""
    builtin = facts.is_builtin("locals")

    def locals_expr(pos):
        if is_module:
            return ast.Constant(value=None, **pos)
        func = ast.Name(id="locals", ctx=_LOAD, **pos) if builtin else ast.Attribute(
            value=ast.Name(id="__swarm_support__", ctx=_LOAD, **pos), attr="locals", ctx=_LOAD,
            **pos)
        return ast.Call(func=func, args=[], keywords=[], **pos)

    holder = ast.Module(body=stmts, type_ignores=[])
    PointLowering(locals_expr, done, ambiguous).visit(holder)
    if done is not None:
        done.pop(id(holder), None)  # (the holder is new each time)
    body = holder.body
    if not handler:
        return body
    # a docstring and `from __future__` imports stay first (outside the handler's `try`)
    i = 0
    while i < len(body) and (i == 0 and _is_docstring(body[0]) or isinstance(
            body[i], ast.ImportFrom) and body[i].module == "__future__"):
        i += 1
    if i == len(body):
        return body
    at = body[i]
    outer = _guarded_call(body[i], capture_handler(None, locals_expr, "on_capture_at", None,
                                                   at), at)
    outer.body = body[i:]
    return body[:i] + [outer]


def _is_docstring(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) \
        and isinstance(s.value.value, str)
