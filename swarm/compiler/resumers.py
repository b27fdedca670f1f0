"""Pass 5: one resumer function per function, entered through guards.

The resumer of a function takes (cursor, saved locals, point). The runtime binds `point` as
a default argument of a function made for each point from the one code object (resume.py), so
resuming adds no frame. The resumer restores the locals, then runs the function's body with
guards that skip forward to the point: `_sw_p` holds the point still to reach, and is 0 once
it is reached (points are numbered from 1).

- a run of statements that hold no point: `if not _sw_p: <run>` (unguarded after a block's
  last point-holding statement, where `_sw_p` must be 0 again; dropped before the first one at
  the top of the body, which only a resume enters);
- a statement holding points: `if not _sw_p or _sw_p in {its points}: <it, re-entrant>`;
- `if`: `if (_sw_p in {points of the body}) if _sw_p else <test>:` (the test is not evaluated
  again while resuming);
- `while`: the same condition: the interrupted iteration goes on, then the loop;
- `for` (over its iterator in a named local): a `while True:` that takes the next element
  itself - `for <target> in <it>: break`, so the target is assigned as the loop would - unless
  it is resuming inside the body; `break` and `continue` keep their meaning; the `else` clause
  runs after the loop when the iterator was exhausted. Resuming at the loop's own `next` point
  takes the element from the cursor;
- `try`: re-entered as itself. Resuming inside a handler raises the saved exception again at
  the top of the body; while resuming, that handler's type is `BaseException` and the others'
  `()` (nothing), so it is caught where it was, and a bare `raise` still works;
- a `yield from` (native in the function): its loop spelled out as PEP 380 does, entered at
  its `yield` (a generator parked inside the delegation) or its `next` (a capture that came
  out of the delegate);
- the point itself: `_sw_p = 0`, then `x = _sw_f(_sw_k, _sw_a)` with the next frame's resumer
  (a yield point of a generator: `x = yield PRIMED`, where the rebuilt generator is primed and
  waits).

Discussion: the first version made a resumer per point holding the rest of its function, so a
function with n points compiled to O(n^2) statements (a 9 KB benchmark took 1.9 s to compile
into 213x CPython's code). A guard costs one local test per statement run or loop iteration,
and only in a resumed frame; the function itself runs unguarded.

Resumers are module-level functions (no closures): a nested function's free variables are
boxes, restored like any local; `__class__` is restored for `super(__class__, self)`.
"""

from __future__ import annotations

import ast
from typing import Callable

from swarm.compiler.analysis import assign, located, name, position_of, stmt_lists
from swarm.compiler.errors import InternalCompilerError
from swarm.compiler.points import NO_BLOCK as _NO_BLOCK
from swarm.compiler.points import Delegation, FunctionState, Point
from swarm.compiler.restoring import (
    defined_again,
    function_names,
    module_globals,
    restore_at_once,
)

_LOAD, _STORE, _IN, _EQ, _NOT = ast.Load(), ast.Store(), ast.In(), ast.Eq(), ast.Not()
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_NONE: frozenset[int] = frozenset()
P = "_sw_p"  # the point a resumer still has to reach (0: reached, running on)

Reads = Callable[[ast.AST], frozenset]


