"""Pass 3: A-normal form. Every call that may suspend becomes a statement of its own.

The result of a call that may suspend goes to a temporary (`_sw_t12 = f(x)`), wrapped in a
`Point` marker node carrying a module-wide point id; operands evaluated before it are hoisted
into temporaries first, so evaluation order (and every side effect) stays where it was.
Short-circuit operators, conditional expressions and chained comparisons become `if`s.

This pass also desugars the statements whose hidden control flow would hide a point:
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

from swarm.compiler.analysis import ModuleFacts, assign, located, name, rt
from swarm.compiler.errors import CompileError, error_at
from swarm.compiler.registry import PointInfo

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


class FunctionState:
    def __init__(self, qualname: str, is_module: bool, is_generator: bool) -> None:
        self.qualname = qualname
        self.is_module = is_module
        self.is_generator = is_generator
        self.points: list[int] = []
        self.locals: set[str] = set()


class Linearizer:
    def __init__(self, facts: ModuleFacts, filename: str, points: dict[int, PointInfo],
                 temp_names: dict[str, str], counter) -> None:
        self.facts = facts
        self.filename = filename
        self.point_info = points
        self.temp_names = temp_names
        self.counter = counter
        self.fn: FunctionState | None = None
        self.functions: list[tuple[ast.AST, FunctionState]] = []

    # ---- bookkeeping ---------------------------------------------------------------------
    def new_point(self, node: ast.AST) -> int:
        point = next(self.counter)
        self.fn.points.append(point)
        self.point_info[point] = PointInfo(self.fn.qualname, self.filename,
                                           getattr(node, "lineno", 0),
                                           getattr(node, "col_offset", 0) + 1)
        return point

    def temp(self, hint: str, what: str | None = None) -> str:
        t = self.facts.temp(hint)
        if what:
            self.temp_names[t] = what
        return t

    def point(self, stmt: ast.stmt, like: ast.AST, kind: str, callee=None, gen=None) -> Point:
        node = Point(stmt=located(stmt, like))
        node.point = self.new_point(like)
        node.kind = kind
        node.callee = callee
        node.gen = gen
        return located(node, like)

    def stable(self, e: ast.expr) -> bool:
        """Can `e` be evaluated later without a different result? (constants, plain locals)"""
        if isinstance(e, ast.Constant):
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
            state.locals |= _assigned_locals(node)
        node.body = self.block(node.body)
        node.sw_state = state
        self.functions.append((node, state))
        self.fn = saved

    def function_def(self, node: ast.FunctionDef) -> None:
        prefix = "" if self.fn.is_module else self.fn.qualname + ".<locals>."
        cls = getattr(node, "sw_class_qualname", None)
        qualname = (cls + "." if cls else prefix) + node.name
        node.sw_qualname = qualname
        self._function(node, FunctionState(qualname, False, _is_generator(node)))

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
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise error_at(s, f"statement {type(s).__name__} is not supported by the "
                           "continuation compiler", self.filename)
        return method(s)

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
        if not wants_next and not _contains_point(body):
            s.iter = it
            return pre + [s]
        holder = self.temp("it", f"the iterator of the `for` loop at line {s.lineno}")
        make_iter = ast.Call(func=name("iter") if self.facts.is_builtin("iter") else rt("iter"),
                             args=[it], keywords=[])
        make_iter.sw_safe = True
        s.iter = name(holder)
        s.sw_iter = holder
        s.sw_next_point = self.new_point(s) if wants_next else None
        out = pre + [located(assign(holder, make_iter), s), s]
        if self.fn.is_module:  # the holder is a global: let go of the iterator once the loop
            # is left (a `break` leaves it half used; it must not travel with later hops, and
            # a dict's iterator does not even pickle once the dict changed size)
            out.append(located(assign(holder, ast.Constant(None)), s))
        return out

    def _wants_next(self, it: ast.expr) -> bool:
        """Could a `for` over `it` be advancing a user generator (a point at its `next`)?"""
        return not (
            isinstance(it, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant, ast.ListComp,
                            ast.SetComp, ast.DictComp, ast.JoinedStr))
            or (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id in BUILTIN_ITERS and self.facts.is_builtin(it.func.id)))

    def _may_hold_points(self, stmts: list[ast.stmt]) -> bool:
        for node in _walk_no_scopes(stmts):
            if isinstance(node, ast.Call) and self.facts.may_suspend(node):
                return True
            if isinstance(node, (ast.Yield, ast.YieldFrom)):
                return True
            if isinstance(node, ast.For) and self._wants_next(node.iter):
                return True
        return False

    def stmt_Try(self, s):
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
            inner = [located(ast.For(target=name("_sw_once", ast.Store()), iter=rt("ONCE"),
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
        item, rest = s.items[0], s.items[1:]
        body = [located(ast.With(items=rest, body=s.body, type_comment=None), s)] if rest \
            else s.body
        out: list[ast.stmt] = []
        pre, ctx = self.expr(item.context_expr)
        mgr = self.temp("mgr", f"the context manager of the `with` at line {s.lineno}")
        out += pre + [located(assign(mgr, ctx), s)]
        enter = located(ast.Call(func=ast.Attribute(value=name(mgr), attr="__enter__",
                                                    ctx=ast.Load()), args=[], keywords=[]), s)
        if item.optional_vars is not None:
            out += self.stmt(located(ast.Assign(targets=[item.optional_vars], value=enter), s))
        else:
            out += self.stmt(located(ast.Expr(value=enter), s))
        flag = self.temp("wexit")
        exc = self.temp("wexc")

        def exit_call(*args):
            call = ast.Call(func=ast.Attribute(value=name(mgr), attr="__exit__", ctx=ast.Load()),
                            args=list(args), keywords=[])
            call.sw_safe = True
            return call

        set_flag = located(assign(flag, ast.Constant(True)), s)
        on_exc = [set_flag, ast.If(test=ast.UnaryOp(op=ast.Not(), operand=exit_call(
            ast.Attribute(value=name(exc), attr="__class__", ctx=ast.Load()), name(exc),
            ast.Attribute(value=name(exc), attr="__traceback__", ctx=ast.Load()))),
            body=[ast.Raise()], orelse=[])]
        try_ = ast.Try(
            body=self.block(body),
            handlers=[ast.ExceptHandler(type=rt("Capture"), name=None,
                                        body=[copy.copy(set_flag), ast.Raise()]),
                      ast.ExceptHandler(type=name("BaseException"), name=exc, body=on_exc)],
            orelse=[],
            finalbody=[ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(flag)),
                              body=[ast.Expr(value=exit_call(*[ast.Constant(None)] * 3))],
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
            if _contains_point(case.body):
                raise error_at(s, "a suspension inside a `match` case is not supported yet; "
                               "use if/elif", self.filename)
        return pre + [s]

    # ---- assignment targets --------------------------------------------------------------
    def target(self, t: ast.expr):
        if isinstance(t, ast.Name):
            return [], t
        if isinstance(t, ast.Attribute):
            pre, (v,) = self.children([t.value])
            t.value = v
            return pre, t
        if isinstance(t, ast.Subscript):
            pre, (v, sl) = self.children([t.value, t.slice])
            t.value, t.slice = v, sl
            return pre, t
        if isinstance(t, (ast.Tuple, ast.List)):
            pre: list[ast.stmt] = []
            elts = []
            for e in t.elts:
                p, e2 = self.target(e)
                pre += p
                elts.append(e2)
            t.elts = elts
            return pre, t
        if isinstance(t, ast.Starred):
            pre, v = self.target(t.value)
            t.value = v
            return pre, t
        raise error_at(t, f"unsupported assignment target {type(t).__name__}", self.filename)

    # ---- expressions ---------------------------------------------------------------------
    def children(self, exprs: list):
        """Linearize operands evaluated left to right; hoist an operand into a temp when a
        later operand has a prelude (it runs first now) and the operand is not stable."""
        results = [self.expr(e) if e is not None else ([], None) for e in exprs]
        last = max((i for i, (p, _) in enumerate(results) if p), default=-1)
        pre: list[ast.stmt] = []
        out = []
        # Discussion: a plain local is "stable" - unless a later operand's prelude rebinds it
        # (`f(x, (x := g()))`: the walrus now runs before the call reads x, so x is hoisted)
        rebound: set[str] = set()
        for p, _ in results[1:last + 1]:
            rebound |= _stored_names(p)
        for i, (p, e) in enumerate(results):
            pre += p
            if i < last and e is not None and (not self._stable_deep(e) or (
                    isinstance(e, ast.Name) and e.id in rebound)):
                t = self.temp("t")
                if isinstance(e, ast.Starred):
                    pre.append(located(assign(t, e.value), e))
                    e = located(ast.Starred(value=name(t), ctx=ast.Load()), e)
                else:
                    pre.append(located(assign(t, e), e))
                    e = located(name(t), e)
            out.append(e)
        return pre, out

    def _stable_deep(self, e) -> bool:
        if isinstance(e, ast.Starred):
            return False
        return self.stable(e)

    def expr(self, e: ast.expr):
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            return self.expr_generic(e)
        return method(e)

    def expr_generic(self, e):
        fields = [(f, v) for f, v in ast.iter_fields(e)
                  if isinstance(v, ast.expr) or (isinstance(v, list) and v
                                                 and isinstance(v[0], ast.expr))]
        flat = []
        shape = []
        for f, v in fields:
            if isinstance(v, list):
                shape.append((f, len(v)))
                flat.extend(v)
            else:
                shape.append((f, None))
                flat.append(v)
        pre, new = self.children(flat)
        i = 0
        for f, n in shape:
            if n is None:
                setattr(e, f, new[i])
                i += 1
            else:
                setattr(e, f, new[i:i + n])
                i += n
        return pre, e

    def _leaf(self, e):
        return [], e

    expr_Constant = expr_Name = expr_Lambda = _leaf
    expr_ListComp = expr_SetComp = expr_DictComp = expr_GeneratorExp = _leaf

    def expr_Dict(self, e):
        flat = []
        for k, v in zip(e.keys, e.values, strict=True):
            flat += [k, v]
        pre, new = self.children(flat)
        e.keys, e.values = new[0::2], new[1::2]
        return pre, e

    def expr_Call(self, e):
        if not self.facts.may_suspend(e):
            return self.expr_generic_call(e)
        t = self.temp("t")
        pre, stmt = self.call_stmt(e, lambda call: ast.Assign(targets=[name(t, ast.Store())],
                                                              value=call))
        return pre + [stmt], located(name(t), e)

    def expr_generic_call(self, e):
        if (isinstance(e.func, ast.Name) and e.func.id in ("locals", "vars") and not e.args
                and not e.keywords and self.facts.is_builtin(e.func.id)):
            # the user's locals(): without the compiler's temporaries, boxes unwrapped
            wrapped = ast.Call(func=rt("user_locals"), args=[e], keywords=[])
            wrapped.sw_safe = True
            return [], located(wrapped, e)
        flat = [e.func] + list(e.args) + [k.value for k in e.keywords]
        pre, new = self.children(flat)
        e.func = new[0]
        e.args = new[1:1 + len(e.args)]
        for k, v in zip(e.keywords, new[1 + len(e.args):], strict=True):
            k.value = v
        return pre, e

    def call_stmt(self, e: ast.Call, make):
        """Linearize a call that may suspend and wrap `make(call)` as its Point."""
        pre, func = self.expr(e.func)
        if not _reevaluable(func):
            f = self.temp("f")
            pre.append(located(assign(f, func), e))
            func = located(name(f), e)
        e.func = func
        # func first, then the arguments; children() hoists func into a temp when a later
        # argument has a prelude, so it is still evaluated before them
        apre, e = self.expr_generic_call(e)
        pre += apre
        if self.facts.is_next(e):
            gen = e.args[0]
            if not isinstance(gen, ast.Name):
                g = self.temp("gen")
                pre.append(located(assign(g, gen), e))
                e.args[0] = gen = located(name(g), e)
            return pre, self.point(make(e), e, "next", gen=_clone_ref(gen))
        return pre, self.point(make(e), e, "call", callee=_clone_ref(e.func))

    def expr_Yield(self, e):
        pre, value = self.expr(e.value) if e.value is not None else ([], None)
        t = self.temp("t")
        stmt = ast.Assign(targets=[name(t, ast.Store())], value=ast.Yield(value=value))
        return pre + [self.point(stmt, e, "yield")], located(name(t), e)

    def expr_BoolOp(self, e):
        results = [self.expr(v) for v in e.values]
        if not any(p for p, _ in results[1:]):
            return results[0][0], located(ast.BoolOp(op=e.op, values=[x for _, x in results]),
                                          e)
        t = self.temp("t")
        pre, first = results[0]
        out = pre + [located(assign(t, first), e)]
        tail: list[ast.stmt] = []
        for p, x in reversed(results[1:]):
            body = p + [located(assign(t, x), e)] + tail
            test = name(t) if isinstance(e.op, ast.And) else ast.UnaryOp(op=ast.Not(),
                                                                         operand=name(t))
            tail = [located(ast.If(test=test, body=body, orelse=[]), e)]
        return out + tail, located(name(t), e)

    def expr_Compare(self, e):
        results = [self.expr(x) for x in [e.left] + e.comparators]
        if not any(p for p, _ in results[1:]):
            return results[0][0], located(ast.Compare(left=results[0][1], ops=e.ops,
                                                      comparators=[x for _, x in results[1:]]), e)
        t = self.temp("t")
        pre, left = results[0]
        lt = self.temp("t")
        out = pre + [located(assign(lt, left), e)]

        def step(i: int, left_name: str) -> list[ast.stmt]:
            p, x = results[i]
            rt_ = self.temp("t")
            body = p + [located(assign(rt_, x), e), located(assign(t, ast.Compare(
                left=name(left_name), ops=[e.ops[i - 1]], comparators=[name(rt_)])), e)]
            if i + 1 < len(results):
                body.append(located(ast.If(test=name(t), body=step(i + 1, rt_), orelse=[]), e))
            return body

        return out + step(1, lt), located(name(t), e)

    def expr_IfExp(self, e):
        pt, test = self.expr(e.test)
        pb, body = self.expr(e.body)
        po, orelse = self.expr(e.orelse)
        if not pb and not po:
            return pt, located(ast.IfExp(test=test, body=body, orelse=orelse), e)
        t = self.temp("t")
        stmt = ast.If(test=test, body=pb + [located(assign(t, body), e)],
                      orelse=po + [located(assign(t, orelse), e)])
        return pt + [located(stmt, e)], located(name(t), e)

    def expr_NamedExpr(self, e):
        pre, value = self.expr(e.value)
        if not pre:
            e.value = value
            return [], e
        t = self.temp("t")
        return pre + [located(assign(t, value), e),
                      located(ast.Assign(targets=[name(e.target.id, ast.Store())],
                                         value=name(t)), e)], located(name(t), e)

    def expr_YieldFrom(self, e):
        """`yield from it` as PEP 380 spells it out (next/send delegation and the return
        value; throw() and close() are not forwarded to the inner iterator):

            _i = iter(it)
            try: _y = next(_i)
            except StopIteration as _x: _r = _x.value
            else:
                while True:
                    _s = yield _y
                    try: _y = next(_i) if _s is None else _i.send(_s)
                    except StopIteration as _x: _r = _x.value; break
        """
        pre, it = self.expr(e.value)
        i, y, sent, r, x = (self.temp(h) for h in ("yfi", "yfy", "yfs", "yfr", "yfx"))

        def call(func, *args):
            return ast.Call(func=func, args=list(args), keywords=[])

        def next_of():
            return assign(y, call(name("next") if "next" not in self.facts.bound
                                  else rt("next"), name(i)))

        def on_stop(extra):
            return [ast.ExceptHandler(type=name("StopIteration"), name=x,
                                      body=[assign(r, ast.Attribute(value=name(x), attr="value",
                                                                    ctx=ast.Load()))] + extra)]

        make_iter = call(name("iter") if self.facts.is_builtin("iter") else rt("iter"), it)
        make_iter.sw_safe = True
        advance = ast.If(test=ast.Compare(left=name(sent), ops=[ast.Is()],
                                          comparators=[ast.Constant(None)]),
                         body=[next_of()],
                         orelse=[assign(y, call(ast.Attribute(value=name(i), attr="send",
                                                              ctx=ast.Load()), name(sent)))])
        loop = ast.While(test=ast.Constant(True), body=[
            assign(sent, ast.Yield(value=name(y))),
            ast.Try(body=[advance], handlers=on_stop([ast.Break()]), orelse=[], finalbody=[])],
            orelse=[])
        stmts = [assign(i, make_iter),
                 ast.Try(body=[next_of()], handlers=on_stop([]), orelse=[loop], finalbody=[])]
        for st in stmts:
            located(st, e)
        return pre + self.block(stmts), located(name(r), e)

    def expr_Await(self, e):  # pragma: no cover - rejected by check_supported
        raise error_at(e, "await is not supported", self.filename)


def _clone_ref(e):
    """A fresh copy of a name or attribute chain (to evaluate it again in a handler)."""
    if isinstance(e, ast.Attribute):
        return located(ast.Attribute(value=_clone_ref(e.value), attr=e.attr, ctx=ast.Load()), e)
    return located(ast.Name(id=e.id, ctx=ast.Load()), e)


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
    return out


def _reevaluable(e) -> bool:
    """Names and attribute chains on a name can be evaluated again in the capture handler."""
    while isinstance(e, ast.Attribute):
        e = e.value
    return isinstance(e, ast.Name)


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _walk_no_scopes(fn.body))


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _walk_no_scopes(stmts):
    """Every node of `stmts` in this scope: nested defs, classes and lambdas are yielded
    themselves (they bind a name here) but not entered."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _assigned_locals(fn: ast.FunctionDef) -> set[str]:
    names: set[str] = set()
    declared: set[str] = set()
    for node in _walk_no_scopes(fn.body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared |= set(node.names)
    return names - declared


def _contains_point(stmts) -> bool:
    for node in _walk_no_scopes(stmts):
        if isinstance(node, Point) or getattr(node, "sw_next_point", None):
            return True
    return False


__all__ = ["Linearizer", "Point", "CompileError"]


def _stored_names(stmts) -> set[str]:
    """Names a prelude assigns (a walrus's target, hoisted into an assignment)."""
    return {n.id for n in _walk_no_scopes(stmts)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
