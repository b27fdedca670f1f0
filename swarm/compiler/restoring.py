"""What a resumer does besides re-entering its function (resumers.py): finding the names to
restore, restoring the ones bound at every point at once, and making a module's defs and
classes again from the module's own code objects."""

from __future__ import annotations

import ast

from swarm.compiler.analysis import children, position_of, walk
from swarm.compiler.points import bound_names

_LOAD, _STORE = ast.Load(), ast.Store()
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_RESUMER_ARGS = {"_sw_k", "_sw_L", "_sw_f", "_sw_a", "_sw_r", "_sw_p"}


def function_locals(fn: ast.FunctionDef) -> set[str]:
    """The local names of a function: its parameters and what it binds, less its
    globals."""
    return function_names(fn)[0]


def defined_again(s: ast.stmt) -> ast.stmt:
    """A module-level `def` or `class` in the module's resumer, made from the code object the
    module's own code has for it: `f = __swarm_compiled__.function(__swarm_module__, "f",
    line, defaults, kw_defaults)`, `C = __swarm_compiled__.build_class(__swarm_module__, "C",
    line, *bases, **keywords)` (decorators left are builtins: applied around it).

    Discussion: a resumer re-enters the module after its point and runs the rest, defs and
    classes included; compiled again in the resumer, each was a second copy of its code (an
    eighth of the suite's compiled output: richards defines its classes after a point). Made
    from the module's own code objects, the functions are also the ones an unresumed run
    makes. Annotated defs keep their copy (CPython's order and stringifying of annotations
    is not spelled out again here)."""
    cls = type(s)
    if cls is not ast.FunctionDef and cls is not ast.ClassDef or s.name.startswith("_sw_"):
        return s  # (lifted defs are renamed by pipeline._fix_names)
    if "lineno" not in s.__dict__ or any("lineno" not in d.__dict__ for d in s.decorator_list):
        return s  # (a translated script's: its code object's line is not known yet)
    if cls is ast.FunctionDef:
        a = s.args
        if s.returns is not None or any(x.annotation is not None for x in [
                *a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x)]):
            return s
        pos = position_of(s)
        defaults = ast.Tuple(elts=list(a.defaults), ctx=_LOAD, **pos) if a.defaults \
            else ast.Constant(value=None, **pos)
        kw = [(x.arg, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
              if d is not None]
        kw_defaults = ast.Dict(keys=[ast.Constant(value=k, **pos) for k, _ in kw],
                               values=[d for _, d in kw], **pos) if kw \
            else ast.Constant(value=None, **pos)
        made = _compiled_call("function", s, [defaults, kw_defaults], [], pos)
    else:
        pos = position_of(s)
        made = _compiled_call("build_class", s, list(s.bases), list(s.keywords), pos)
    for deco in reversed(s.decorator_list):
        made = ast.Call(func=deco, args=[made], keywords=[], **pos)
    return ast.Assign(targets=[ast.Name(id=s.name, ctx=_STORE, **pos)], value=made, **pos)


def _compiled_call(method: str, s, args: list, keywords: list, pos: dict) -> ast.Call:
    """`__swarm_compiled__.<method>(__swarm_module__, name, first line, *args, **keywords)`;
    the first line is the code object's (its first decorator's, if it has any)."""
    line = s.decorator_list[0].lineno if s.decorator_list else s.lineno
    head = [ast.Name(id="__swarm_module__", ctx=_LOAD, **pos),
            ast.Constant(value=s.name, **pos), ast.Constant(value=line, **pos)]
    func = ast.Attribute(value=ast.Name(id="__swarm_compiled__", ctx=_LOAD, **pos),
                         attr=method, ctx=_LOAD, **pos)
    return ast.Call(func=func, args=head + args, keywords=keywords, **pos)


def restore_at_once(idents: list[str], pos: dict) -> ast.Match:
    """`match _sw_L: case {"a": a, "b": b}: pass` - the parameters, restored at once.

    Discussion: a parameter is bound at every point of its function unless the function
    deletes it (`del a`, or `except E as a`, which deletes `a` at the end of the handler),
    so it is always in the saved locals (`locals()` in the function's handler; unwind.py drops
    only compiler temps). One mapping pattern is one MATCH_KEYS over a constant tuple and a
    STORE_FAST per name: 2 nodes and 2 bytes a name, where `if "a" in _sw_L: a =
    _sw_L["a"]` is 14 nodes and 24 bytes."""
    return ast.Match(subject=ast.Name(id="_sw_L", ctx=_LOAD, **pos), cases=[ast.match_case(
        pattern=ast.MatchMapping(keys=[ast.Constant(value=i, **pos) for i in idents],
                                 patterns=[ast.MatchAs(pattern=None, name=i, **pos)
                                           for i in idents], rest=None, **pos),
        guard=None, body=[ast.Pass(**pos)])], **pos)


def function_names(fn: ast.FunctionDef) -> tuple[set[str], set[str], set[str]]:
    """(the function's local names, the names it declares global, the names its own scope
    may unbind - `del x`, `except E as x`): one walk of the function, its own scope, then
    the nested ones for the boxes they pass through it."""
    a = fn.args
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    declared: set[str] = set()
    unbindable: set[str] = set()
    nested: list[ast.AST] = [a, *fn.decorator_list] + ([fn.returns] if fn.returns else [])
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        cls = type(node)
        if cls is ast.Name:
            ident = node.id
            ctx = type(node.ctx)
            if ctx is not ast.Load or ident.startswith("_sw_box_") \
                    or ident == "__class__":  # free variables: boxes, __class__ for super()
                names.add(ident)
                if ctx is ast.Del:
                    unbindable.add(ident)
            continue
        if cls in _SCOPES:  # not entered here; they may pass boxes through this frame
            if cls is not ast.Lambda and cls is not ast.AsyncFunctionDef:
                names.add(node.name)
            nested.append(node)
            continue
        if cls is ast.ExceptHandler and node.name:
            names.add(node.name)
            unbindable.add(node.name)
        elif cls is ast.Import or cls is ast.ImportFrom:
            names |= {(x.asname or x.name).split(".")[0] for x in node.names if x.name != "*"}
        elif cls is ast.Global:
            declared.update(node.names)
        todo += children(node)
    for part in nested:  # a nested function's free boxes pass through this frame
        for node in walk(part):
            if type(node) is ast.Name and node.id.startswith("_sw_box_"):
                names.add(node.id)
    names -= _RESUMER_ARGS
    return names - declared, declared, unbindable


def module_globals(tree: ast.Module) -> set[str]:
    """The names a module's top level binds."""
    return bound_names(tree.body)[0]
