"""Pass 1: reject what cannot migrate, and desugar hidden functions into visible ones.

- Comprehensions, generator expressions and lambdas that contain a suspending call are lifted
  into nested `def`s placed just before their statement (a comprehension is a function in
  CPython too), so their frames can be captured like any other. A generator expression that
  is consumed whole by a builtin (`sum(...)`, `list(...)`, `"".join(...)`, ...) is lifted as a
  list-building function, and one given to `any`/`all` as a short-circuiting loop: the C
  consumer then never runs user code that could suspend.
- Zero-argument `super()` becomes `super(__class__, self)`: a resumer is a separate function
  without the implicit `__class__` cell, so it gets `__class__` from the saved locals.
"""

from __future__ import annotations

import ast
import copy

from swarm.compiler.analysis import (
    ModuleFacts,
    Transformer,
    children,
    located,
    name,
    support,
    walk,
)
from swarm.compiler.errors import error_at
from swarm.compiler.points import InlineComp

CONSUME_ALL = frozenset({"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max",
                         "dict"})
DISPLAY_NAMES = {"lambda": "<lambda>", "listcomp": "<listcomp>", "setcomp": "<setcomp>",
                 "dictcomp": "<dictcomp>", "genexpr": "<genexpr>", "any": "<genexpr>",
                 "all": "<genexpr>"}


#: statements without a block: nothing to desugar unless a lambda or comprehension starts
#: on a line they span
_SIMPLE = frozenset({ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return,
                     ast.Delete, ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Pass,
                     ast.Break, ast.Continue, ast.Global, ast.Nonlocal})


class Desugar:
    """The desugaring pass: lambdas and comprehensions holding calls lifted into defs,
    zero-argument super() made explicit, classes marked as the program's own."""

    def __init__(self, facts: ModuleFacts, filename: str) -> None:
        self.facts = facts
        self.filename = filename
        self.at_module = True
        # the enclosing function's locals that are bound for certain where a statement runs,
        # and may be handed to a lifted comprehension by value (see _comprehension)
        self.bound: set[str] = set()
        # the enclosing function, whose names deleted or rebound by a nested scope are
        # never handed by value (`unsure`: found when a comprehension first asks)
        self.function: ast.FunctionDef | None = None
        self._unsure: set[str] | None = None
        self.nested_in_functions = False  # a def, class or lambda inside a function?
        self.track_bound = False  # keep `bound` (in a function where a comprehension starts)

    @property
    def unsure(self) -> set[str]:
        """Names of the enclosing function that may be unbound or change behind a
        comprehension's back (_unsure_names). Discussion: a walk of the whole function,
        made only for the functions holding a comprehension that is lifted (most hold
        none): it was a walk of every function, nested ones again, 6% of compiling."""
        if self._unsure is None:
            self._unsure = _unsure_names(self.function) if self.function is not None else set()
        return self._unsure

    # statements -------------------------------------------------------------------------------
    def body(self, stmts: list[ast.stmt], in_class: bool = False,
             binds: set[str] | None = None) -> list[ast.stmt]:
        """The statements desugared; `binds`: names bound for certain on entering them (a
        `for` loop's target in its body)."""
        out: list[ast.stmt] = []
        saved = self.bound
        track = self.track_bound
        if track:
            self.bound = saved | (binds or set())  # what a block binds stays in it
        hides = self.facts.may_hide_functions
        for stmt in stmts:
            cls = type(stmt)
            if in_class and cls is not ast.FunctionDef and cls is not ast.ClassDef:
                out.append(stmt)  # class-body statements run natively
                continue
            if cls in _SIMPLE and not hides(stmt):
                out.append(stmt)  # nothing to lift in it
            else:
                out.extend(self.stmt(stmt, []))
            if track:
                self.bound |= _binds_for_certain(stmt)
        self.bound = saved
        return out

    def function_body(self, fn: ast.FunctionDef) -> list[ast.stmt]:
        """A function's body, its parameters bound."""
        saved = self.at_module, self.bound, self.function, self._unsure, self.track_bound
        if not self.at_module or self.facts.may_hold_lambda(fn):
            self.nested_in_functions = True
        self.at_module = False
        self.function, self._unsure = fn, None
        self.bound = set()
        # Discussion: what is bound is asked only by a comprehension lifted in a function
        # (_comprehension); a function none starts in does not keep count
        self.track_bound = self.facts.may_hide_functions(fn)
        # (the unsure names are left out where the bound ones are used: _comprehension)
        body = self.body(fn.body, binds=_parameters(fn.args))
        self.at_module, self.bound, self.function, self._unsure, self.track_bound = saved
        return body

    def stmt(self, stmt: ast.stmt, lifted: list[ast.stmt]) -> list[ast.stmt]:
        if isinstance(stmt, ast.FunctionDef):
            self._rewrite_super(stmt)
            stmt.body = self.function_body(stmt)
            return [stmt]
        if isinstance(stmt, ast.ClassDef):
            if not self.at_module:
                self.nested_in_functions = True
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef):
                    item.sw_method_of = stmt.name
            stmt.body = self.body(stmt.body, in_class=True)
            return [stmt, _own_class(stmt)]
        expr_lifter = _Lifter(self, lifted)
        hides = self.facts.may_hide_functions
        for field, value in ast.iter_fields(stmt):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                loop_binds = _target_names(stmt.target) \
                    if isinstance(stmt, ast.For) and field == "body" else None
                setattr(stmt, field, self.body(value, binds=loop_binds))
            elif isinstance(value, list):
                new = []
                for item in value:
                    if isinstance(item, ast.ExceptHandler):
                        item.body = self.body(item.body)
                        if item.type is not None:
                            item.type = expr_lifter.visit(item.type)
                        new.append(item)
                    elif isinstance(item, ast.match_case):
                        item.body = self.body(item.body)
                        new.append(item)
                    elif isinstance(item, ast.AST) and hides(item):
                        new.append(expr_lifter.visit(item))
                    else:
                        new.append(item)
                setattr(stmt, field, new)
            elif isinstance(value, ast.AST) and hides(value):
                setattr(stmt, field, expr_lifter.visit(value))
        return lifted + [stmt]

    def _rewrite_super(self, fn: ast.FunctionDef) -> None:
        if (not self.facts.mentions_super or not getattr(fn, "sw_method_of", None)
                or not (fn.args.posonlyargs or fn.args.args)):
            return
        first = (fn.args.posonlyargs + fn.args.args)[0].arg
        for node in _walk_same_function(fn):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "super" and not node.args and not node.keywords):
                node.args = [located(name("__class__"), node), located(name(first), node)]

    # lifting ----------------------------------------------------------------------------------
    def lift_function(self, kind: str, args: ast.arguments, body: list[ast.stmt],
                      like: ast.AST, lifted: list[ast.stmt]) -> str:
        fname = self.facts.temp(kind + "_")
        if self.at_module:
            self.facts.lifted_at_module = True  # (its name a temp of the top level: hiding.py)
        fn = ast.FunctionDef(name=fname, args=args, body=body, decorator_list=[], returns=None,
                             type_comment=None)
        located(fn, like)
        fn.body = self.function_body(fn)
        lifted.append(fn)
        return fname