class ResumerBuilder:
    """Builds the one resumer of a function: its locals restored, its body guarded so that it
    re-enters any of the function's points (docs/continuations.md, Resume)."""

    def __init__(self, fn_node, state: FunctionState, facts) -> None:
        self.fn = fn_node
        self.state = state
        self.facts = facts
        self._points_in: dict[int, frozenset[int]] = {}
        self._empty: dict[int, ast.stmt] = {}  # id -> a statement without points
        self._suffix: dict[int, list[frozenset]] = {}  # id(statement list) -> reads of tails
        self._where: dict[int, dict[int, int]] = {}  # id(statement list) -> point -> index
        self._in_lists: dict[int, frozenset[int]] = {}  # id(statement list) -> its points
        self._loops: dict[int, frozenset] = {}  # id(loop) -> what its next iterations read
        self.yields: list[int] = []  # its yield points (a resume there takes no next record)

    # which points does a statement hold (not counting nested functions)?
    def points_in(self, s: ast.stmt) -> frozenset[int]:
        """Bottom up over the statement lists (points are statements, or a loop's `next`),
        each statement once: walking each one's whole subtree made this quadratic in the
        nesting depth."""
        key = id(s)
        found = self._points_in.get(key)
        if found is None:
            cls = type(s)
            if cls in _NO_BLOCK:  # (most statements: no statement list, no point)
                self._empty[key] = s
                found = self._points_in[key] = _NONE
                return found
            ids: set[int] = set()
            if cls is Point:
                ids.add(s.point)
            elif cls is Delegation:
                for inner in (s.native, s.expansion):
                    for c in inner:
                        ids |= self.points_in(c)
            elif cls not in _SCOPES:
                p = getattr(s, "sw_next_point", None)
                if p is not None:
                    ids.add(p)
                for inner in stmt_lists(s):
                    for c in inner:
                        ids |= self.points_in(c)
            found = self._points_in[key] = frozenset(ids)
            if not ids:
                self._empty[key] = s
        return found

    def without_points(self) -> dict[int, ast.stmt]:
        """id -> statement, for each statement met so far that holds no point."""
        return self._empty

    def _in(self, stmts) -> frozenset[int]:
        found = self._in_lists.get(id(stmts))
        if found is None:
            out: set[int] = set()
            for s in stmts:
                out |= self.points_in(s)
            found = self._in_lists[id(stmts)] = frozenset(out)
        return found

    # the guarded body ---------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], exclusive: bool, top: bool = False) -> list[ast.stmt]:
        """`stmts` made re-entrant. `exclusive`: while resuming, the point is in this block
        (not in a block after it); `top`: the function's body, entered only by a resume."""
        holders = [i for i, s in enumerate(stmts) if self.points_in(s)]
        last = holders[-1] if holders else -1
        out: list[ast.stmt] = []
        runs: set[int] = set()  # the `if not _sw_p: <run>` guards made here
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if self.points_in(s):
                if isinstance(s, Point) and not (exclusive and i == last):
                    guarded = self.guarded_point(s)
                    if out and id(out[-1]) in runs:  # `if not _sw_p: <run>` just before it
                        guarded.body[:0] = out.pop().body
                    out.append(guarded)
                    i += 1
                    continue
                entered = self.stmt(s)
                if exclusive and i == last:
                    out.extend(entered)
                else:
                    test = ast.BoolOp(op=ast.Or(), values=[_not_resuming(),
                                                           _resuming_into(self.points_in(s))])
                    out.append(located(ast.If(test=test, body=entered, orelse=[]), s))
                i += 1
                continue
            j = i
            while j < len(stmts) and not self.points_in(stmts[j]):
                j += 1
            run = stmts[i:j]
            if self.state.is_module:
                run = [defined_again(s) for s in run]
            if top and holders and i < holders[0]:
                pass  # only a resume enters the top: it skips these (a docstring, a __future__)
            elif exclusive and i > last:
                out.extend(run)
            else:
                guard = located(ast.If(test=_not_resuming(), body=run, orelse=[]), s)
                runs.add(id(guard))
                out.append(guard)
            i = j
        return out or [ast.Pass()]

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        """One statement holding points, entered either running (`_sw_p` 0) or resuming at
        one of its points."""
        if isinstance(s, Point):
            return self.point(s)
        if isinstance(s, Delegation):  # resuming: inside its spelled-out loop; else native
            return [located(ast.If(test=name(P), body=self.block(s.expansion, True),
                                   orelse=[s]), s)]
        if isinstance(s, ast.If):
            test = _choose(self._in(s.body), self._in(s.orelse), s.test)
            return [located(ast.If(test=test, body=self.block(s.body, True),
                                   orelse=self._optional(s.orelse)), s)]
        if isinstance(s, ast.While):
            test = _choose(self._in(s.body), self._in(s.orelse), s.test)
            return [located(ast.While(test=test, body=self.block(s.body, True),
                                      orelse=self._optional(s.orelse)), s)]
        if isinstance(s, ast.For):
            return self.for_loop(s)
        if isinstance(s, ast.Try):
            return self.try_(s)
        raise InternalCompilerError(f"cannot resume into {type(s).__name__} at line "
                                    f"{getattr(s, 'lineno', '?')}")

    def _optional(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        return self.block(stmts, True) if stmts else []

    def guarded_point(self, pt: Point) -> ast.stmt:
        """A point not last in its block: `if not _sw_p: <it> elif _sw_p == N: <reached>`.

        Discussion: the general guard `if not _sw_p or _sw_p == N: if _sw_p: <reached>
        else: <it>` tests `_sw_p` once more and spells it out in 17 nodes instead of 10; a
        third of a resumer's guards are around a single point (base64's top level is 60 in
        a row)."""
        reached = self.point(pt)[0]  # `if _sw_p: <reached> else: <it>`
        pos = position_of(pt.stmt)
        reached.test = ast.Compare(left=ast.Name(id=P, ctx=_LOAD, **pos), ops=[_EQ],
                                   comparators=[ast.Constant(value=pt.point, **pos)], **pos)
        running, reached.orelse = reached.orelse, []
        return ast.If(test=ast.UnaryOp(op=_NOT, operand=ast.Name(id=P, ctx=_LOAD, **pos),
                                       **pos),
                      body=running, orelse=[reached], **pos)

    def point(self, pt: Point) -> list[ast.stmt]:
        stmt = pt.stmt
        pos = position_of(stmt)  # every node made with it (locating walked each again)
        if pt.kind == "yield":
            self.yields.append(pt.point)
            resumed = [_with_value(stmt, ast.Yield(value=_support("PRIMED", pos), **pos), pos)]
        else:
            again = Point(stmt=_with_value(stmt, _call_next(pos), pos), **position_of(pt))
            again.point, again.kind, again.gen = pt.point, pt.kind, pt.gen
            again.callee = _support("RESUMED", pos)
            again.sw_resumed = True
            resumed = [again]
        reached = ast.Assign(targets=[ast.Name(id=P, ctx=_STORE, **pos)],
                             value=ast.Constant(value=0, **pos), **pos)
        return [ast.If(test=ast.Name(id=P, ctx=_LOAD, **pos), body=[reached] + resumed,
                       orelse=[pt], **pos)]

    def for_loop(self, s: ast.For) -> list[ast.stmt]:
        """for T in IT: B else: E  (resumable) ==>

            _sw_else = False
            while True:
                if not _sw_p:
                    for T in IT: break          # the next element, as the loop takes it
                    else: _sw_else = True; break
                elif _sw_p == NEXT: <the element from the cursor>   (a `next` point)
                B (guarded)
            if _sw_else [or _sw_p]: E (guarded)
        """
        nxt = getattr(s, "sw_next_point", None)
        in_body, in_else = self._in(s.body), self._in(s.orelse)
        flag = self.facts.resumer_temp("else") if s.orelse else None
        exhausted = ([located(assign(flag, ast.Constant(True)), s)] if flag else []) + \
            [located(ast.Break(), s)]
        out: list[ast.stmt] = []
        if flag:
            out.append(located(assign(flag, ast.Constant(False)), s))
        if getattr(s, "sw_iter", None) is None:  # points only in its else clause
            loop = located(ast.For(target=s.target, iter=s.iter, body=s.body,
                                   orelse=exhausted[:-1], type_comment=None), s)
            out.append(located(ast.If(test=_not_resuming(), body=[loop], orelse=[]), s))
        else:
            step = located(ast.For(target=s.target, iter=name(s.sw_iter),
                                   body=[located(ast.Break(), s)], orelse=exhausted,
                                   type_comment=None), s)
            step.sw_iter, step.sw_next_point = s.sw_iter, nxt
            step.sw_site = getattr(s, "sw_site", None)
            fetch = located(ast.If(test=_not_resuming(), body=[step], orelse=[]), s)
            if nxt is not None:
                from_cursor = self.resumed_next(s, exhausted)
                fetch.orelse = from_cursor if not in_body else [located(ast.If(
                    test=_resuming_into({nxt}), body=from_cursor, orelse=[]), s)]
            loop = located(ast.While(test=ast.Constant(True),
                                     body=[fetch] + self.block(s.body, True), orelse=[]), s)
            if in_else:
                entry = in_body | ({nxt} if nxt is not None else set())
                test = ast.BoolOp(op=ast.Or(), values=[_not_resuming(), _resuming_into(entry)])
                loop = located(ast.If(test=test, body=[loop], orelse=[]), s)
            out.append(loop)
        if flag:
            test = name(flag) if not in_else else ast.BoolOp(op=ast.Or(),
                                                             values=[name(flag), name(P)])
            out.append(located(ast.If(test=test, body=self.block(s.orelse, True), orelse=[]),
                               s))
        return out

    def resumed_next(self, s: ast.For, exhausted: list[ast.stmt]) -> list[ast.stmt]:
        """The loop's element from the cursor: the generator it was advancing, resumed."""
        fetch = Point(stmt=located(ast.Assign(targets=[s.target], value=_call_next({})), s))
        fetch.point, fetch.kind, fetch.gen, fetch.callee = s.sw_next_point, "next", \
            name(s.sw_iter), None
        fetch.sw_resumed = True
        located(fetch, s)
        stop = ast.ExceptHandler(type=name("StopIteration"), name=None, body=exhausted)
        return [located(assign(P, ast.Constant(0)), s),
                located(ast.Try(body=[fetch], handlers=[stop], orelse=[], finalbody=[]), s)]

    def try_(self, s: ast.Try) -> list[ast.stmt]:
        # Discussion: a guard flag may have been set while the capture unwound (at module
        # level that change is kept: globals are read after unwinding); it is False again
        # once the program runs on, so that `finally` and `__exit__` run when they should.
        flag = getattr(s, "sw_flag", None)
        reset = [located(assign(flag, ast.Constant(False)), s)] if flag else []
        in_handler = [(h, self._in(h.body)) for h in s.handlers]
        raises = [located(ast.If(test=_resuming_into(pts), body=[
            located(ast.Raise(exc=name(h.sw_exc_name), cause=None), h)], orelse=[]), h)
            for h, pts in in_handler if pts]
        handlers = []
        for h, pts in in_handler:
            if not raises or _is_passthrough(h):
                handlers.append(h)
                continue
            while_resuming = ast.IfExp(test=_resuming_into(pts), body=name("BaseException"),
                                       orelse=ast.Tuple(elts=[], ctx=ast.Load())) \
                if pts else ast.Tuple(elts=[], ctx=ast.Load())
            kind = ast.IfExp(test=name(P), body=while_resuming,
                             orelse=h.type or name("BaseException"))
            handlers.append(located(ast.ExceptHandler(
                type=kind, name=h.name, body=self.block(h.body, True) if pts else h.body), h))
        in_else = self._in(s.orelse)
        t = ast.Try(body=raises + self.block(s.body, not in_else), handlers=handlers,
                    orelse=self._optional(s.orelse), finalbody=s.finalbody)
        return reset + [located(t, s)]

    # the resumer function -----------------------------------------------------------------
    def build(self, travelling: frozenset = frozenset()) -> ast.FunctionDef:
        """The resumer. `travelling`: the compiler temps live at any of the function's
        points - the only ones a record holds (unwind.on_capture drops the others, but
        boxes and a generator's `_sw_y...`), so the only ones restored."""
        like = self.fn if not self.state.is_module else (self.fn.body[0] if self.fn.body
                                                         else None)
        path = self.block(self.fn.body, True, top=True)
        head: list[ast.stmt] = []
        if self.state.is_module:
            names = sorted(module_globals(self.fn))
            if names:
                head.append(ast.Global(names=names))
        else:
            names, declared, unbindable = function_names(self.fn)
            if declared:
                head.append(ast.Global(names=sorted(declared)))
            if self.state.is_generator:
                names.add("_sw_y")  # the yield it waits at; assigned only when lowered
            names = {n for n in names if not n.startswith("_sw_") or n in travelling
                     or n.startswith(("_sw_box_", "_sw_y"))}
            # Discussion: `if "x" in _sw_L`, not `try: x = _sw_L["x"] except KeyError`: an
            # exception makes CPython materialise the frame object of the resumed frame, and
            # it stays as long as the frame does (14 KiB for a program parked 52 frames deep,
            # docs/nodes.md, Load). A local unbound at the capture stays unbound.
            pos = position_of(self.fn)  # (made with it: locating each walked it again)
            # (a compiler temp travels only from the points where it is live: not these)
            # (`_` is the wildcard of a pattern, which captures nothing: restored by itself)
            bound = {n for n in self._bound_before_points() & names - unbindable
                     if (not n.startswith("_sw_") or n.startswith("_sw_box_")) and n != "_"}
            if len(bound) < 2:  # (one name: its `if` is shorter than a pattern)
                bound = set()
            if bound:
                head.append(restore_at_once(sorted(bound), pos))
            for ident in sorted(names - bound):
                head.append(ast.If(
                    test=ast.Compare(left=ast.Constant(value=ident, **pos), ops=[_IN],
                                     comparators=[ast.Name(id="_sw_L", ctx=_LOAD, **pos)],
                                     **pos),
                    body=[ast.Assign(
                        targets=[ast.Name(id=ident, ctx=_STORE, **pos)],
                        value=ast.Subscript(value=ast.Name(id="_sw_L", ctx=_LOAD, **pos),
                                            slice=ast.Constant(value=ident, **pos),
                                            ctx=_LOAD, **pos), **pos)],
                    orelse=[], **pos))
            # the saved dict is emptied: the restored objects now live only in this frame,
            # and die when the program drops them, as they would have natively
            clear = ast.Call(func=ast.Attribute(value=name("_sw_L"), attr="clear",
                                                ctx=ast.Load()), args=[], keywords=[])
            head.append(ast.Expr(value=clear))
            head.append(ast.Delete(targets=[name("_sw_L", ast.Del())]))
            if self.state.is_generator:
                head.append(ast.If(test=ast.Constant(False),
                                   body=[ast.Expr(value=ast.Yield(value=None))], orelse=[]))
        head += self._next_record()
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg="_sw_k"), ast.arg(arg="_sw_L"),
                                                   ast.arg(arg=P)],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                             defaults=[])
        fn = ast.FunctionDef(name=resumer_name(self.state), args=args, body=head + path,
                             decorator_list=[], returns=None, type_comment=None)
        if like is not None:
            for s in head:
                if "lineno" not in s.__dict__:
                    located(s, like)
            located(fn, like)
        return fn

    def _bound_before_points(self) -> set[str]:
        """The function's parameters, and the names its body binds at its top level before
        the first statement holding a point (boxes, the usual `x = []` at the head):
        bound whenever the function is at one of its points, unless it unbinds them."""
        a = self.fn.args
        bound = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        bound |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        for s in self.fn.body:
            if self.points_in(s):
                break
            cls = type(s)
            if cls is ast.Assign:
                for t in s.targets:
                    if type(t) is ast.Name:
                        bound.add(t.id)
            elif cls is ast.FunctionDef or cls is ast.ClassDef:
                bound.add(s.name)
        return bound

    def _next_record(self) -> list[ast.stmt]:
        """`_sw_r = _sw_p; _sw_f, _sw_a = _sw_k.next()`: the point the resumer was entered
        at (read by the function's one handler if a capture comes through the call of the
        next record, `_sw_f(_sw_k, _sw_a)`) and that record's resumer, taken once here
        rather than at each point (nothing else reads the cursor on the way to the point);
        not when resuming at a yield, where the rebuilt generator waits for a value."""
        take = [assign("_sw_r", name(P)), _next_of_cursor({})]
        if not self.yields:
            return take
        return [ast.If(test=ast.Compare(left=name(P), ops=[ast.NotIn()], comparators=[
            ast.Tuple(elts=[ast.Constant(q) for q in sorted(self.yields)], ctx=_LOAD)]),
            body=take, orelse=[])]

    # what a resumed frame still reads --------------------------------------------------------
    def live_reads(self, p: int, reads: Reads) -> frozenset:
        """The names `reads` finds in what runs after resuming at `p`: the rest of the
        enclosing blocks, and the whole of each enclosing loop (it runs again)."""
        return self._after(self.fn.body, p, reads)

    def _after(self, stmts: list[ast.stmt], p: int, reads: Reads) -> frozenset:
        where = self._where.get(id(stmts))
        if where is None:  # each list scanned once, not once per point (quadratic)
            where = self._where[id(stmts)] = {q: i for i in range(len(stmts) - 1, -1, -1)
                                              for q in self.points_in(stmts[i])}
        i = where.get(p)
        if i is None:
            raise InternalCompilerError(f"point {p} not found")
        return self._entering(stmts[i], p, reads) | self._tail(stmts, i + 1, reads)

    def _tail(self, stmts: list[ast.stmt], i: int, reads: Reads) -> frozenset:
        suffix = self._suffix.get(id(stmts))
        if suffix is None:
            suffix = [frozenset()] * (len(stmts) + 1)
            for k in range(len(stmts) - 1, -1, -1):
                later, here = suffix[k + 1], reads(stmts[k])
                # (a union copies: most statements read nothing new)
                suffix[k] = later | here if here and not here <= later else later
            self._suffix[id(stmts)] = suffix
        return suffix[i]

    def _entering(self, s: ast.stmt, p: int, reads: Reads) -> frozenset:
        if isinstance(s, Point):
            targets = getattr(s.stmt, "targets", ())
            return frozenset().union(*(reads(t) for t in targets))
        if isinstance(s, Delegation):
            return self._after(s.expansion, p, reads)
        if isinstance(s, ast.If):
            return self._after(s.body if p in self._in(s.body) else s.orelse, p, reads)
        if isinstance(s, (ast.While, ast.For)):
            if p == getattr(s, "sw_next_point", None):
                return reads(s)
            if p in self._in(s.body):
                return self._after(s.body, p, reads) | self._again(s, reads)
            return self._after(s.orelse, p, reads)
        if isinstance(s, ast.Try):
            if p in self._in(s.body):
                rest = [reads(h) for h in s.handlers] + [self._tail(s.orelse, 0, reads),
                                                         self._tail(s.finalbody, 0, reads)]
                return self._after(s.body, p, reads).union(*rest)
            for h in s.handlers:
                if p in self._in(h.body):
                    return self._after(h.body, p, reads) | reads(name(h.sw_exc_name))
            return self._after(s.orelse, p, reads) | self._tail(s.finalbody, 0, reads)
        raise InternalCompilerError(f"cannot resume into {type(s).__name__}")


    def _again(self, loop: ast.While | ast.For, reads: Reads) -> frozenset:
        """What the loop's next iterations and its end read: its header, its `else`, and
        what its body reads before writing it.

        Discussion: a temp that a statement at the top of the body assigns is assigned again
        before the next iteration reads it, so its value now is dead: `total =
        sum(r.get())` in a loop holds the value read in a temp, and counting that temp as
        read by the whole loop made every later hop of the iteration carry the value (a
        100 MiB Ref: 118 MB a hop). Only plain assignments and points at the body's top level
        count as writes (they run on every path into the rest of the body); anything read in
        a nested block before such a write stays live."""
        found = self._loops.get(id(loop))
        if found is None:
            found = self._loops[id(loop)] = self._again_uncached(loop, reads)
        return found

    def _again_uncached(self, loop: ast.While | ast.For, reads: Reads) -> frozenset:
        if isinstance(loop, ast.While):
            out = set(reads(loop.test))
        else:
            out = set(reads(loop.iter) | reads(loop.target))
        out |= self._tail(loop.orelse, 0, reads)
        # (a `for` assigns its target before each run of its body)
        written: set[str] = {loop.target.id} if isinstance(loop, ast.For) and isinstance(
            loop.target, ast.Name) else set()
        for stmt in loop.body:
            out |= reads(stmt) - written
            assigned = stmt.stmt if isinstance(stmt, Point) else stmt
            if isinstance(assigned, ast.Assign):
                written.update(t.id for t in assigned.targets if isinstance(t, ast.Name))
        return frozenset(out)


