"""A-normal form of compound statements: loops, try, with, match (a mixin of Linearizer).

- `with` whose body may suspend -> explicit `__enter__`, a try whose `finally` calls
  `__exit__` unless a Capture is unwinding (Discussion: a capture is not an exit - the
  program continues elsewhere, so the resource must stay entered);
- `try ... finally` whose finally block may suspend -> the finally block is copied into an
  `except BaseException: F; raise` handler and an `else: F` branch, so that resuming inside
  it knows whether an exception is pending;
- `for` loops keep their iterator in a named local (`_sw_it3`), which pickles at its position;
- `while` loops whose condition may suspend test it inside the loop.
"""

from __future__ import annotations

import ast
import copy

from swarm.compiler.analysis import assign, located, name, support
from swarm.compiler.errors import error_at
from swarm.compiler.points import BUILTIN_ITERS, contains_point, walk_no_scopes


class CompoundStatements:
    """The Linearizer's rules for compound statements (while, for, if, try, with...): the
    calls that may suspend in their tests and headers become points of their own."""

    def stmt_While(self, s):
        pre, test = self.expr(s.test)
        body = self.block(s.body)
        orelse = self.block(s.orelse)
        if not pre:
            s.test, s.body, s.orelse = test, body, orelse
            return [s]
        out: list[ast.stmt] = []
        flag = None
        exit_body: list[ast.stmt] = [located(ast.Break(), s)]
        if orelse:
            flag = self.temp("else")
            out.append(located(assign(flag, ast.Constant(False)), s))
            exit_body.insert(0, located(assign(flag, ast.Constant(True)), s))
        check = located(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test), body=exit_body,
                               orelse=[]), s)
        out.append(located(ast.While(test=ast.Constant(True), body=pre + [check] + body,
                                     orelse=[]), s))
        if flag:
            out.append(located(ast.If(test=name(flag), body=orelse, orelse=[]), s))
        return out

    def stmt_For(self, s):
        pre, it = self.expr(s.iter)
        tpre, target = self.target(s.target)
        if tpre:
            raise error_at(s, "a `for` target containing calls is not supported", self.filename)
        body = self.block(s.body)
        orelse = self.block(s.orelse)
        s.target, s.body, s.orelse = target, body, orelse
        wants_next = self._wants_next(it)
        if not wants_next and not contains_point(body):
            s.iter = it
            return pre + [s]
        holder = self.temp("it", f"the iterator of the `for` loop at line {s.lineno}")
        make_iter = ast.Call(func=name("iter") if self.facts.is_builtin("iter") else support("iter"),
                             args=[it], keywords=[])
        make_iter.sw_safe = True
        s.iter = located(name(holder), s.iter)
        s.sw_iter = holder
        s.sw_next_point = self.new_point(s) if wants_next else None
        if wants_next:
            self.fn.captures = True
            self.point_gens[s.sw_next_point] = (holder,)
            s.sw_site = self.site("f", s, s.sw_next_point)
        out = pre + [located(assign(holder, make_iter), s), s]
        if self.fn.is_module:  # the holder is a global: let go of the iterator once the loop
            # is left (a `break` leaves it half used; it must not travel with later hops, and
            # a dict's iterator does not even pickle once the dict changed size)
            out.append(located(assign(holder, ast.Constant(None)), s))
        return out

    def _wants_next(self, it: ast.expr) -> bool:
        """Could a `for` over `it` be advancing a user generator (a point at its `next`)?"""
        return not (
            getattr(it, "sw_fresh", False)
            or isinstance(it, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant, ast.ListComp,
                            ast.SetComp, ast.DictComp, ast.JoinedStr))
            or (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id in BUILTIN_ITERS and self.facts.is_builtin(it.func.id)))

    def _may_hold_points(self, stmts: list[ast.stmt]) -> bool:
        for node in walk_no_scopes(stmts):
            if isinstance(node, ast.Call) and self.facts.may_suspend(node):
                return True
            if isinstance(node, (ast.Yield, ast.YieldFrom)):
                return True
            if isinstance(node, ast.For) and self._wants_next(node.iter):
                return True
        return False

    def stmt_Try(self, s):
        self.fn.has_try = True
        if s.finalbody and self._may_hold_points(s.finalbody):
            return self.block(self._split_finally(s))
        s.body = self.block(s.body)
        for h in s.handlers:
            h.body = self.block(h.body)
        s.orelse = self.block(s.orelse)
        s.finalbody = self.block(s.finalbody)
        return [s]

    def _split_finally(self, s: ast.Try) -> list[ast.stmt]:
        """try: B [except/else] finally: F  (F may suspend)  ==>

            _sw_jump = 0
            try:
                for _sw_once in ONCE:          # only if B returns/breaks/continues
                    try: B except.. else..     # return v -> _sw_ret = v; _sw_jump = 1; break
            except BaseException as e: F; raise
            else:
                F
                if _sw_jump == 1: return _sw_ret   (2: break, 3: continue)

        Two copies of F, so that resuming inside one knows whether an exception is pending.
        """
        jump, ret = self.temp("jump"), self.temp("ret")
        kinds: set[int] = set()
        parts = [s.body, s.orelse] + [h.body for h in s.handlers]
        for part in parts:
            part[:] = _rewrite_jumps(part, jump, ret, kinds, in_loop=False)
        inner = s.body
        if s.handlers:
            inner = [located(ast.Try(body=s.body, handlers=s.handlers, orelse=s.orelse,
                                     finalbody=[]), s)]
        if kinds:
            inner = [located(ast.For(target=name("_sw_once", ast.Store()), iter=support("ONCE"),
                                     body=inner, orelse=[], type_comment=None), s)]
        exc = self.temp("fexc")
        handler = ast.ExceptHandler(type=name("BaseException"), name=exc,
                                    body=copy.deepcopy(s.finalbody) + [ast.Raise()])
        located(handler, s)
        dispatch = []
        for kind, stmt in ((1, ast.Return(value=name(ret))), (2, ast.Break()),
                           (3, ast.Continue())):
            if kind in kinds:
                test = ast.Compare(left=name(jump), ops=[ast.Eq()],
                                   comparators=[ast.Constant(kind)])
                dispatch.append(located(ast.If(test=test, body=[stmt], orelse=[]), s))
        out = [located(assign(jump, ast.Constant(0)), s)] if kinds else []
        out.append(located(ast.Try(body=inner, handlers=[handler],
                                   orelse=s.finalbody + dispatch, finalbody=[]), s))
        return out

    def stmt_With(self, s):
        if not self._may_hold_points(s.body) and \
                not any(self.facts.has_suspending_call(i.context_expr) for i in s.items):
            s.body = self.block(s.body)
            return [s]
        self.fn.has_try = True  # (spelled out with a try)
        item, rest = s.items[0], s.items[1:]
        body = [located(ast.With(items=rest, body=s.body, type_comment=None), s)] if rest \
            else s.body
        out: list[ast.stmt] = []
        pre, ctx = self.expr(item.context_expr)
        mgr = self.temp("mgr", f"the context manager of the `with` at line {s.lineno}")
        out += pre + [located(assign(mgr, ctx), s)]
        # Discussion: at the `with` keyword, not the statement's span: a point is found by
        # its call's end (anf.Linearizer.site), and the statement ends where its last call
        # does (two points at one position each need a handler of their own)
        keyword = ast.Pass(lineno=s.lineno, col_offset=s.col_offset, end_lineno=s.lineno,
                           end_col_offset=s.col_offset + 4)
        enter = located(ast.Call(func=ast.Attribute(value=name(mgr), attr="__enter__",
                                                    ctx=ast.Load()), args=[], keywords=[]),
                        keyword)
        if item.optional_vars is not None:
            out += self.stmt(located(ast.Assign(targets=[item.optional_vars], value=enter), s))
        else:
            out += self.stmt(located(ast.Expr(value=enter), s))
        flag = self.temp("wexit")
        exc = self.temp("wexc")

        # Discussion: `__exit__` is no point, yet a capture may come out of it (an atomic
        # block's retry): at a position no call can end at (the `with` keyword's start), so
        # that the function's one handler does not take it for the body's last point, whose
        # call ends where the statement does
        start = ast.Pass(lineno=s.lineno, col_offset=s.col_offset, end_lineno=s.lineno,
                         end_col_offset=s.col_offset)

        def exit_call(*args):
            call = ast.Call(func=ast.Attribute(value=name(mgr), attr="__exit__", ctx=ast.Load()),
                            args=list(args), keywords=[])
            call.sw_safe = True
            return located(call, start)

        # Discussion: once the manager has exited, its holder lets go of it (a closed file
        # kept there would stop every later hop of a loop around the `with`); while a capture
        # unwinds it stays, entered: the program goes on with it elsewhere
        let_go = located(assign(mgr, ast.Constant(None)), s)
        set_flag = located(assign(flag, ast.Constant(True)), s)
        on_exc = [set_flag, ast.If(test=ast.UnaryOp(op=ast.Not(), operand=exit_call(
            ast.Attribute(value=name(exc), attr="__class__", ctx=ast.Load()), name(exc),
            ast.Attribute(value=name(exc), attr="__traceback__", ctx=ast.Load()))),
            body=[ast.Raise()], orelse=[copy.copy(let_go)])]
        try_ = ast.Try(
            body=self.block(body),
            handlers=[ast.ExceptHandler(type=support("Capture"), name=None,
                                        body=[copy.copy(set_flag), ast.Raise()]),
                      ast.ExceptHandler(type=name("BaseException"), name=exc, body=on_exc)],
            orelse=[],
            finalbody=[ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(flag)),
                              body=[ast.Expr(value=exit_call(*[ast.Constant(None)] * 3)),
                                    let_go],
                              orelse=[])])
        try_.sw_guarded = True
        try_.sw_flag = flag
        out.append(located(assign(flag, ast.Constant(False)), s))
        out.append(located(try_, s))
        return out

    def stmt_Match(self, s):
        pre, s.subject = self.expr(s.subject)
        for case in s.cases:
            if case.guard is not None and self.facts.has_suspending_call(case.guard):
                raise error_at(case.guard, "a `match` guard that may suspend is not supported",
                               self.filename)
            case.body = self.block(case.body)
            if contains_point(case.body):
                raise error_at(s, "a suspension inside a `match` case is not supported yet; "
                               "use if/elif", self.filename)
        return pre + [s]


