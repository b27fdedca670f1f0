"""Pass 5: one resumer function per suspension point.

The resumer of point p takes (cursor, saved locals). It restores the locals, then runs the
function's body specialised to re-enter p: of each statement list only the statement holding
p and those after it remain, and each compound statement on the way is re-entered -
- `if`: only the branch holding p (the test is not evaluated again);
- `while`/`for`: a one-shot loop finishes the interrupted iteration (so `break` and `continue`
  keep their meaning), and its `else` clause continues the original loop - a `for` from its
  saved iterator;
- `try`: the same handlers around the resumed body; inside a handler, the saved exception is
  raised again and caught by a handler that holds the resumed handler body;
- the point itself: `x = __swarm_support__.resume_next(_sw_k)` (a yield point of a generator:
  `x = yield PRIMED`, where the rebuilt generator is primed and waits).
Resumers are module-level functions (no closures): a nested function's free variables are
boxes, restored like any local; `__class__` is restored for `super(__class__, self)`.
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import assign, located, name, support
from swarm.compiler.errors import InternalCompilerError
from swarm.compiler.points import FunctionState, Point, bound_names, walk_no_scopes


class ResumerBuilder:
    """Builds the resumer of each point of one function: its locals restored, its body
    specialised to re-enter that point (docs/continuations.md, Resume)."""

    def __init__(self, fn_node, state: FunctionState, facts) -> None:
        self.fn = fn_node
        self.state = state
        self.facts = facts
        self._points_in: dict[int, frozenset[int]] = {}
        self._names: tuple | None = None  # (globals declared, locals): the same for each point

    # which points does a statement hold (not counting nested functions)?
    def points_in(self, s: ast.stmt) -> frozenset[int]:
        key = id(s)
        found = self._points_in.get(key)
        if found is None:
            ids = set()
            for node in walk_no_scopes([s]):
                if isinstance(node, Point):
                    ids.add(node.point)
                p = getattr(node, "sw_next_point", None)
                if p is not None:
                    ids.add(p)
            found = self._points_in[key] = frozenset(ids)
        return found

    def block(self, stmts: list[ast.stmt], p: int) -> list[ast.stmt]:
        for i, s in enumerate(stmts):
            if p in self.points_in(s):
                return self.stmt(s, p) + stmts[i + 1:]
        raise InternalCompilerError(f"point {p} not found")

    def stmt(self, s: ast.stmt, p: int) -> list[ast.stmt]:
        if isinstance(s, Point):
            return self.resumed_point(s)
        if isinstance(s, ast.If):
            return self.block(s.body if p in self._in(s.body) else s.orelse, p)
        if isinstance(s, ast.While):
            if p in self._in(s.body):
                return [self.once(self.block(s.body, p), [s], s)]
            return self.block(s.orelse, p)
        if isinstance(s, ast.For):
            if p == getattr(s, "sw_next_point", None):
                return self.resumed_for_next(s)
            if p in self._in(s.body):
                return [self.once(self.block(s.body, p), [s], s)]
            return self.block(s.orelse, p)
        if isinstance(s, ast.Try):
            # Discussion: a guard flag may have been set while the capture unwound (at module
            # level that change is kept: globals are read after unwinding); it is False again
            # once the program runs on, so that `finally` and `__exit__` run when they should.
            flag = getattr(s, "sw_flag", None)
            reset = [located(assign(flag, ast.Constant(False)), s)] if flag else []
            if p in self._in(s.body):
                t = ast.Try(body=self.block(s.body, p), handlers=s.handlers, orelse=s.orelse,
                            finalbody=s.finalbody)
                return reset + [located(t, s)]
            for h in s.handlers:
                if p in self._in(h.body):
                    return [self.reenter_handler(h, p)]
            return self.block(s.orelse, p)
        raise InternalCompilerError(f"cannot resume into {type(s).__name__} at line "
                                    f"{getattr(s, 'lineno', '?')}")

    def _in(self, stmts) -> frozenset[int]:
        out: set[int] = set()
        for s in stmts:
            out |= self.points_in(s)
        return frozenset(out)

    def once(self, body: list[ast.stmt], then: list[ast.stmt], like) -> ast.For:
        """for _ in ONCE: <rest of the interrupted iteration>  else: <the loop, continued>"""
        return located(ast.For(target=name("_sw_once", ast.Store()), iter=support("ONCE"),
                               body=body, orelse=then, type_comment=None), like)

    def resumed_point(self, pt: Point) -> list[ast.stmt]:
        stmt = pt.stmt
        fetch = []
        if pt.kind == "yield":
            value = ast.Yield(value=support("PRIMED"))
        else:
            fetch = [located(_next_of_cursor(), stmt)]
            value = _call_next()
        if isinstance(stmt, ast.Assign):
            new = ast.Assign(targets=stmt.targets, value=value)
        else:
            new = ast.Expr(value=value)
        located(new, stmt)
        if pt.kind == "yield":
            return [new]
        resumed = Point(stmt=new)
        resumed.point, resumed.kind, resumed.gen = pt.point, pt.kind, pt.gen
        resumed.callee = support("RESUMED")
        return fetch + [located(resumed, pt)]

    def resumed_for_next(self, s: ast.For) -> list[ast.stmt]:
        stop = self.facts.temp("stop")
        fetch = Point(stmt=located(ast.Assign(targets=[s.target], value=_call_next()), s))
        fetch.point, fetch.kind, fetch.gen, fetch.callee = s.sw_next_point, "next", \
            name(s.sw_iter), None
        located(fetch, s)
        stop_handler = ast.ExceptHandler(type=name("StopIteration"), name=None,
                                         body=[assign(stop, ast.Constant(True))])
        return [located(assign(stop, ast.Constant(False)), s),
                located(ast.Try(body=[located(_next_of_cursor(), s), fetch],
                                handlers=[stop_handler], orelse=[],
                                finalbody=[]), s),
                located(ast.If(test=name(stop), body=s.orelse or [ast.Pass()],
                               orelse=[self.once(s.body, [s], s)]), s)]

    def reenter_handler(self, h: ast.ExceptHandler, p: int) -> ast.Try:
        handler = ast.ExceptHandler(type=name("BaseException"), name=h.name,
                                    body=self.block(h.body, p))
        return located(ast.Try(body=[located(ast.Raise(exc=name(h.sw_exc_name), cause=None), h)],
                               handlers=[located(handler, h)], orelse=[], finalbody=[]), h)

    # the resumer function -------------------------------------------------------------------
    def build(self, p: int) -> ast.FunctionDef:
        like = self.fn if not self.state.is_module else (self.fn.body[0] if self.fn.body
                                                         else None)
        path = self.block(self.fn.body, p)
        head: list[ast.stmt] = []
        if self._names is None:  # computed once per function, not once per point
            if self.state.is_module:
                self._names = (sorted(module_globals(self.fn)), set())
            else:
                self._names = (sorted(_declared_globals(self.fn)), function_locals(self.fn))
        if self.state.is_module:
            names = self._names[0]
            if names:
                head.append(ast.Global(names=names))
        else:
            declared = self._names[0]
            if declared:
                head.append(ast.Global(names=declared))
            names = set(self._names[1])
            if self.state.is_generator:
                names.add("_sw_y")  # the yield it waits at; assigned only when lowered
            # Discussion: `if "x" in _sw_L`, not `try: x = _sw_L["x"] except KeyError`: an
            # exception makes CPython materialise the frame object of the resumed frame, and
            # it stays as long as the frame does (14 KiB for a program parked 52 frames deep,
            # docs/nodes.md, Load). A local unbound at the capture stays unbound.
            for ident in sorted(names):
                head.append(ast.If(
                    test=ast.Compare(left=ast.Constant(ident), ops=[ast.In()],
                                     comparators=[name("_sw_L")]),
                    body=[ast.Assign(targets=[name(ident, ast.Store())],
                                     value=ast.Subscript(value=name("_sw_L"),
                                                         slice=ast.Constant(ident),
                                                         ctx=ast.Load()))],
                    orelse=[]))
            # the saved dict is emptied: the restored objects now live only in this frame,
            # and die when the program drops them, as they would have natively
            clear = ast.Call(func=ast.Attribute(value=name("_sw_L"), attr="clear",
                                                ctx=ast.Load()), args=[], keywords=[])
            head.append(ast.Expr(value=clear))
            head.append(ast.Delete(targets=[name("_sw_L", ast.Del())]))
            if self.state.is_generator:
                head.append(ast.If(test=ast.Constant(False),
                                   body=[ast.Expr(value=ast.Yield(value=None))], orelse=[]))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg="_sw_k"), ast.arg(arg="_sw_L")],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                             defaults=[])
        fn = ast.FunctionDef(name=f"_sw_resume_{p}", args=args, body=head + path,
                             decorator_list=[], returns=None, type_comment=None)
        if like is not None:
            for s in head:
                located(s, like)
            located(fn, like)
        return fn


def _next_of_cursor() -> ast.Assign:
    """_sw_f, _sw_a = _sw_k.next()"""
    return ast.Assign(targets=[ast.Tuple(elts=[name("_sw_f", ast.Store()),
                                               name("_sw_a", ast.Store())], ctx=ast.Store())],
                      value=ast.Call(func=ast.Attribute(value=name("_sw_k"), attr="next",
                                                        ctx=ast.Load()), args=[], keywords=[]))


def _call_next() -> ast.Call:
    """_sw_f(_sw_k, _sw_a): the next frame's resumer, called directly (no extra frame)"""
    return ast.Call(func=name("_sw_f"), args=[name("_sw_k"), name("_sw_a")], keywords=[])


def function_locals(fn: ast.FunctionDef) -> set[str]:
    """The local names of a function: its parameters and what it binds, less its
    globals."""
    a = fn.args
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    declared = _declared_globals(fn)
    for node in walk_no_scopes(fn.body):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif node.id.startswith("_sw_box_") or node.id == "__class__":
                names.add(node.id)  # free variables: boxes, and __class__ for super()
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(x.asname or x.name).split(".")[0] for x in node.names if x.name != "*"}
    for node in ast.walk(fn):  # a nested function's free boxes pass through this frame
        if isinstance(node, ast.Name) and node.id.startswith("_sw_box_"):
            names.add(node.id)
    names -= {"_sw_k", "_sw_L", "_sw_f", "_sw_a"}
    return names - declared


def _declared_globals(fn) -> set[str]:
    out: set[str] = set()
    for node in walk_no_scopes(fn.body):
        if isinstance(node, ast.Global):
            out |= set(node.names)
    return out


def module_globals(tree: ast.Module) -> set[str]:
    """The names a module's top level binds."""
    return bound_names(tree.body)[0]