def resumer_name(state: FunctionState) -> str:
    """The resumer's name until pipeline._fix_names gives it its function's."""
    return f"_sw_resume_{state.points[0]}"


def _not_resuming() -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=name(P))


def _resuming_into(points) -> ast.expr:
    """`_sw_p == q`, or `_sw_p in (q, ...)`.

    Discussion: a tuple, not a set: CPython would fold a set display into a frozenset
    constant, and a frozenset's order changes through marshal (diskcache.py keeps no module
    whose frozensets do). The scan only runs while a resume skips forward: once the point is
    reached `not _sw_p` decides first."""
    ordered = sorted(points)
    if len(ordered) == 1:
        return ast.Compare(left=name(P), ops=[ast.Eq()], comparators=[ast.Constant(ordered[0])])
    return ast.Compare(left=name(P), ops=[ast.In()],
                       comparators=[ast.Tuple(elts=[ast.Constant(q) for q in ordered],
                                              ctx=ast.Load())])


def _choose(in_body, in_else, test: ast.expr) -> ast.expr:
    """The test of an `if`/`while` that picks, while resuming, the branch holding the point."""
    if not in_else:
        return ast.BoolOp(op=ast.Or(), values=[name(P), test])
    if not in_body:
        return ast.BoolOp(op=ast.And(), values=[_not_resuming(), test])
    return ast.IfExp(test=name(P), body=_resuming_into(in_body), orelse=test)