def _rewrite_jumps(stmts, jump: str, ret: str, kinds: set, in_loop: bool) -> list[ast.stmt]:
    """Replace jumps out of a try block by `_sw_jump = k; break` (see _split_finally)."""
    out: list[ast.stmt] = []
    for st in stmts:
        if isinstance(st, ast.Return):
            kinds.add(1)
            value = st.value if st.value is not None else ast.Constant(None)
            out += [located(assign(ret, value), st), located(assign(jump, ast.Constant(1)), st),
                    located(ast.Break(), st)]
            continue
        if isinstance(st, (ast.Break, ast.Continue)) and not in_loop:
            kind = 2 if isinstance(st, ast.Break) else 3
            kinds.add(kind)
            out += [located(assign(jump, ast.Constant(kind)), st), located(ast.Break(), st)]
            continue
        if isinstance(st, (ast.FunctionDef, ast.ClassDef)):
            out.append(st)
            continue
        loop = isinstance(st, (ast.For, ast.While))
        returns = loop and _returns_in(st.body)
        for field in ("body", "orelse", "finalbody"):
            value = getattr(st, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                nested = in_loop or (loop and field == "body")
                setattr(st, field, _rewrite_jumps(value, jump, ret, kinds, nested))
        for h in getattr(st, "handlers", ()):
            h.body = _rewrite_jumps(h.body, jump, ret, kinds, in_loop)
        for case in getattr(st, "cases", ()):
            case.body = _rewrite_jumps(case.body, jump, ret, kinds, in_loop)
        out.append(st)
        if returns:  # its `break` left only this loop: leave the next one out too
            test = ast.Compare(left=name(jump), ops=[ast.Eq()], comparators=[ast.Constant(1)])
            out.append(located(ast.If(test=test, body=[ast.Break()], orelse=[]), st))
    return out


def _returns_in(stmts: list[ast.stmt]) -> bool:
    """Does a `return` of this function stand among these statements (not in a nested
    function or class)?"""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False