def _own_class(cls: ast.ClassDef) -> ast.stmt:
    """`__swarm_support__.own_class(C, __swarm_module__)` after `class C`: the codec then knows
    the class is this module's (pickled with it by value, C pickler), even when none of its
    attributes is a compiled function."""
    call = ast.Call(func=support("own_class"), args=[name(cls.name), name("__swarm_module__")],
                    keywords=[])
    call.sw_safe = True
    return located(ast.Expr(value=call), cls)


def _walk_same_function(fn: ast.FunctionDef):
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        yield node
        for child in children(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                      ast.Lambda)):
                todo.append(child)


def _args(*params: str) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _target_names(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(e) for e in target.elts))
    return set()


def _binds_for_certain(stmt: ast.stmt) -> set[str]:
    """The names a simple statement has bound once it completed."""
    if isinstance(stmt, ast.Assign):
        return set().union(*(_target_names(t) for t in stmt.targets))
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
        return _target_names(stmt.target)
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    return set()


def _parameters(a: ast.arguments) -> set[str]:
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    return names | {x.arg for x in (a.vararg, a.kwarg) if x is not None}


def _unsure_names(fn: ast.FunctionDef) -> set[str]:
    """Names of `fn` that may be unbound or change behind a comprehension's back: deleted
    anywhere in it, declared global in it, or nonlocal in a scope nested in it."""
    out: set[str] = set()
    for node in walk(fn):
        if isinstance(node, ast.Delete):
            for t in node.targets:
                out |= _target_names(t)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out |= set(node.names)
    return out