def _is_passthrough(h: ast.ExceptHandler) -> bool:
    """lower.guard_trys's `except Capture: raise`, first of a guarded try's handlers."""
    return isinstance(h.type, ast.Attribute) and h.type.attr == "Capture" and h.name is None


def _with_value(stmt: ast.stmt, value: ast.expr, pos: dict) -> ast.stmt:
    if isinstance(stmt, ast.Assign):
        return ast.Assign(targets=stmt.targets, value=value, **pos)
    return ast.Expr(value=value, **pos)


def _support(attr: str, pos: dict) -> ast.Attribute:
    return ast.Attribute(value=ast.Name(id="__swarm_support__", ctx=_LOAD, **pos), attr=attr,
                         ctx=_LOAD, **pos)


def _next_of_cursor(pos: dict) -> ast.Assign:
    """_sw_f, _sw_a = _sw_k.next()"""
    return ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id="_sw_f", ctx=_STORE, **pos),
                                               ast.Name(id="_sw_a", ctx=_STORE, **pos)],
                                         ctx=_STORE, **pos)],
                      value=ast.Call(func=ast.Attribute(value=ast.Name(id="_sw_k", ctx=_LOAD,
                                                                       **pos),
                                                        attr="next", ctx=_LOAD, **pos),
                                     args=[], keywords=[], **pos), **pos)


def _call_next(pos: dict) -> ast.Call:
    """_sw_f(_sw_k, _sw_a): the next frame's resumer, called directly (no extra frame)"""
    return ast.Call(func=ast.Name(id="_sw_f", ctx=_LOAD, **pos),
                    args=[ast.Name(id="_sw_k", ctx=_LOAD, **pos),
                          ast.Name(id="_sw_a", ctx=_LOAD, **pos)], keywords=[], **pos)
