"""A-normal form of expressions and assignment targets (a mixin of Linearizer).

An operand evaluated before a call that may suspend is hoisted into a temporary when a later
operand has a prelude (statements that now run first); short-circuit operators, conditional
expressions and chained comparisons become `if`s; `yield from` stays native (a resumer spells it
out as PEP 380 does).
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import assign, grammar_fields, located, name, support, walk
from swarm.compiler.errors import InternalCompilerError, error_at
from swarm.compiler.points import Delegation, Point, clone_ref, reevaluable, stored_names

_EXPR_METHODS: dict[type, object] = {}  # node class -> its rule (looked up once)
_EXPR_FIELDS: dict[type, list[tuple[str, bool]]] = {}  # class -> [(expression field, a list?)]


def _expr_fields(cls: type) -> list[tuple[str, bool]]:
    """The fields of a node class holding an expression or a list of them, from the grammar
    (`expr`, `expr?`, `expr*`)."""
    signature = grammar_fields(cls)
    if signature is None:
        raise InternalCompilerError(f"no grammar for the expression {cls.__name__}")
    return [(f, kind == "expr*") for kind, f in signature if kind.rstrip("*?") == "expr"]


#: expressions the rules give back as they are (anf_exprs._leaf)
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                     ast.GeneratorExp})
_NO_PRELUDE: tuple = ()  # (read, never added to)
#: expressions expr_generic gives back as they are when their operands are plain (_plain)
_PLAIN_PARENTS = frozenset({ast.Attribute, ast.Subscript, ast.BinOp, ast.UnaryOp})


def _plain(e) -> bool:
    """Is `e` names and constants under attributes, subscripts and operators only (`self.x`,
    `a[i].y`, `n + 1`)? The rules give such an expression back unchanged, without a prelude.

    Discussion: `self.x` and the like are two thirds of the expressions the A-normal form
    looks at (in the statements holding a point); each went through expr_generic and
    children() to come back as it was."""
    cls = type(e)
    if cls is ast.Name or cls is ast.Constant:
        return True
    if cls is ast.Attribute:
        return _plain(e.value)
    if cls is ast.Subscript:
        return _plain(e.value) and _plain(e.slice)
    if cls is ast.BinOp:
        return _plain(e.left) and _plain(e.right)
    if cls is ast.UnaryOp:
        return _plain(e.operand)
    return False


class Expressions:
    """The Linearizer's rules for expressions: each call that may suspend is hoisted into a
    point statement, the operands before it into temporaries (evaluation order kept)."""

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
        results = []
        last = -1
        expr = self.expr
        for i, e in enumerate(exprs):
            cls = type(e)
            if e is None or cls in _LEAVES or (cls in _PLAIN_PARENTS and _plain(e)):
                results.append((_NO_PRELUDE, e))
            else:
                result = expr(e)
                results.append(result)
                if result[0]:
                    last = i
        if last < 0:  # no prelude: the operands as they are
            return [], [e for _, e in results]
        pre: list[ast.stmt] = []
        out = []
        # Discussion: a plain local is "stable" - unless a later operand's prelude rebinds it
        # (`f(x, (x := g()))`: the walrus now runs before the call reads x, so x is hoisted)
        rebound: set[str] = set()
        for p, _ in results[1:last + 1]:
            rebound |= stored_names(p)
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
        cls = type(e)
        if cls in _PLAIN_PARENTS and _plain(e):
            return [], e
        method = _EXPR_METHODS.get(cls)
        if method is None:
            method = _EXPR_METHODS[cls] = getattr(type(self), "expr_" + cls.__name__,
                                                  type(self).expr_generic)
        return method(self, e)

    def expr_generic(self, e):
        cls = type(e)
        spec = _EXPR_FIELDS.get(cls)
        if spec is None:
            spec = _EXPR_FIELDS[cls] = _expr_fields(cls)
        d = e.__dict__
        flat = []
        shape = []
        for f, many in spec:
            v = d.get(f)
            if many:
                if v:
                    shape.append((f, len(v)))
                    flat += v
            elif v is not None:
                shape.append((f, None))
                flat.append(v)
        if not flat:
            return [], e
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

    def expr_InlineComp(self, e):
        """A comprehension run as a loop of this function (desugar.py): the loop is the
        prelude, its result variable the value."""
        self.temp_names.update(e.names)
        result = e.result
        result.sw_fresh = True  # a new list, set or dict: a `for` over it needs no next point
        return self.block(e.body), result

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
            wrapped = ast.Call(func=support("user_locals"), args=[e], keywords=[])
            wrapped.sw_safe = True
            return [], located(wrapped, e)
        flat = [e.func] + list(e.args) + [k.value for k in e.keywords]
        for x in flat:  # (most calls: nothing but plain operands, given back as they are)
            cls = type(x)
            if not (cls in _LEAVES or (cls in _PLAIN_PARENTS and _plain(x))):
                break
        else:
            return [], e
        pre, new = self.children(flat)
        e.func = new[0]
        e.args = new[1:1 + len(e.args)]
        for k, v in zip(e.keywords, new[1 + len(e.args):], strict=True):
            k.value = v
        return pre, e

    def call_stmt(self, e: ast.Call, make):
        """Linearize a call that may suspend and wrap `make(call)` as its Point."""
        pre, func = self.expr(e.func)
        if not reevaluable(func):
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
            return pre, self.point(make(e), e, "next", gen=clone_ref(gen))
        return pre, self.point(make(e), e, "call", callee=clone_ref(e.func))

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
        """`yield from it` runs natively (CPython forwards next, send, throw and close at C
        speed); only a resumer spells it out as PEP 380 does, from inside its loop:

            _i = iter(it)
            _sw_y = Y; _r = yield from _i        # the function; a capture here is N's
          the resumer, entered at one of the loop's points (Y, N, S, C, T):
            while True:
                try:
                    _s = yield _y                                        # Y
                except GeneratorExit:
                    _m = getattr(_i, "close", None)
                    if _m is not None: _m()                              # C
                    raise
                except BaseException as _e:
                    _m = getattr(_i, "throw", None)
                    if _m is None: raise
                    try: _y = _m(_e)                                     # T
                    except StopIteration as _x: _r = _x.value; break
                else:
                    try: _y = next(_i) if _s is None else _i.send(_s)   # N, S
                    except StopIteration as _x: _r = _x.value; break

        A generator parked inside the delegation is rebuilt at Y (its `_sw_y`), its delegate
        `_i` a local like any other; a capture that came out of the delegate resumes at N,
        whose `next` the cursor answers.
        """
        self.fn.has_try = True  # (its spelled-out loop holds tries)
        pre, it = self.expr(e.value)
        i, y, sent, r, x = (self.temp(h) for h in ("yfi", "yfy", "yfs", "yfr", "yfx"))
        m, exc = self.temp("yfm"), self.temp("yfe")

        def call(func, *args):
            return ast.Call(func=func, args=list(args), keywords=[])

        next_fn = name("next") if "next" not in self.facts.bound else support("next")
        make_iter = call(name("iter") if self.facts.is_builtin("iter") else support("iter"), it)
        make_iter.sw_safe = True
        def stop():
            return [ast.ExceptHandler(type=name("StopIteration"), name=x, body=[
                assign(r, ast.Attribute(value=name(x), attr="value", ctx=ast.Load())),
                ast.Break()])]

        def method_of(attr):  # _m = getattr(_i, attr, None)  (getattr: never a point)
            get = call(name("getattr") if self.facts.is_builtin("getattr")
                       else support("getattr"), name(i), ast.Constant(attr),
                       ast.Constant(None))
            get.sw_safe = True
            return assign(m, get)

        def is_none(var):
            return ast.Compare(left=name(var), ops=[ast.Is()], comparators=[ast.Constant(None)])

        advance = ast.If(test=is_none(sent), body=[assign(y, call(next_fn, name(i)))],
                         orelse=[assign(y, call(ast.Attribute(value=name(i), attr="send",
                                                              ctx=ast.Load()), name(sent)))])
        closing = ast.ExceptHandler(type=name("GeneratorExit"), name=None, body=[
            method_of("close"),
            ast.If(test=ast.UnaryOp(op=ast.Not(), operand=is_none(m)),
                   body=[ast.Expr(value=call(name(m)))], orelse=[]),
            ast.Raise()])
        throwing = ast.ExceptHandler(type=name("BaseException"), name=exc, body=[
            method_of("throw"),
            ast.If(test=is_none(m), body=[ast.Raise()], orelse=[]),
            ast.Try(body=[assign(y, call(name(m), name(exc)))], handlers=stop(), orelse=[],
                    finalbody=[])])
        _own_sites(e, [advance.body[0].value, advance.orelse[0].value,
                       closing.body[1].body[0].value, throwing.body[2].body[0].value])
        loop = located(ast.While(test=ast.Constant(True), body=[
            ast.Try(body=[assign(sent, ast.Yield(value=name(y)))],
                    handlers=[closing, throwing],
                    orelse=[ast.Try(body=[advance], handlers=stop(), orelse=[],
                                    finalbody=[])],
                    finalbody=[])], orelse=[]), e)
        expansion = self.block([loop])
        parked = resumed_at = None
        for node in walk(ast.Module(body=expansion, type_ignores=[])):
            if isinstance(node, Point) and node.kind == "yield":
                parked = node.point
            elif isinstance(node, Point) and _advances_by_next(node, y):
                resumed_at = node.point
        if parked is None or resumed_at is None:
            raise error_at(e, "internal: `yield from` spelled out without its points",
                           self.filename)
        native = [located(assign("_sw_y", ast.Constant(parked)), e),
                  located(assign(r, ast.YieldFrom(value=name(i))), e)]
        marker = located(Delegation(native=native, expansion=expansion), e)
        marker.point, marker.gen = resumed_at, name(i)
        self.fn.captures = True
        self.point_gens[resumed_at] = (i,)
        marker.sw_site = self.site("s", native[1].value, resumed_at)
        return pre + [located(assign(i, make_iter), e), marker], located(name(r), e)

    def expr_Await(self, e):  # pragma: no cover - rejected first (ModuleFacts.unsupported)
        raise error_at(e, "await is not supported", self.filename)


def _own_sites(e: ast.YieldFrom, calls: list[ast.Call]) -> None:
    """Give each call of a spelled-out `yield from` (next, send, close, throw) a position of
    its own, ending inside the `yield from` keywords (columns no other call's end can take):
    the function's one capture handler then finds each by its instruction.

    Discussion: at the `yield from`'s own position, the four shared one site (the end of
    the expression), which made each a point with a handler of its own (lower.py), about
    100 bytes of bytecode each in every resumer holding the loop: generators' `Tree.__iter__`
    resumer was 8.5 KB of the benchmark's 14.7 KB."""
    line, col = e.lineno, e.col_offset
    for k, call in enumerate(calls, 1):
        call.lineno, call.col_offset, call.end_lineno, call.end_col_offset = line, col, line, \
            col + k


def _advances_by_next(pt, target: str) -> bool:
    """Is this point `<target> = next(<delegate>)` of a spelled-out `yield from` (not its
    `.send(s)`)?"""
    stmt, value = pt.stmt, getattr(pt.stmt, "value", None)
    func = getattr(value, "func", None)
    return (pt.kind != "yield" and isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == target
            and (isinstance(func, ast.Name) and func.id == "next"
                 or isinstance(func, ast.Attribute) and func.attr == "next"))