class _Lifter(Transformer):
    """Rewrites one statement's expressions, appending lifted defs to `lifted`."""

    def __init__(self, desugar: Desugar, lifted: list[ast.stmt]) -> None:
        self.d = desugar
        self.lifted = lifted

    def _suspends(self, node) -> bool:
        return self.d.facts.has_suspending_call(node)

    def visit_Lambda(self, node: ast.Lambda):
        if not self._suspends(node.body):
            return node
        ret = located(ast.Return(value=node.body), node)
        fname = self.d.lift_function("lambda", node.args, [ret], node, self.lifted)
        return located(name(fname), node)

    def visit_Call(self, node: ast.Call):
        # a generator expression consumed whole by a builtin: build a list instead
        if (len(node.args) >= 1 and isinstance(node.args[0], ast.GeneratorExp)
                and self._suspends(node.args[0])):
            gen = node.args[0]
            func = node.func
            consumer = None
            if isinstance(func, ast.Name) and self.d.facts.is_builtin(func.id):
                consumer = func.id
            elif isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1:
                consumer = "join"
            if consumer in CONSUME_ALL or consumer == "join":
                node.args[0] = self._comprehension("listcomp", gen)
                node.func = self.visit(node.func)
                node.args[1:] = [self.visit(a) for a in node.args[1:]]
                node.keywords = [self.visit(k) for k in node.keywords]
                return node
            if consumer in ("any", "all") and len(node.args) == 1 and not node.keywords:
                return self._comprehension(consumer, gen)
        return self.generic_visit(node)

    def visit_ListComp(self, node):
        return self._comprehension("listcomp", node) if self._suspends(node) else node

    def visit_SetComp(self, node):
        return self._comprehension("setcomp", node) if self._suspends(node) else node

    def visit_DictComp(self, node):
        return self._comprehension("dictcomp", node) if self._suspends(node) else node

    def visit_GeneratorExp(self, node):
        return self._comprehension("genexpr", node) if self._suspends(node) else node

    def _comprehension(self, kind: str, node) -> ast.expr:
        """Lift `[elt for t in it if c ...]` into `def f(it0): ...` and return `f(it)`; in a
        function, a list, set or dict comprehension becomes a loop of the function instead
        (`_inline`)."""
        inline = self._inline(kind, node)
        if inline is not None:
            return inline
        gens = node.generators
        first_iter = self.visit(gens[0].iter)
        param = "_sw_iter"
        result = "_sw_result"
        if kind == "listcomp":
            inner = [_safe_call_stmt(result, "append", [node.elt], node)]
            init = ast.List(elts=[], ctx=ast.Load())
        elif kind == "setcomp":
            inner = [_safe_call_stmt(result, "add", [node.elt], node)]
            init = ast.Call(func=name("set"), args=[], keywords=[])
            init.sw_safe = True
        elif kind == "dictcomp":
            key = "_sw_key"
            inner = [ast.Assign(targets=[name(key, ast.Store())], value=node.key),
                     ast.Assign(targets=[ast.Subscript(value=name(result), slice=name(key),
                                                       ctx=ast.Store())], value=node.value)]
            init = ast.Dict(keys=[], values=[])
        elif kind == "genexpr":
            inner = [ast.Expr(value=ast.Yield(value=node.elt))]
            init = None
        elif kind == "any":
            inner = [ast.If(test=node.elt, body=[ast.Return(value=ast.Constant(True))],
                            orelse=[])]
            init = None
        else:  # all
            inner = [ast.If(test=ast.UnaryOp(op=ast.Not(), operand=node.elt),
                            body=[ast.Return(value=ast.Constant(False))], orelse=[])]
            init = None
        body = inner
        for i, gen in reversed(list(enumerate(gens))):
            for cond in reversed(gen.ifs):
                body = [ast.If(test=cond, body=body, orelse=[])]
            it = name(param) if i == 0 else gen.iter
            body = [ast.For(target=gen.target, iter=it, body=body, orelse=[],
                            type_comment=None)]
        if init is not None:
            body = [ast.Assign(targets=[name(result, ast.Store())], value=init)] + body
            body.append(ast.Return(value=name(result)))
        elif kind == "any":
            body.append(ast.Return(value=ast.Constant(False)))
        elif kind == "all":
            body.append(ast.Return(value=ast.Constant(True)))
        walrus = sorted({n.target.id for n in walk(node) if isinstance(n, ast.NamedExpr)})
        if walrus:  # a comprehension's walrus binds in the enclosing scope
            decl = ast.Global if self.d.at_module else ast.Nonlocal
            body.insert(0, decl(names=walrus))
        for stmt in body:
            located(stmt, node)
        # Discussion: a comprehension runs to its end before the function goes on, so the
        # locals it reads that are bound for certain (and that no nested scope rebinds) are
        # handed to it by value. As free variables they would be boxes (scopes.py), and every
        # use of `self` in the function would pay for it. Not for a generator expression: it
        # runs later, and must see the variables as they are then.
        passed = []
        if not self.d.at_module and kind != "genexpr":
            own = set(walrus).union(*(_target_names(g.target) for g in gens))
            parts = [getattr(node, f) for f in ("elt", "key", "value") if hasattr(node, f)]
            parts += [c for g in gens for c in g.ifs] + [g.iter for g in gens[1:]]
            reads = {n.id for part in parts for n in walk(part)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            passed = sorted((reads - own) & (self.d.bound - self.d.unsure))
        fname = self.d.lift_function(kind, _args(param, *passed), body, node, self.lifted)
        if walrus:
            self.lifted[-1].sw_binds_outer = walrus
        call = ast.Call(func=name(fname), args=[first_iter] + [name(p) for p in passed],
                        keywords=[])
        return located(call, node)


    def _inline(self, kind: str, node) -> InlineComp | None:
        """`[elt for t in it if c]` in a function -> InlineComp: `_sw_cr = []; for _sw_cvN_t
        in it: if c: _sw_cr.append(elt)`, the comprehension's variables renamed (they are
        its own, not the function's); None where it stays a function of its own: at a
        module's top level (its variables would be globals), for `any`/`all` and generator
        expressions (they stop early or run later), and when a lambda or generator
        expression inside it could outlive it (it would share the renamed variable with
        every later run of the comprehension).

        Discussion: a comprehension that may suspend must run as a loop whose partial
        result is a variable (a native one keeps it on the value stack). Lifted into a
        function of its own, that loop cost a function made and called each time the
        comprehension runs - for a comprehension nested in another, once per element of
        the outer one - and comprehensions ran 1.3-1.6x slower than CPython's; as a loop
        of the enclosing function they run as fast as CPython's (pyperformance's
        comprehensions 1.35x -> 1.00x, BENCHMARKS.md). Python 3.12 inlines them too (PEP
        709)."""
        if self.d.at_module or kind not in ("listcomp", "setcomp", "dictcomp"):
            return None
        gens = node.generators
        parts = [getattr(node, f) for f in ("elt", "key", "value") if hasattr(node, f)]
        parts += [c for g in gens for c in g.ifs] + [g.iter for g in gens[1:]]
        for part in parts:
            for sub in walk(part):
                if isinstance(sub, (ast.Lambda, ast.GeneratorExp)):
                    return None
        facts = self.d.facts
        renames: dict[str, str] = {}
        for g in gens:
            for ident in sorted(_stored(g.target)):
                if ident not in renames:
                    renames[ident] = f"{facts.temp('cv')}_{ident}"
        for g in gens:
            _rename(g.target, renames)
        for part in parts:
            _rename(part, renames)
        line = node.__dict__.get("lineno", 0)
        result = facts.temp("cr")
        names = {new: f"`{old}` of the comprehension at line {line}"
                 for old, new in renames.items()}
        names[result] = f"the value the comprehension at line {line} is building"
        if kind == "listcomp":
            inner = [_safe_call_stmt(result, "append", [node.elt], node)]
            init = ast.List(elts=[], ctx=ast.Load())
        elif kind == "setcomp":
            inner = [_safe_call_stmt(result, "add", [node.elt], node)]
            init = ast.Set(elts=[ast.Starred(value=ast.Tuple(elts=[], ctx=ast.Load()),
                                             ctx=ast.Load())])  # {*()}: `set` may be rebound
        else:  # the key first (as CPython does), then the value
            key = facts.temp("ck")
            inner = [ast.Assign(targets=[name(key, ast.Store())], value=node.key),
                     ast.Assign(targets=[ast.Subscript(value=name(result), slice=name(key),
                                                       ctx=ast.Store())], value=node.value)]
            init = ast.Dict(keys=[], values=[])
        body = inner
        for gen in reversed(gens):
            for cond in reversed(gen.ifs):
                body = [ast.If(test=cond, body=body, orelse=[])]
            body = [ast.For(target=gen.target, iter=gen.iter, body=body, orelse=[],
                            type_comment=None)]
        stmts = [ast.Assign(targets=[name(result, ast.Store())], value=init)] + body
        for stmt in stmts:
            located(stmt, node)
        out = InlineComp(body=self.d.body(stmts), result=located(name(result), node))
        out.names = names
        return located(out, node)


def _stored(target: ast.expr) -> set[str]:
    """The names a `for` target binds (in tuples, lists and starred parts)."""
    return {n.id for n in walk(target) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)}


