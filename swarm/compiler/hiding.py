"""The last pass over a module's top level: its compiler temporaries kept out of its globals.

At a module's top level a temporary (`_sw_t12 = print`, `_sw_it7 = iter(xs)`, a lifted
`def _sw_listcomp_1`) would be a global like any other name: seen by `globals()`, `dir()`,
`vars(module)` and whatever iterates them, and CPython shows none. They live instead in one
dict, the global `__swarm_temps__` (a dunder, as `__swarm_support__` is), made by the
module's first statement: `_sw_t12` becomes `__swarm_temps__['_sw_t12']`, in the module's
code and in its resumer (whose `global` statement no longer names them). The dict is a
global, so it travels with the module's other globals when the program migrates at a
top-level point, and the runtime reads temporaries there: the capture's dead-temp drop
(unwind.py), a point's callee (stackcheck.named), a top-level loop's iterator
(collections.py).

The same walk makes `dir()`, `locals()` and `vars()` there the module's namespace (in the
resumer, a function, they were its own locals), and `from m import *` a call of
`__swarm_support__.import_star` (CPython refuses `import *` in a function: the resumer).

Left visible: the names an `except ... as` clause the compiler made binds (`_sw_exc3`,
`_sw_wexc5`: names, not targets; CPython deletes them when the handler is left), and
temporaries of class bodies (a class body holds no point).
"""

from __future__ import annotations

import ast
import re

from swarm.compiler.analysis import (
    CHILDREN,
    TEMP_PREFIX,
    children_function,
    no_children,
    position_of,
)

TEMPS = "__swarm_temps__"

_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp})
_HANDLER_NAME = re.compile(r"_sw_\w*exc\d+")  # lower.py, anf_compound.py: `except ... as`
_LOAD, _STORE, _DEL = ast.Load(), ast.Store(), ast.Del()


class TopLevel:
    """One module's top-level rewrite: `run` over the module's body, then over its
    resumer's (which shares statements with it: each is rewritten once, in place)."""

    def __init__(self, dir_builtin: bool) -> None:
        self.dir_builtin = dir_builtin
        self.temps: set[str] = set()  # the module's, found in its body (the resumer's too)
        self.seen: set[int] = set()

    def run(self, body: list[ast.stmt], module: bool) -> list[ast.stmt]:
        """`body` rewritten; `module`: the module's own (temps found there), else its
        resumer's (only the temps found in the module's are rewritten)."""
        holder = ast.Module(body=body, type_ignores=[])
        lifted: list[tuple[ast.AST, ast.AST]] = []  # (parent, lifted def) to keep in the dict
        temps, seen, dir_builtin = self.temps, self.seen, self.dir_builtin
        # Discussion: two stacks, the nodes outside comprehensions and those inside (where
        # a `dir()` is the comprehension's own): a (node, inside) pair per node, and a list
        # display to make them, were half of this walk. The order of the walk does not
        # matter: each node's rewrite depends on the node alone (and `temps`, which only the
        # module's own run adds to, from names alone)
        outer: list = list(body)
        inner: list = []
        get = CHILDREN.get
        Name, Call, stmt = ast.Name, ast.Call, ast.stmt
        parents: dict[int, ast.AST] = {id(s): holder for s in body}
        while outer or inner:
            inside = not outer
            n = inner.pop() if inside else outer.pop()
            cls = type(n)
            if cls is Name:
                ident = n.id
                if ident in temps or (module and ident.startswith(TEMP_PREFIX)
                                      and not ident.startswith("_sw_box_")
                                      and not _HANDLER_NAME.fullmatch(ident)):
                    temps.add(ident)
                    _make_item(n, ident)
                continue
            todo = inner if inside else outer
            if cls in _SCOPES:
                if cls is not ast.Lambda and (n.name in temps or (
                        module and n.name.startswith(TEMP_PREFIX))):
                    temps.add(n.name)
                    lifted.append((parents[id(n)], n))
                todo += _outside(n)
                continue
            if isinstance(n, stmt):
                if id(n) in seen:
                    continue
                seen.add(id(n))
                if cls is ast.ImportFrom and n.names[0].name == "*":
                    _import_star(n)
                    continue
                if cls is ast.Global:  # (in a resumer: the module's names it binds)
                    n.names = [x for x in n.names if x not in temps]
                    if not n.names:
                        del n.names
                        n.__class__ = ast.Pass
                    continue
            elif cls is Call and not inside:
                if _module_namespace(n, dir_builtin):
                    continue  # (became `__swarm_module__.__dict__`)
            fn = get(cls) or children_function(cls)
            if fn is no_children:
                continue
            kids = fn(n)
            if cls in _COMPREHENSIONS:  # its own scope, but for its first iterable
                first = n.generators[0]
                todo.append(first.iter)
                inner += [k for k in kids if k is not first]
                inner += (first.target, *first.ifs)
                continue
            for k in kids:
                if type(k) in _SCOPES:
                    parents[id(k)] = n
            todo += kids
        for parent, fn in lifted:
            _keep_in_dict(parent, fn)
        return holder.body


