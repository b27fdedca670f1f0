"""Random program generator for differential testing of migration (native vs. migrating run).

`programs()` is a hypothesis strategy drawing the source text of a random Python script that is
valid, deterministic and terminating by construction:

* several functions `f0..fN` (a function only calls functions defined before it, plus itself with
  a bounded depth parameter `n`), with default, keyword and keyword-only arguments, a module
  global `G` mutated through `global G`, list arguments mutated through aliases;
* `for` loops over `range`, lists, tuples, strings, `dict.items()`, `enumerate`, `zip`, `sorted`,
  `reversed`, `while` loops with bounded counters, `if/elif/else`, `break`/`continue`, loop `else`;
* `try/except/else/finally` with deliberate ValueError / KeyError / ZeroDivisionError, handlers
  with `as e`, bare re-raise, exceptions propagating through frames and finally blocks;
* list comprehensions (whose elements may call functions / suspend);
* `checkpoint()` calls as statements, inside expressions (`(checkpoint(), e)[1]`,
  `e if checkpoint() is None else e`, `cond and checkpoint()`), and deep in the call tree.

Every variable has a fixed type for its whole life, so every expression is well typed; sizes are
bounded (lists/strings/tuples <= 5 items, dicts <= 5 keys, ints reduced modulo 1000, floats are
exact binary fractions) and every loop runs at most 5 times.  A static cost model (statements and
suspensions executed, loop multipliers, callee costs times recursion depth) keeps runtime and the
number of suspensions per run bounded.

By design a `return`/`break`/`continue` never crosses a `finally` that may suspend (that
combination is rejected by the compiler): a try whose finally contains any call at all gets no
jump statements in its body/handlers/else; "pure" finally blocks (assignments without calls) may
be crossed by jumps.

The script always imports `from swarm import checkpoint`, executes one unconditional top-level
`checkpoint()` before anything can fail, prints a trace, and ends with `RESULT = (...)`.  A few
programs (`allow_uncaught`) may end with an uncaught deliberate exception.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

EXCS = ("ValueError", "KeyError", "ZeroDivisionError")
KEYS = ("a", "b", "c", "d", "e")
#: comment line present in (only) the programs that may end with an uncaught deliberate exception
UNCAUGHT_MARKER = "# may end with an uncaught deliberate exception"
MAXLEN = 5
PREFIX = {
    "int": "i",
    "str": "s",
    "list": "L",
    "dict": "D",
    "tuple": "T",
    "bool": "b",
    "none": "z",
    "float": "x",
}
INT_LITS = (0, 1, 2, 3, 5, 7, 10, -1, -4, 12, 99)
STR_LITS = ("", "a", "xy", "abc", "Qz", "hello", "b-a")
FLOAT_LITS = (0.0, 0.5, 1.25, -2.5, 3.75, 0.125)
LIST_LITS = ("[]", "[1]", "[1, 2]", "[3, 0, 7]", "[5, 4, 3, 2]")
TUPLE_LITS = ("()", "(1,)", "(2, 3)", "(4, 0, 9)")
DICT_LITS = ("{}", "{'a': 1}", "{'b': 2, 'c': 3}", "{'a': 0, 'd': 4, 'e': 5}")
MAX_NEST = 3


@dataclasses.dataclass
class Param:
    name: str
    ty: str
    default: str | None
    kwonly: bool


@dataclasses.dataclass
class Func:
    name: str
    params: list
    ret: str
    depth: int | None  # max value of the depth parameter `n` for recursive functions
    uses_global: bool
    escapes: set = dataclasses.field(default_factory=set)
    ops: int = 0  # cost of one invocation of the body (excluding the recursive call)
    cps: int = 0
    ops_cap: int = 0
    cps_cap: int = 0
    total_ops: int = 0  # cost of one external call, recursion included
    total_cps: int = 0


@dataclasses.dataclass
class Budget:
    ops: int
    cps: int
    ops_cap: int
    cps_cap: int


@dataclasses.dataclass(frozen=True)
class Ctx:
    mult: int = 1
    caught: frozenset = frozenset()
    can_break: bool = False
    can_return: bool = False
    ro: tuple = ()  # read-only names visible here: ((name, type), ...)
    frozen: frozenset = frozenset()  # dict variables that must not be mutated (being iterated)
    nest: int = 0
    base: bool = False  # inside the base case of a recursive function


def ind(lines, n=1):
    pad = "    " * n
    return [pad + line for line in lines]


class Gen:
    def __init__(self, draw, max_checkpoints, max_ops, max_funcs, max_main_stmts=10):
        self.max_main_stmts = max_main_stmts
        self.draw = draw
        self.max_checkpoints = max_checkpoints
        self.max_ops = max_ops
        self.max_funcs = max_funcs
        self.counter = 0
        self.funcs: list[Func] = []
        self.cur: Func | None = None
        self.budget = Budget(0, 0, max_ops, max_checkpoints)
        self.vars: dict[str, str] = {}
        self.rec_pending = False
        self.allow_uncaught = False
        self.called: set[str] = set()
        self.calls_emitted = 0
        self.no_calls = False  # while True, expressions call no generated function
        self.labels = 0

    # ---------------------------------------------------------------- drawing helpers
    def i(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def p(self, pct):
        """True with probability pct/100; shrinks towards False."""
        return self.draw(st.integers(0, 99)) >= 100 - pct

    def pick(self, seq):
        seq = list(seq)
        return seq[self.i(0, len(seq) - 1)]

    def weighted(self, options):
        """options: list of (weight, value); shrinks towards the first option."""
        options = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in options)
        r = self.i(0, total - 1)
        for w, v in options:
            if r < w:
                return v
            r -= w
        raise AssertionError

    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def label(self):
        self.labels += 1
        return repr(f"p{self.labels}")

    # ---------------------------------------------------------------- budget
    def charge(self, ctx, ops, cps=0):
        b = self.budget
        o = b.ops + ctx.mult * ops
        c = b.cps + ctx.mult * cps
        if o > b.ops_cap or c > b.cps_cap:
            return False
        b.ops, b.cps = o, c
        return True

    def can_afford(self, ctx, ops, cps=0):
        b = self.budget
        return b.ops + ctx.mult * ops <= b.ops_cap and b.cps + ctx.mult * cps <= b.cps_cap

    # ---------------------------------------------------------------- exceptions
    def may_raise(self, ctx, excs):
        """Whether code raising any of `excs` may be placed here; records escapes."""
        unc = set(excs) - ctx.caught
        if not unc:
            return True
        if self.cur is not None:
            self.cur.escapes |= unc
            return True
        return self.allow_uncaught

    def would_allow_raise(self, ctx, excs):
        unc = set(excs) - ctx.caught
        return not unc or self.cur is not None or self.allow_uncaught

    # ---------------------------------------------------------------- variables
    def readable(self, ty, ctx):
        names = [n for n, t in self.vars.items() if t == ty]
        names += [n for n, t in ctx.ro if t == ty]
        if ty == "int" and self.cur is not None and not self.cur.uses_global:
            names.append("G")
        return names

    def assignable(self, ty, ctx=None):
        names = [n for n, t in self.vars.items() if t == ty]
        if ctx is not None and ty == "dict":
            names = [n for n in names if n not in ctx.frozen]
        return names

    # ---------------------------------------------------------------- expressions
    def leaf(self, ty, ctx):
        names = self.readable(ty, ctx)
        if names and self.p(75):
            return self.pick(names)
        if ty == "int":
            return repr(self.pick(INT_LITS))
        if ty == "str":
            return repr(self.pick(STR_LITS))
        if ty == "float":
            return repr(self.pick(FLOAT_LITS))
        if ty == "list":
            return self.pick(LIST_LITS)
        if ty == "tuple":
            return self.pick(TUPLE_LITS)
        if ty == "dict":
            return self.pick(DICT_LITS)
        if ty == "bool":
            ints = self.readable("int", ctx)
            if ints and self.p(70):
                return f"({self.pick(ints)} {self.pick(['<', '>', '==', '!='])} {self.i(0, 6)})"
            return self.pick(["True", "False"])
        return "None"

    def var_or(self, ty, ctx, fallback):
        names = self.readable(ty, ctx)
        return self.pick(names) if names else fallback

    def expr(self, ty, ctx, d=2, pure=False):
        if not pure and d > 0 and self.p(10) and self.charge(ctx, 1, 1):
            inner = self.expr(ty, ctx, d - 1)
            if self.p(50):
                return f"(checkpoint(), {inner})[1]"
            return f"({inner} if checkpoint() is None else {inner})"
        if not pure and d > 0 and self.p(22):
            call = self.call_expr(ty, ctx)
            if call is not None:
                return call
        if not pure and d > 0 and ty == "list" and self.p(10):
            comp = self.comprehension(ctx, d)
            if comp is not None:
                return comp
        if d <= 0 or self.p(35):
            return self.leaf(ty, ctx)
        return self.compound(ty, ctx, d - 1, pure)

    def bounded(self, ty, e):
        """An expression of type ty whose value respects the size invariants."""
        if ty == "int":
            return f"({e}) % 1000"
        if ty == "float":
            return f"({e}) % 64.0"
        if ty in ("list", "tuple"):
            return e if e.isidentifier() else f"({e})[:{MAXLEN}]"
        if ty == "str":
            return e if e.isidentifier() else f"({e})[-{MAXLEN}:]"
        if ty == "dict":
            return f"dict({e})" if e.isidentifier() else e
        return e

    def compound(self, ty, ctx, d, pure):
        e = lambda t: self.expr(t, ctx, d, pure)  # noqa: E731
        if ty == "int":
            opts = [
                (3, lambda: f"({e('int')} + {e('int')})"),
                (2, lambda: f"({e('int')} - {e('int')})"),
                (2, lambda: f"({e('int')} * {e('int')} % 97)"),
                (1, lambda: f"({e('int')} // {self.pick([2, 3, 7])})"),
                (1, lambda: f"({e('int')} % {self.pick([2, 5, 11])})"),
                (1, lambda: f"(-{e('int')})"),
                (1, lambda: f"({e('int')} if {e('bool')} else {e('int')})"),
                (1, lambda: (lambda v: f"({v}[0] if {v} else {e('int')})")(
                    self.var_or("list", ctx, "[8]"))),
                (1, lambda: (lambda v: f"({v}[-1] if {v} else 0)")(
                    self.var_or("tuple", ctx, "(6,)"))),
                (1, lambda: f"{self.var_or('dict', ctx, '{}')}.get({self.key()}, {e('int')})"
                 if not pure else f"({e('int')} + 1)"),
            ]
            if not pure:
                opts += [
                    (1, lambda: f"len({e('str')})"),
                    (1, lambda: f"len({e('list')})"),
                    (1, lambda: f"len({e('dict')})"),
                    (1, lambda: f"sum({e('list')})"),
                    (1, lambda: f"abs({e('int')})"),
                    (1, lambda: f"min({e('int')}, {e('int')})"),
                    (1, lambda: f"max({e('list')}, default={e('int')})"),
                    (1, lambda: f"int({e('float')})"),
                    (1, lambda: f"int({e('bool')})"),
                    (1, lambda: f"{e('str')}.count('a')"),
                    (1, lambda: (lambda v: f"(ord({v}[0]) if {v} else 0)")(
                        self.var_or("str", ctx, "'k'"))),
                ]
        elif ty == "str":
            opts = [
                (3, lambda: f"({e('str')} + {e('str')})"),
                (1, lambda: f"{e('str')}[:3]"),
                (1, lambda: f"{e('str')}[::-1]"),
                (1, lambda: f"{e('str')}[1:]"),
                (1, lambda: f"({e('str')} if {e('bool')} else {e('str')})"),
                (1, lambda: f"f\"{{{self.leaf('int', ctx)}}}-{{{self.leaf('str', ctx)}}}\""),
            ]
            if not pure:
                opts += [
                    (2, lambda: f"str({e('int')})"),
                    (1, lambda: f"{e('str')}.upper()"),
                    (1, lambda: f"{e('str')}.replace('a', 'o')"),
                    (1, lambda: f"'-'.join({e('str')})"),
                    (1, lambda: f"str({e('float')})"),
                ]
        elif ty == "list":
            opts = [
                (2, lambda: f"({e('list')} + [{e('int')}])"),
                (1, lambda: f"{e('list')}[1:]"),
                (1, lambda: f"{e('list')}[::-1]"),
                (2, lambda: f"[{e('int')}, {e('int')}]"),
                (1, lambda: f"([{e('int')}] * 2)"),
            ]
            if not pure:
                opts += [
                    (1, lambda: f"sorted({e('list')})"),
                    (1, lambda: f"list({e('tuple')})"),
                    (1, lambda: f"list(range({e('int')} % 4))"),
                    (1, lambda: f"list({e('dict')}.values())"),
                    (1, lambda: (lambda v: f"sorted({e('list')}, key=lambda {v}: ({v} % 3, {v}))")(
                        self.fresh("lam"))),
                ]
        elif ty == "tuple":
            opts = [
                (2, lambda: f"({e('int')}, {e('int')})"),
                (1, lambda: f"({e('tuple')} + ({e('int')},))"),
                (1, lambda: f"{e('tuple')}[1:]"),
            ]
            if not pure:
                opts += [
                    (1, lambda: f"tuple({e('list')})"),
                    (1, lambda: f"tuple(sorted({e('tuple')}))"),
                ]
        elif ty == "dict":
            opts = [
                (2, lambda: f"{{{self.key()}: {e('int')}, {self.key()}: {e('int')}}}"),
                (1, lambda: f"{{**{e('dict')}, {self.key()}: {e('int')}}}"),
            ]
            if not pure:
                opts += [
                    (1, lambda: f"dict({e('dict')})"),
                    (1, lambda: (lambda k, v: f"{{{k}: {v} + 1 for {k}, {v} in {e('dict')}.items()}}")(
                        self.fresh("ck"), self.fresh("cv"))),
                    (1, lambda: f"dict(zip('abc', {e('list')}))"),
                ]
        elif ty == "bool":
            opts = [
                (2, lambda: f"({e('int')} < {e('int')})"),
                (1, lambda: f"({e('int')} == {e('int')})"),
                (1, lambda: f"(not {e('bool')})"),
                (1, lambda: f"({e('bool')} and {e('bool')})"),
                (1, lambda: f"({e('bool')} or {e('bool')})"),
                (1, lambda: f"({e('str')} in 'abcQ')"),
                (1, lambda: f"({self.key()} in {e('dict')})"),
                (1, lambda: f"({e('int')} in {e('list')})"),
                (1, lambda: f"({e('none')} is None)"),
                (1, lambda: f"({e('float')} > 1.0)"),
                (1, lambda: f"(0 <= {e('int')} < {e('int')})"),
            ]
            if not pure:
                opts += [
                    (1, lambda: f"bool({e('list')})"),
                    (1, lambda: f"isinstance({e('int')}, int)"),
                ]
        elif ty == "float":
            opts = [
                (2, lambda: f"({e('float')} + 0.25)"),
                (1, lambda: f"({e('float')} * 2 % 16.0)"),
                (1, lambda: f"({e('float')} / 2)"),
                (1, lambda: f"({e('int')} / 4)"),
                (1, lambda: f"({e('float')} - {e('float')})"),
            ]
            if not pure:
                opts += [(1, lambda: f"float({e('int')})")]
        else:
            return "None"
        return self.weighted(opts)()

    def key(self):
        return repr(self.pick(KEYS))

    def comprehension(self, ctx, d):
        """[elem for v in iterable (if cond)] whose element may call functions / suspend."""
        src = self.pick(["list", "range", "str"])
        v = self.fresh("c")
        if src == "list":
            it, vty = self.expr("list", ctx, 1), "int"
            it = f"{it}[:{MAXLEN}]"
        elif src == "range":
            it, vty = f"range({self.i(0, 4)})", "int"
        else:
            it, vty = f"{self.expr('str', ctx, 1)}[:3]", "str"
        inner = dataclasses.replace(ctx, mult=ctx.mult * MAXLEN, ro=ctx.ro + ((v, vty),))
        if vty == "int":
            elem = self.expr("int", inner, d - 1)
        else:
            elem = f"ord({v}) + {self.expr('int', inner, d - 1)}"
        cond = ""
        if self.p(30):
            cond = f" if {self.expr('bool', inner, 1)}"
        return f"[{elem} for {v} in {it}{cond}]"

    # ---------------------------------------------------------------- calls
    def call_expr(self, ty, ctx, force_self=False):
        if self.no_calls and not force_self:
            return None
        cands = []
        if force_self:
            cands = [self.cur]
        else:
            for f in self.funcs:
                if f.ret != ty:
                    continue
                if not self.can_afford(ctx, 1 + f.total_ops, f.total_cps):
                    continue
                if not self.would_allow_raise(ctx, f.escapes):
                    continue
                cands.append(f)
            if (self.cur is not None and self.cur.ret == ty and self.cur.depth is not None
                    and self.rec_pending and ctx.mult == 1 and not ctx.base):
                cands.append(self.cur)
        if not cands:
            return None
        f = self.pick(cands)
        is_self = f is self.cur
        if is_self:
            if not self.charge(ctx, 1) and not force_self:
                return None
            self.rec_pending = False
        else:
            if not self.charge(ctx, 1 + f.total_ops, f.total_cps):
                return None
            self.may_raise(ctx, f.escapes)
            if self.cur is None:
                self.called.add(f.name)
        self.calls_emitted += 1
        return f"{f.name}({self.call_args(f, ctx, is_self)})"

    def call_args(self, f, ctx, is_self):
        args = []
        if f.depth is not None:
            args.append("n - 1" if is_self else str(self.i(0, f.depth)))
        use_kw = False
        for prm in f.params:
            if prm.kwonly:
                if prm.default is not None and self.p(50):
                    continue
                args.append(f"{prm.name}={self.arg_expr(prm.ty, ctx)}")
                continue
            if prm.default is not None and self.p(35):
                use_kw = True  # omitted: the following ones must be keywords
                continue
            if use_kw or (prm.default is not None and self.p(30)):
                use_kw = True
                args.append(f"{prm.name}={self.arg_expr(prm.ty, ctx)}")
            else:
                args.append(self.arg_expr(prm.ty, ctx))
        return ", ".join(args)

    def arg_expr(self, ty, ctx):
        if ty == "list":
            names = self.readable("list", ctx)
            if names and self.p(60):
                return self.pick(names)  # aliasing: the callee may mutate it
        return self.bounded(ty, self.expr(ty, ctx, 1))

    # ---------------------------------------------------------------- statements
    def block(self, ctx, lo, hi):
        """A list of source lines (never empty)."""
        return [line for stmt in self.block_stmts(ctx, lo, hi) for line in stmt]

    def block_stmts(self, ctx, lo, hi):
        """A non-empty list of statements, each a list of source lines."""
        stmts = []
        n = self.i(lo, hi)
        for _ in range(n):
            stmt, terminal = self.statement(ctx)
            stmts.append(stmt)
            if terminal:
                break
        return stmts or [["pass"]]

    def statement(self, ctx):
        """Returns (lines, terminal) where terminal means the block cannot continue."""
        if not self.charge(ctx, 1):
            return ["pass"], True
        in_func = self.cur is not None
        nest_ok = ctx.nest < MAX_NEST
        opts = [
            (5, "assign"),
            (3, "print"),
            (3, "mutate"),
            (5, "checkpoint"),
            (2, "call"),
            (2 if nest_ok else 0, "if"),
            (2 if nest_ok and ctx.mult <= 5 else 0, "for"),
            (1 if nest_ok and ctx.mult <= 5 else 0, "while"),
            (3 if nest_ok else 0, "try"),
            (1, "raise"),
            (3 if ctx.can_break else 0, "jump"),
            (1 if ctx.can_return else 0, "return"),
            (1 if in_func and self.cur.uses_global else 0, "global"),
            (1 if not in_func else 0, "global"),
            (1, "swap"),
        ]
        kind = self.weighted(opts)
        return getattr(self, "st_" + kind)(ctx)

    def st_assign(self, ctx):
        tys = [t for t in PREFIX if self.assignable(t, ctx)]
        if not tys:
            return self.st_print(ctx)
        ty = self.pick(tys)
        name = self.pick(self.assignable(ty, ctx))
        if ty == "none":
            return [f"{name} = None"], False
        if ty == "int" and self.p(30):
            op = self.pick(["+=", "-=", "*="])
            rhs = self.leaf("int", ctx) if op != "*=" else str(self.i(-2, 3))
            if op == "*=":
                return [f"{name} *= {rhs}", f"{name} %= 1000"], False
            return [f"{name} {op} {rhs}"], False
        return [f"{name} = {self.bounded(ty, self.expr(ty, ctx))}"], False

    def st_print(self, ctx):
        n = self.i(1, 3)
        tys = list(PREFIX)
        args = [self.expr(self.pick(tys), ctx, 1) for _ in range(n)]
        return [f"print({self.label()}, {', '.join(args)})"], False

    def nocall_expr(self, ty, ctx, d=2):
        """An expression that calls no generated function (it may still suspend), for places
        where a callee mutating a list alias would break the statement."""
        saved, self.no_calls = self.no_calls, True
        try:
            return self.expr(ty, ctx, d)
        finally:
            self.no_calls = saved

    def st_mutate(self, ctx):
        opts = []
        lists = self.assignable("list")
        dicts = self.assignable("dict", ctx)
        ints = self.assignable("int")
        strs = self.assignable("str")
        if lists:
            opts.append(("list", 4))
        if dicts:
            opts.append(("dict", 3))
        if ints:
            opts.append(("int", 1))
        if strs:
            opts.append(("str", 1))
        if not opts:
            return self.st_assign(ctx)
        kind = self.weighted([(w, k) for k, w in opts])
        if kind == "list":
            v = self.pick(lists)
            form = self.i(0, 7)
            if form == 0:
                return [f"if len({v}) < {MAXLEN}:", f"    {v}.append({self.expr('int', ctx)})",
                        f"    del {v}[{MAXLEN}:]"], False
            if form == 1:
                return [f"if {v}:", f"    {self.pick([f'{v}.pop()', f'{v}.pop(0)'])}"], False
            if form == 2:
                idx, val = self.nocall_expr("int", ctx, 1), self.nocall_expr("int", ctx)
                return [f"if {v}:", f"    {v}[{idx} % len({v})] = {val}"], False
            if form == 3:
                return [f"{v}.{self.pick(['sort()', 'reverse()'])}"], False
            if form == 4:
                return [f"{v} += [{self.expr('int', ctx)}]", f"del {v}[{MAXLEN}:]"], False
            if form == 5:
                return [f"if {v}:", f"    {v}[0] += {self.leaf('int', ctx)}"], False
            if form == 6:
                x = self.nocall_expr("int", ctx, 1)
                return [f"if {x} in {v}:", f"    {v}.remove({x})"], False
            return [f"{v}.extend({self.expr('list', ctx, 1)})", f"del {v}[{MAXLEN}:]"], False
        if kind == "dict":
            v = self.pick(dicts)
            k = self.key()
            form = self.i(0, 4)
            if form == 0:
                return [f"{v}[{k}] = {self.expr('int', ctx)}"], False
            if form == 1:
                return [f"{v}[{k}] = {v}.get({k}, 0) + {self.expr('int', ctx)}"], False
            if form == 2:
                return [f"if {k} in {v}:", f"    del {v}[{k}]"], False
            if form == 3:
                return [f"{v}.pop({k}, None)"], False
            return [f"if {k} in {v}:", f"    {v}[{k}] += {self.leaf('int', ctx)}"], False
        if kind == "int":
            v = self.pick(ints)
            return [f"{v} = ({v} + {self.expr('int', ctx)}) % 1000"], False
        v = self.pick(strs)
        return [f"{v} = ({v} + {self.expr('str', ctx, 1)})[-{MAXLEN}:]"], False

    def st_checkpoint(self, ctx):
        if not self.charge(ctx, 0, 1):
            return self.st_print(ctx)
        form = self.weighted([(6, 0), (1, 1), (1, 2), (1, 3)])
        if form == 0:
            return ["checkpoint()"], False
        if form == 1:
            return [f"{self.expr('bool', ctx, 1)} and checkpoint()"], False
        if form == 2:
            return [f"{self.expr('bool', ctx, 1)} or checkpoint()"], False
        return [f"if {self.expr('bool', ctx, 1)}:", "    checkpoint()"], False

    def st_call(self, ctx):
        ty = self.pick(["int", "str", "list", "tuple"])
        call = self.call_expr(ty, ctx)
        if call is None:
            return self.st_print(ctx)
        form = self.i(0, 2)
        if form == 0:
            return [call], False
        names = self.assignable(ty)
        if form == 1 and names:
            return [f"{self.pick(names)} = {self.bounded(ty, call)}"], False
        return [f"print({self.label()}, {call})"], False

    def st_if(self, ctx):
        sub = dataclasses.replace(ctx, nest=ctx.nest + 1)
        lines = [f"if {self.expr('bool', ctx)}:"] + ind(self.block(sub, 1, 3))
        for _ in range(self.weighted([(3, 0), (2, 1), (1, 2)])):
            lines += [f"elif {self.expr('bool', ctx)}:"] + ind(self.block(sub, 1, 2))
        if self.p(50):
            lines += ["else:"] + ind(self.block(sub, 1, 2))
        return lines, False

    def iterable(self, ctx):
        """Returns (for-header target/iter text, read-only vars, iterations bound, frozen dict)."""
        kinds = [(3, "range"), (1, "range_dyn")]
        lists = self.readable("list", ctx)
        strs = self.readable("str", ctx)
        tuples = self.readable("tuple", ctx)
        dicts = self.readable("dict", ctx)
        if lists:
            kinds += [(3, "list"), (1, "enumerate"), (1, "reversed")]
        if strs:
            kinds += [(1, "str"), (1, "enum_str")]
        if tuples:
            kinds += [(1, "tuple")]
        if lists and strs:
            kinds += [(1, "zip")]
        if dicts:
            kinds += [(3, "items"), (1, "keys_copy"), (1, "values")]
        kind = self.weighted(kinds)
        a, b = self.fresh("j"), self.fresh("v")
        if kind == "range":
            k = self.i(0, 5)
            if self.p(30):
                return f"{a} in range(1, {k + 1})", [(a, "int")], k, None
            return f"{a} in range({k})", [(a, "int")], k, None
        if kind == "range_dyn":
            return f"{a} in range({self.expr('int', ctx, 1)} % 4)", [(a, "int")], 3, None
        if kind == "list":
            v = self.pick(lists)
            if self.p(40):
                return f"{a} in {v}[:3]", [(a, "int")], 3, None
            return f"{a} in {v}", [(a, "int")], MAXLEN, None
        if kind == "enumerate":
            return f"{a}, {b} in enumerate({self.pick(lists)})", [(a, "int"), (b, "int")], MAXLEN, None
        if kind == "reversed":
            return f"{a} in reversed({self.pick(lists)})", [(a, "int")], MAXLEN, None
        if kind == "str":
            return f"{a} in {self.pick(strs)}", [(a, "str")], MAXLEN, None
        if kind == "enum_str":
            return f"{a}, {b} in enumerate({self.pick(strs)}, 1)", [(a, "int"), (b, "str")], MAXLEN, None
        if kind == "tuple":
            t = self.pick(tuples)
            if self.p(30):
                return f"{a} in sorted({t})", [(a, "int")], MAXLEN, None
            return f"{a} in {t}", [(a, "int")], MAXLEN, None
        if kind == "zip":
            return (f"{a}, {b} in zip({self.pick(lists)}, {self.pick(strs)})",
                    [(a, "int"), (b, "str")], MAXLEN, None)
        d = self.pick(dicts)
        if kind == "items":
            return f"{a}, {b} in {d}.items()", [(a, "str"), (b, "int")], MAXLEN, d
        if kind == "values":
            return f"{a} in {d}.values()", [(a, "int")], MAXLEN, d
        return f"{a} in list({d})", [(a, "str")], MAXLEN, None

    def loop_ctx(self, ctx, iters, ro, frozen):
        return dataclasses.replace(
            ctx,
            mult=ctx.mult * max(iters, 1),
            can_break=True,
            ro=ctx.ro + tuple(ro),
            frozen=ctx.frozen | ({frozen} if frozen else set()),
            nest=ctx.nest + 1,
        )

    def st_for(self, ctx):
        head, ro, iters, frozen = self.iterable(ctx)
        body_ctx = self.loop_ctx(ctx, iters, ro, frozen)
        lines = [f"for {head}:"]
        body = []
        if self.p(50):
            body.append(f"print({self.label()}, {', '.join(n for n, _ in ro)})")
        body += self.block(body_ctx, 1, 4)
        lines += ind(body)
        if self.p(25):
            lines += ["else:"] + ind(self.block(dataclasses.replace(ctx, nest=ctx.nest + 1), 1, 2))
        return lines, False

    def st_while(self, ctx):
        w = self.fresh("w")
        k = self.i(1, 5)
        cond = f"{w} < {k}"
        if self.p(30):
            cond += f" and {self.expr('bool', ctx, 1)}"
        body_ctx = self.loop_ctx(ctx, k, [(w, "int")], None)
        lines = [f"{w} = 0", f"while {cond}:"]
        lines += ind([f"{w} += 1"] + self.block(body_ctx, 1, 4))
        if self.p(25):
            lines += ["else:"] + ind(self.block(dataclasses.replace(ctx, nest=ctx.nest + 1), 1, 2))
        return lines, False

    def pure_block(self, ctx):
        """Assignments (and prints) without any call that may suspend: jumps may cross it."""
        lines = []
        if self.p(40):
            lines.append(f"print({self.label()}, {self.expr(self.pick(list(PREFIX)), ctx, 1, pure=True)})")
        for _ in range(self.i(1, 2)):
            tys = [t for t in ("int", "str", "bool", "float") if self.assignable(t)]
            if not tys:
                return ["pass"]
            ty = self.pick(tys)
            name = self.pick(self.assignable(ty))
            lines.append(f"{name} = {self.pure_bounded(ty, self.expr(ty, ctx, 1, pure=True))}")
        return lines

    def pure_bounded(self, ty, e):
        if ty == "int":
            return f"({e}) % 1000"
        if ty == "float":
            return f"({e}) % 64.0"
        if ty == "str":
            return f"({e})[-{MAXLEN}:]"
        return e

    def st_try(self, ctx):
        kind = self.weighted([(3, "ex"), (2, "ex_else"), (2, "fin"), (2, "ex_fin"), (2, "all")])
        has_ex = kind != "fin"
        has_else = kind in ("ex_else", "all")
        has_fin = kind in ("fin", "ex_fin", "all")
        sub = dataclasses.replace(ctx, nest=ctx.nest + 1)

        # finally first: it decides whether jumps may cross it
        fin_lines = []
        barrier = False
        if has_fin:
            fin_ctx = dataclasses.replace(sub, can_break=False, can_return=False)
            if self.p(35):
                fin_lines = self.pure_block(fin_ctx)
            else:
                barrier = True
                fin = self.block_stmts(fin_ctx, 1, 3)
                if self.p(40) and self.charge(fin_ctx, 0, 1):
                    fin.insert(self.i(0, len(fin)), ["checkpoint()"])
                fin_lines = [line for stmt in fin for line in stmt]
        inner = dataclasses.replace(
            sub,
            can_break=sub.can_break and not barrier,
            can_return=sub.can_return and not barrier,
        )

        handlers = []  # (types tuple, clause text)
        handled = set()
        if has_ex:
            for _ in range(self.weighted([(3, 1), (2, 2), (1, 3)])):
                remaining = [e for e in EXCS if e not in handled]
                if not remaining:
                    break
                form = self.weighted([(4, "one"), (2, "tuple"), (1, "exception")])
                if form == "exception":
                    types = tuple(remaining)
                    clause = "Exception"
                elif form == "tuple" and len(remaining) >= 2:
                    types = tuple(sorted(set([self.pick(remaining), self.pick(remaining)])))
                    clause = "(" + ", ".join(types) + ")" if len(types) > 1 else types[0]
                else:
                    types = (self.pick(remaining),)
                    clause = types[0]
                handled |= set(types)
                handlers.append((types, clause))

        body_ctx = dataclasses.replace(inner, caught=ctx.caught | frozenset(handled))
        body = self.block_stmts(body_ctx, 1, 4)
        if self.p(75):
            raise_lines = self.raise_lines(body_ctx, prefer=sorted(handled))
            if raise_lines:
                pos = self.i(0, len(body))
                body = body[:pos] + [raise_lines] + body[pos:]
        lines = ["try:"] + ind([line for stmt in body for line in stmt])
        for types, clause in handlers:
            e = self.fresh("e")
            hctx = dataclasses.replace(inner, ro=inner.ro + ((e, "exc"),))
            hl = [f"print({self.label()}, type({e}).__name__, {e})"]
            if self.p(40) and self.charge(hctx, 0, 1):
                hl.append("checkpoint()")
            hl += self.block(hctx, 0, 3)
            if self.p(25) and self.would_allow_raise(hctx, types) and self.may_raise(hctx, types):
                if self.p(50) and self.charge(hctx, 0, 1):
                    hl.append("checkpoint()")
                hl.append("raise")
            if self.p(80):
                lines.append(f"except {clause} as {e}:")
            else:
                lines.append(f"except {clause}:")
                hl[0] = f"print({self.label()}, {clause!r})"
            lines += ind(hl)
        if has_else:
            lines += ["else:"] + ind(self.block(inner, 1, 3))
        if has_fin:
            lines += ["finally:"] + ind(fin_lines)
        return lines, False

    def raise_lines(self, ctx, prefer=()):
        choices = list(prefer) if prefer and self.p(85) else list(EXCS)
        exc = self.pick(choices)
        if not self.may_raise(ctx, [exc]):
            return None
        form = self.i(0, 1)
        ints = self.assignable("int")
        if exc == "ValueError":
            if form == 0:
                stmt = f"raise ValueError({self.label()} + str({self.expr('int', ctx, 1)}))"
            else:
                stmt = f"print({self.label()}, int('x' + {self.expr('str', ctx, 1)}))"
        elif exc == "KeyError":
            if form == 0:
                stmt = f"raise KeyError({self.expr('str', ctx, 1)})"
            else:
                d = self.expr("dict", ctx, 1)
                stmt = (f"{self.pick(ints)} = {d}['zz']" if ints else f"print({self.label()}, {d}['zz'])")
        else:
            a = self.leaf("int", ctx)
            if form == 0 and ints:
                stmt = f"{self.pick(ints)} = {self.expr('int', ctx, 1)} // ({a} - {a})"
            else:
                stmt = f"print({self.label()}, {self.expr('float', ctx, 1)} / 0.0)"
        if self.p(50):
            return [f"if {self.expr('bool', ctx, 1)}:", "    " + stmt]
        return [stmt]

    def st_raise(self, ctx):
        lines = self.raise_lines(ctx)
        if lines is None:
            return self.st_print(ctx)
        return lines, len(lines) == 1

    def st_jump(self, ctx):
        j = self.pick(["break", "continue"])
        if self.p(70):
            return [f"if {self.expr('bool', ctx, 1)}:", f"    {j}"], False
        return [j], True

    def st_return(self, ctx):
        ret = self.cur.ret
        val = self.bounded(ret, self.expr(ret, ctx))
        if self.p(70):
            return [f"if {self.expr('bool', ctx, 1)}:", f"    return {val}"], False
        return [f"return {val}"], True

    def st_global(self, ctx):
        form = self.i(0, 2)
        if form == 0:
            return [f"G += {self.leaf('int', ctx)}"], False
        if form == 1:
            return ["G = (G * 3 + 1) % 1000"], False
        return [f"G = ({self.expr('int', ctx)} + G) % 1000"], False

    def st_swap(self, ctx):
        for ty in self.draw(st.permutations(list(PREFIX))):
            names = self.assignable(ty, ctx)
            if len(names) >= 2:
                a = self.pick(names)
                b = self.pick([n for n in names if n != a])
                if ty == "dict":
                    return [f"{a}, {b} = {b}, {a}"], False
                return [f"{a}, {b} = {b}, {self.bounded(ty, self.expr(ty, ctx, 1))}"], False
        return self.st_assign(ctx)

    # ---------------------------------------------------------------- functions
    def function(self, index):
        name = f"f{index}"
        depth = self.i(1, 5) if self.p(45) else None
        params = []
        for _ in range(self.i(1, 3)):
            ty = self.pick(["int", "int", "str", "list", "tuple", "float", "bool"])
            params.append(Param(self.fresh("p"), ty, None, False))
        # defaults for a suffix of the positional parameters
        ndef = self.i(0, len(params))
        for prm in params[len(params) - ndef:]:
            prm.default = self.default_for(prm.ty)
        if self.p(40):
            ty = self.pick(["int", "str", "bool"])
            params.append(Param(self.fresh("k"), ty, self.default_for(ty) if self.p(70) else None, True))
        ret = self.weighted([(5, "int"), (2, "str"), (2, "list"), (1, "tuple")])
        f = Func(name, params, ret, depth, self.p(40))
        factor = (depth or 0) + 1
        f.ops_cap = max(20, 300 // factor)
        f.cps_cap = max(1, min(6, self.max_checkpoints // 4) // factor)

        saved = (self.cur, self.budget, self.vars, self.rec_pending)
        self.cur = f
        self.budget = Budget(0, 0, f.ops_cap, f.cps_cap)
        self.vars = {p.name: p.ty for p in params}
        if f.uses_global:
            self.vars["G"] = "int"
        ro = (("n", "int"),) if depth is not None else ()
        ctx = Ctx(can_return=True, ro=ro, nest=1)

        sig = []
        if depth is not None:
            sig.append("n")
        star = False
        for prm in params:
            if prm.kwonly and not star:
                sig.append("*")
                star = True
            sig.append(prm.name if prm.default is None else f"{prm.name}={prm.default}")
        lines = [f"def {name}({', '.join(sig)}):"]
        body = []
        if f.uses_global:
            body.append("global G")
        for prm in params:
            if prm.ty == "list" and prm.default == "None":
                body += [f"if {prm.name} is None:", f"    {prm.name} = []"]
        shown = (["n"] if depth is not None else []) + [p.name for p in params]
        body.append(f"print({name!r}, {', '.join(shown)})")
        for _ in range(self.i(1, 3)):
            ty = self.pick(list(PREFIX))
            v = self.fresh(PREFIX[ty])
            body.append(f"{v} = {self.bounded(ty, self.expr(ty, ctx, 1))}")
            self.vars[v] = ty
        if depth is not None:
            base_ctx = dataclasses.replace(ctx, base=True, nest=2)
            base = self.block(base_ctx, 0, 2) if self.p(50) else []
            if self.p(30) and self.charge(base_ctx, 0, 1):
                base.append("checkpoint()")
            base.append(f"return {self.bounded(ret, self.expr(ret, base_ctx, 1))}")
            body += ["if n <= 0:"] + ind(base)
            self.rec_pending = True
        body += self.block(ctx, 1, 5)
        if self.rec_pending:
            self.rec_pending = False
            call = self.call_expr(ret, ctx, force_self=True)
            if ret == "int":
                final = f"({call} + {self.expr('int', ctx, 1)}) % 1000"
            else:
                final = self.bounded(ret, f"{call} + {self.expr(ret, ctx, 1)}")
            body.append(f"return {final}")
        else:
            body.append(f"return {self.bounded(ret, self.expr(ret, ctx, 1))}")
        lines += ind(body)

        f.ops, f.cps = self.budget.ops + 2, self.budget.cps
        f.total_ops, f.total_cps = f.ops * factor, f.cps * factor
        self.cur, self.budget, self.vars, self.rec_pending = saved
        self.funcs.append(f)
        return lines

    def default_for(self, ty):
        return {
            "int": lambda: repr(self.pick(INT_LITS)),
            "str": lambda: repr(self.pick(STR_LITS)),
            "float": lambda: repr(self.pick(FLOAT_LITS)),
            "tuple": lambda: self.pick(TUPLE_LITS),
            "bool": lambda: self.pick(["True", "False"]),
            "list": lambda: "None",  # mutable defaults are avoided; None means "fresh list"
        }[ty]()

    # ---------------------------------------------------------------- program
    def program(self):
        self.allow_uncaught = self.p(8)
        lines = ["from swarm import checkpoint", ""]
        if self.allow_uncaught:
            lines += [UNCAUGHT_MARKER, ""]
        lines += ["G = 0", ""]
        for idx in range(self.i(2, self.max_funcs)):
            lines += self.function(idx) + [""]
        self.cur = None
        self.budget = Budget(0, 0, self.max_ops, self.max_checkpoints)
        self.vars = {"G": "int"}
        ctx = Ctx(nest=0)
        for ty in PREFIX:
            for _ in range(self.weighted([(1, 1), (2, 1), (1, 2)])):
                v = self.fresh("m" + PREFIX[ty])
                lines.append(f"{v} = {self.bounded(ty, self.expr(ty, ctx, 1, pure=True))}")
                self.vars[v] = ty
        module_vars = [v for v in self.vars]
        lines.append(f"print('start', {', '.join(module_vars)})")
        self.charge(ctx, 2, 1)
        lines.append("checkpoint()")
        lines += self.block(ctx, min(4, self.max_main_stmts), self.max_main_stmts)
        # make sure most functions run at least once
        for f in self.funcs:
            if f.name in self.called or not self.p(70):
                continue
            if not self.can_afford(ctx, 3 + f.total_ops, f.total_cps):
                continue
            self.charge(ctx, 3 + f.total_ops, f.total_cps)
            call = f"{f.name}({self.call_args(f, ctx, False)})"
            if f.escapes and not (self.allow_uncaught and self.p(50)):
                e = self.fresh("e")
                lines += ["try:", f"    print({f.name!r}, {call})",
                          f"except Exception as {e}:", f"    print('caught', type({e}).__name__, {e})"]
            else:
                lines.append(f"print({f.name!r}, {call})")
        lines.append(f"print('end', {', '.join(module_vars)})")
        lines.append(f"RESULT = ({', '.join(module_vars)},)")
        return "\n".join(lines) + "\n"


@st.composite
def programs(draw, max_checkpoints=24, max_ops=1500, max_funcs=5, max_main_stmts=10):
    """Source text of a random deterministic terminating program (see module docstring).

    max_checkpoints / max_ops bound the suspensions / statements one run executes (static upper
    bound); max_funcs and max_main_stmts bound the size of the source."""
    gen = Gen(draw, max_checkpoints, max_ops, max_funcs, max_main_stmts)
    return gen.program()