_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _rename(node: ast.AST, renames: dict[str, str]) -> None:
    """Rename the variables of `renames` in `node` (in place), except inside a nested
    comprehension that binds the same name again (its first iterable is outside it)."""
    todo = [node]
    while todo:
        n = todo.pop()
        if type(n) is ast.Name:
            new = renames.get(n.id)
            if new is not None:
                n.id = new
        elif isinstance(n, _COMPS):
            _rename(n.generators[0].iter, renames)
            inner = dict(renames)
            for g in n.generators:
                for ident in _stored(g.target):
                    inner.pop(ident, None)
            if inner:
                rest = [getattr(n, f) for f in ("elt", "key", "value") if hasattr(n, f)]
                for i, g in enumerate(n.generators):
                    rest += [g.target] + list(g.ifs) + ([g.iter] if i else [])
                for part in rest:
                    _rename(part, inner)
        else:
            todo.extend(children(n))


def _safe_call_stmt(obj: str, method: str, args, like) -> ast.Expr:
    """`obj.method(*args)`, not a point; `obj` is the comprehension's new list or set, so
    the method may be looked up after the arguments (anf: `stable`) - not once per element
    into a temporary ahead of them."""
    func = ast.Attribute(value=name(obj), attr=method, ctx=ast.Load())
    func.sw_stable = True
    call = ast.Call(func=func, args=args, keywords=[])
    call.sw_safe = True
    return located(ast.Expr(value=call), like)