def first_statement(body: list[ast.stmt]) -> int:
    """Where `__swarm_temps__ = {}` goes: after the docstring and `from __future__`
    imports (which must come first)."""
    i = 0
    if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant \
            and isinstance(body[0].value.value, str):
        i = 1
    while i < len(body) and type(body[i]) is ast.ImportFrom and body[i].module == "__future__":
        i += 1
    return i


def make_dict(like: ast.AST) -> ast.stmt:
    """`__swarm_temps__ = {}`"""
    pos = position_of(like)
    return ast.Assign(targets=[ast.Name(id=TEMPS, ctx=_STORE, **pos)],
                      value=ast.Dict(keys=[], values=[], **pos), **pos)


def _make_item(n: ast.Name, ident: str) -> None:
    """`_sw_t1` -> `__swarm_temps__['_sw_t1']`, in place (statements are shared between a
    module's code and its resumer)."""
    ctx = n.ctx
    pos = position_of(n)
    del n.id
    n.__class__ = ast.Subscript
    n.value = ast.Name(id=TEMPS, ctx=_LOAD, **pos)
    n.slice = ast.Constant(value=ident, **pos)
    n.ctx = ctx


def _keep_in_dict(parent: ast.AST, fn: ast.AST) -> None:
    """After a lifted `def _sw_listcomp_1` at the top level: `__swarm_temps__[name] = name;
    del name`."""
    pos = position_of(fn)
    keep = [ast.Assign(targets=[ast.Subscript(value=ast.Name(id=TEMPS, ctx=_LOAD, **pos),
                                              slice=ast.Constant(value=fn.name, **pos),
                                              ctx=_STORE, **pos)],
                       value=ast.Name(id=fn.name, ctx=_LOAD, **pos), **pos),
            ast.Delete(targets=[ast.Name(id=fn.name, ctx=_DEL, **pos)], **pos)]
    lists = [parent.body] if type(parent) is ast.Module else _stmt_lists(parent)
    for block in lists:
        for i, s in enumerate(block):
            if s is fn:
                block[i + 1:i + 1] = keep
                return


def _stmt_lists(node: ast.AST) -> list[list[ast.stmt]]:
    out = [v for f in ("body", "orelse", "finalbody")
           if type(v := getattr(node, f, None)) is list]
    out += [h.body for h in getattr(node, "handlers", ())]
    return out + [c.body for c in getattr(node, "cases", ())]


def _module_namespace(call: ast.Call, dir_builtin: bool) -> bool:
    """`dir()` -> `dir(__swarm_module__)`; `__swarm_support__.user_locals(locals())` (the
    A-normal form's `locals()` and `vars()`) -> `__swarm_module__.__dict__` (True): at a
    module's top level they are the module's globals - the dict itself, as CPython gives."""
    func = call.func
    pos = position_of(call)
    if type(func) is ast.Name:
        if func.id == "dir" and dir_builtin and not call.args and not call.keywords:
            call.args = [ast.Name(id="__swarm_module__", ctx=_LOAD, **pos)]
        return False
    if (type(func) is ast.Attribute and func.attr == "user_locals"
            and type(func.value) is ast.Name and func.value.id == "__swarm_support__"):
        del call.func, call.args, call.keywords
        call.__class__ = ast.Attribute
        call.value = ast.Name(id="__swarm_module__", ctx=_LOAD, **pos)
        call.attr = "__dict__"
        call.ctx = _LOAD
        return True
    return False


def _import_star(s: ast.ImportFrom) -> None:
    """`from m import *` -> `__swarm_support__.import_star(__swarm_module__.__dict__, 'm',
    level)`, in place: the module's resumer is a function, where CPython refuses it."""
    pos = position_of(s)
    namespace = ast.Attribute(value=ast.Name(id="__swarm_module__", ctx=_LOAD, **pos),
                              attr="__dict__", ctx=_LOAD, **pos)
    call = ast.Call(func=ast.Attribute(value=ast.Name(id="__swarm_support__", ctx=_LOAD, **pos),
                                       attr="import_star", ctx=_LOAD, **pos),
                    args=[namespace, ast.Constant(value=s.module or "", **pos),
                          ast.Constant(value=s.level or 0, **pos)], keywords=[], **pos)
    del s.module, s.names, s.level
    s.__class__ = ast.Expr
    s.value = call


def _outside(scope: ast.AST) -> list[ast.AST]:
    """The parts of a def, lambda or class evaluated in the enclosing scope."""
    parts = list(getattr(scope, "decorator_list", ()))
    args = getattr(scope, "args", None)
    if args is not None:
        parts += list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    return parts + list(getattr(scope, "bases", ())) + list(getattr(scope, "keywords", ()))
