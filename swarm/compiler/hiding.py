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

Left visible: the name an `except ... as` clause the compiler made binds (a name, not a
target: CPython deletes it when the handler is left), and temporaries of class bodies (a
class body holds no point).
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import TEMP_PREFIX, position_of

TEMPS = "__swarm_temps__"

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_LOAD, _STORE, _DEL = ast.Load(), ast.Store(), ast.Del()


def module_temps(body: list[ast.stmt]) -> set[str]:
    """The compiler's names the module's top level binds or reads (its defs' and classes'
    bodies are other scopes), less the names `except ... as` clauses bind."""
    found: set[str] = set()
    handlers: set[str] = set()
    todo: list = list(body)
    pop, push = todo.pop, todo.extend
    while todo:
        n = pop()
        cls = type(n)
        if cls is ast.Name:
            if n.id.startswith(TEMP_PREFIX) and not n.id.startswith("_sw_box_"):
                found.add(n.id)
            continue
        if cls in _SCOPES:
            if cls is not ast.Lambda and n.name.startswith(TEMP_PREFIX):
                found.add(n.name)
            push(_outside(n))
            continue
        if cls is ast.ExceptHandler and n.name:
            handlers.add(n.name)
        push(ast.iter_child_nodes(n))
    return found - handlers


def hide(body: list[ast.stmt], temps: set[str], seen: set[int],
         dir_builtin: bool) -> list[ast.stmt]:
    """`body` (a module's, or its resumer's) with each of `temps` an item of the
    `__swarm_temps__` dict, and `dir()`, `locals()`, `vars()` the module's namespace (in
    the resumer, a function, they were its own); statements in `seen` (shared with a body
    done before) are done already."""
    out: list[ast.stmt] = []
    for s in body:
        cls = type(s)
        if cls is ast.Global:
            names = [n for n in s.names if n not in temps]
            if names:
                s.names = names
                out.append(s)
            continue
        if cls is ast.ImportFrom and s.names[0].name == "*" and id(s) not in seen:
            _import_star(s)
        out.append(s)
        if cls in _SCOPES and s.name in temps:  # a lifted def: kept in the dict
            pos = position_of(s)
            out.append(ast.Assign(targets=[_item(s.name, _STORE, pos)],
                                  value=ast.Name(id=s.name, ctx=_LOAD, **pos), **pos))
            out.append(ast.Delete(targets=[ast.Name(id=s.name, ctx=_DEL, **pos)], **pos))
        if id(s) in seen:
            continue
        seen.add(id(s))
        _visit(s, temps, seen, dir_builtin)
    return out


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


def _item(ident: str, ctx, pos: dict) -> ast.Subscript:
    return ast.Subscript(value=ast.Name(id=TEMPS, ctx=_LOAD, **pos),
                         slice=ast.Constant(value=ident, **pos), ctx=ctx, **pos)


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _visit(node: ast.AST, temps: set[str], seen: set[int], dir_builtin: bool) -> None:
    """Each Name of `temps` under `node`, in this scope, made an item of the dict (in place:
    statements are shared between a module's code and its resumer); `dir()`, `locals()`,
    `vars()` outside comprehensions (scopes of their own) made the module's namespace."""
    todo = [node]
    inner: set[int] = set()  # ids of nodes inside a comprehension's own scope
    pop = todo.pop
    while todo:
        n = pop()
        cls = type(n)
        if cls is ast.Name:
            if n.id in temps:
                ident, ctx = n.id, n.ctx
                pos = position_of(n)
                del n.id
                n.__class__ = ast.Subscript
                n.value = ast.Name(id=TEMPS, ctx=_LOAD, **pos)
                n.slice = ast.Constant(value=ident, **pos)
                n.ctx = ctx
            continue
        if cls in _SCOPES:
            todo += _outside(n)
            continue
        if cls is ast.Call and id(n) not in inner:
            _module_namespace(n, dir_builtin)
            if type(n) is not ast.Call:
                continue  # (became `__swarm_module__.__dict__`)
        if cls in _COMPREHENSIONS or id(n) in inner:
            outer_iter = n.generators[0].iter if cls in _COMPREHENSIONS else None
            for child in ast.iter_child_nodes(n):
                if child is not outer_iter:
                    inner.add(id(child))
        for field, value in ast.iter_fields(n):
            if type(value) is list:
                if value and isinstance(value[0], ast.stmt):
                    setattr(n, field, hide(value, temps, seen, dir_builtin))
                else:
                    todo += [v for v in value if isinstance(v, ast.AST)]
            elif isinstance(value, ast.AST):
                todo.append(value)


def _module_namespace(call: ast.Call, dir_builtin: bool) -> None:
    """`dir()` -> `dir(__swarm_module__)`; `__swarm_support__.user_locals(locals())` (the
    A-normal form's `locals()` and `vars()`) -> `__swarm_module__.__dict__`: at a module's
    top level they are the module's globals - the dict itself, as CPython gives it."""
    func = call.func
    pos = position_of(call)
    if type(func) is ast.Name:
        if func.id == "dir" and dir_builtin and not call.args and not call.keywords:
            call.args = [ast.Name(id="__swarm_module__", ctx=_LOAD, **pos)]
        return
    if (type(func) is ast.Attribute and func.attr == "user_locals"
            and type(func.value) is ast.Name and func.value.id == "__swarm_support__"):
        del call.func, call.args, call.keywords
        call.__class__ = ast.Attribute
        call.value = ast.Name(id="__swarm_module__", ctx=_LOAD, **pos)
        call.attr = "__dict__"
        call.ctx = _LOAD


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