def desugar_module(tree: ast.Module, facts: ModuleFacts, filename: str) -> ast.Module:
    """Run the desugaring pass over a module (in place; returned for convenience), first
    raising CompileError at the first construct that cannot be compiled for migration."""
    if facts.unsupported is not None:  # found by the walk that made the facts
        node, why = facts.unsupported
        raise error_at(node, why, filename)
    if facts.has_global:  # (a walk of every statement, for the few modules with one)
        hoist_globals(tree)
    desugar = Desugar(facts, filename)
    tree.body = desugar.body(tree.body)
    facts.nested_in_functions = desugar.nested_in_functions
    return tree


class _GlobalHoister(Transformer):
    """Discussion: `global x` holds for the whole function wherever it is written, but a
    resumer re-enters the body in the middle, after statements that use x: a `global` left
    inside a loop body would come after those uses (a SyntaxError). So each function's
    `global` names are declared once, first; at module level the statement means nothing
    and goes."""

    def __init__(self) -> None:
        self.found: list[set[str]] = [set()]

    def visit_Global(self, node):
        self.found[-1].update(node.names)
        return None

    def _scope(self, node):
        self.found.append(set())
        self.generic_visit(node)
        names = self.found.pop()
        if names:
            at = 1 if (node.body and isinstance(node.body[0], ast.Expr)
                       and isinstance(node.body[0].value, ast.Constant)
                       and isinstance(node.body[0].value.value, str)) else 0
            node.body.insert(at, located(ast.Global(names=sorted(names)), node.body[0]))
        return node

    visit_FunctionDef = visit_ClassDef = _scope

    def generic_visit(self, node):
        lists = [(node, f) for f in ("body", "orelse", "finalbody")
                 if getattr(node, f, None)] + [(h, "body") for h in getattr(node, "handlers", ())]
        lists += [(c, "body") for c in getattr(node, "cases", ())]
        for owner, field in lists:  # `global` is a statement: expressions are not walked
            stmts = getattr(owner, field)
            if stmts and isinstance(stmts[0], ast.stmt):
                setattr(owner, field, [r for r in (self.visit(s) for s in stmts)
                                       if r is not None])
        for owner, field in lists:  # a block that held only `global` still needs a statement
            if not getattr(owner, field) and field != "orelse":
                setattr(owner, field, [located(ast.Pass(), node)])
        return node


def hoist_globals(tree: ast.Module) -> None:
    """Move `global` statements to the top of their function or class, drop them at module
    level (in place): see _GlobalHoister."""
    _GlobalHoister().visit(tree)


__all__ = ["desugar_module", "DISPLAY_NAMES", "copy"]
