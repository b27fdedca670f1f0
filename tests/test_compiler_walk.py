"""The compiler's own tree walk and the shortcuts that made compiling faster (issue 15 item 17):
`analysis.children` skips fields that never hold a node, the walk filling in missing
positions runs only when compile() finds one missing, the collector is paused meanwhile."""

import ast
import gc
import inspect
import traceback

import pytest

from swarm.compiler import compile_source, pipeline
from swarm.compiler.analysis import walk
from swarm.compiler.pipeline import compile_module, translators
from swarm.compiler.registry import new_module_instance

LEAVES = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)

EVERY_FIELD = '''
import os.path as p, sys
from . import x as y
def f(a, /, b=1, *c, d, e=2, **g) -> int:
    global q
    nonlocal_free = lambda h=3: h
    {**g, 1: 2}; {1, 2}; [i for i in c if i]; {k: v for k, v in g.items()}
    yield from (i async for i in c) if False else ()
    x = f"{a!r:>{b}}" + b"\\x00"[0:1:1]
    x += -a if not b else ~a
    y: int = 1 < a <= 2 is not None
    with open(p) as fh, open(p):
        del x
    try:
        raise ValueError from None
    except (ValueError, TypeError) as err:
        pass
    else:
        assert a, b
    finally:
        pass
    match a:
        case [1, *rest] | {"k": 2, **more}:
            pass
        case Point(1, y=2) as pt if pt:
            pass
        case None:
            pass
    while a and b or c:
        break
    else:
        continue
    return (yield a), a.b[c], f(*c, **g), await_ if True else None
class C(Base, metaclass=M):
    @dec
    async def m(self):
        async with a as b:
            async for i in b:
                await i
'''


def _compare(source: str) -> None:
    tree = ast.parse(source)
    expected = {id(n) for n in ast.walk(tree) if not isinstance(n, LEAVES)}
    found = [id(n) for n in walk(tree)]
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_children_reaches_every_node_but_contexts_and_operators():
    _compare(EVERY_FIELD)
    _compare(inspect.getsource(ast))
    _compare(inspect.getsource(traceback))


def test_a_tree_without_positions_still_compiles(monkeypatch):
    """A translator may give no positions at all: compile() refuses such a tree, and the
    pipeline then fills them in from the parents and compiles again."""
    def translate(source: str, filename: str) -> ast.Module:
        tree = ast.parse(source)
        for n in ast.walk(tree):
            for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                n.__dict__.pop(a, None)
        return tree

    monkeypatch.setenv("SWARM_COMPILE_CACHE", "off")
    monkeypatch.setitem(translators, ".nopos", translate)
    compiled = compile_source("def f(x):\n    return g(x) + 1\n\ndef g(y):\n    return y\n"
                              "r = f(2)\n", "prog.nopos", "prog_nopos")
    assert compiled.points  # the calls of f and g are points: handlers and resumers made
    module = new_module_instance("prog_nopos", compiled.source_hash, filename="prog.nopos")
    exec(compiled.code, module.__dict__)
    assert module.r == 3


def test_a_node_a_pass_leaves_without_position_is_filled_in():
    """The fallback itself: compile() of a tree with one unpositioned node succeeds."""
    tree = ast.parse("x = 1\ny = x + 1\n")
    tree.body.append(ast.Assign(targets=[ast.Name(id="z", ctx=ast.Store())],
                                value=ast.Name(id="y", ctx=ast.Load())))
    namespace: dict = {}
    exec(pipeline._compile(tree, "prog.py"), namespace)
    assert namespace["z"] == 2


def test_a_node_cpython_does_not_know_is_an_internal_error():
    from swarm.compiler.errors import InternalCompilerError
    from swarm.compiler.points import Point
    tree = ast.parse("x = 1\n")
    tree.body.append(Point(stmt=tree.body[0]))
    with pytest.raises(InternalCompilerError):
        pipeline._compile(tree, "prog.py")


def test_the_collector_is_left_as_it_was():
    assert gc.isenabled()
    compile_module("def f():\n    return g()\n", "prog.py", "prog")
    assert gc.isenabled()
    gc.disable()
    try:
        compile_module("def f():\n    return g()\n", "prog.py", "prog")
        assert not gc.isenabled()
    finally:
        gc.enable()
