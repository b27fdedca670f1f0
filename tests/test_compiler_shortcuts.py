"""The compiler's shortcuts (issue 15 item 17, compile time): passes skipped when the module
gives them nothing to do, statements the A-normal form leaves alone, children() made from the
grammar. Each shortcut must change nothing: the same module compiled with every shortcut turned
off gives the same code, resumers, points and live temps."""

import ast
import inspect
import marshal
import textwrap
import traceback
from pathlib import Path

import pytest

from swarm.compiler import anf, anf_exprs, desugar, lower, mangle, pipeline, points, resumers
from swarm.compiler.analysis import ModuleFacts, _generic_children, children
from swarm.compiler.pipeline import build_resumers, compile_module

CORPUS = Path(__file__).parent / "corpus"

#: what each shortcut looks for, in the places it could miss it
TRICKY = {
    "private names in a class in a function": '''
def make():
    class Box:
        def __init__(self, v):
            self.__v = v
        def get(self):
            return step(self.__v)
    return Box(1).get()
def step(x):
    return x
r = make()
''',
    "a variable shared with a nested def, a lambda and a class": '''
def outer(n):
    total = 0
    def add(k):
        nonlocal total
        total += step(k)
    key = lambda r: step(r) + n
    class Holder:
        size = n
    for i in range(n):
        add(i)
    return total, key(1), Holder.size
def step(x):
    return x
r = outer(3)
''',
    "a lifted lambda read as a value, a walrus in a comprehension": '''
def f(rows):
    key = lambda r: step(r[1])
    best = sorted(rows, key=key)
    got = [y for x in rows if (y := step(x[0]))]
    return best, got, y
def step(x):
    return x
r = f([(1, 2), (3, 1)])
''',
    "global in a loop, super(), locals() beside a point": '''
count = 0
class A:
    def m(self):
        return 1
class B(A):
    def m(self):
        global count
        for i in range(2):
            global count
            count += step(i)
        v = step(super().m())
        seen = locals()
        return v + len(seen)
def step(x):
    return x
r = B().m()
''',
    "a walrus and a yield inside expressions, a comprehension's walrus": '''
def gen(xs):
    total = 0
    for x in xs:
        if (y := step(x)) > 1:
            total += y
        got = step((yield y)) or 0
        total += got
    return total
def f(rows):
    n = [w for r in rows if (w := step(r))]
    k = 0
    while (k := k + step(1)) < 3:
        pass
    return n, w, k
def step(x):
    return x if x is not None else 0
r = list(gen([1, 2, 3])), f([1, 2])
''',
    "no shortcut applies": '''
import math
def f(x):
    y = x * 2
    if y > 3:
        return math.sqrt(y)
    return y
r = f(2)
''',
}


def _sources():
    out = dict(TRICKY)
    for path in sorted(CORPUS.glob("*.py"))[::7]:
        out[path.name] = path.read_text()
    out["textwrap"] = inspect.getsource(textwrap)
    return out


def _digest(source: str, name: str):
    compiled = compile_module(source, f"{name}.py", name)
    resumers = build_resumers(compiled)
    return (marshal.dumps(compiled.code),
            [(p, marshal.dumps(resumers[p])) for p in sorted(resumers)],
            sorted(compiled.points.items()), sorted(compiled.temp_names.items()),
            sorted((p, sorted(t)) for p, t in compiled.all_live_temps().items()),
            sorted(compiled.sites.items()))


@pytest.fixture
def no_shortcuts(monkeypatch):
    """Every shortcut turned off: every pass runs over everything."""
    real_desugar = pipeline.desugar_module

    def desugar_everything(tree, facts, filename):
        facts.has_global = facts.mentions_super = True
        real_desugar(tree, facts, filename)
        facts.nested_in_functions = True

    def turn_off():
        monkeypatch.setattr(pipeline, "_may_have_private_names", lambda source, filename: True)
        monkeypatch.setattr(pipeline, "desugar_module", desugar_everything)
        monkeypatch.setattr(anf.Linearizer, "_quiet", lambda self, s: False)
        monkeypatch.setattr(desugar, "_SIMPLE", frozenset())
        monkeypatch.setattr(ModuleFacts, "may_hide_functions", lambda self, e: True)
        monkeypatch.setattr(anf_exprs, "_plain", lambda e: False)
        monkeypatch.setattr(points, "SHAPES", {})  # every statement walked whole
        monkeypatch.setattr(resumers, "_NO_BLOCK", frozenset())
        monkeypatch.setattr(lower, "_NO_BLOCK", frozenset())
        monkeypatch.setattr(pipeline, "mangle_private_names",
                            lambda tree: mangle._Mangler().visit(tree))
    return turn_off


@pytest.mark.parametrize("name", sorted(_sources()))
def test_a_shortcut_changes_nothing(name, no_shortcuts):
    source = _sources()[name]
    module = "m_" + "".join(c if c.isalnum() else "_" for c in name)
    fast = _digest(source, module)
    no_shortcuts()
    assert _digest(source, module) == fast


def test_the_tricky_programs_have_what_the_shortcuts_look_for():
    """The programs above do hold what each shortcut skips: were the shortcut wrong, the
    comparison would see it."""
    facts = {name: ModuleFacts(ast.parse(src)) for name, src in TRICKY.items()}
    assert facts["global in a loop, super(), locals() beside a point"].has_global
    assert pipeline._may_have_private_names(TRICKY["private names in a class in a function"],
                                            "m.py")
    assert not pipeline._may_have_private_names(TRICKY["no shortcut applies"], "m.py")
    walrus = facts["a walrus and a yield inside expressions, a comprehension's walrus"]
    assert {5, 7, 11, 13} <= set(walrus.scope_lines)  # the walruses, the yield, the listcomp
    compiled = compile_module(TRICKY["a variable shared with a nested def, a lambda and a class"],
                              "m.py", "m_boxes")
    outer = next(c for c in compiled.code.co_consts if getattr(c, "co_name", "") == "outer")
    assert "_sw_box_total" in outer.co_varnames + outer.co_cellvars


@pytest.mark.parametrize("text, private", [
    ("self.__x = 1", True), ("__init__", False), ("a__b = 1", False), ("x.__y__z", True),
    ("___", True), ("__", False), ("__doc__ + __name__", False), ("é__x", False),
])
def test_private_names_are_found_in_the_text(text, private):
    """A superset of what the mangling pass changes (a name starting `__`, not ending so)."""
    assert pipeline._may_have_private_names(text, "m.py") is private


def test_children_made_from_the_grammar_match_the_generic_walk():
    for module in (ast, traceback, inspect):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            assert children(node) == _generic_children(node)
    # a node a pass made without one of its fields falls back to the generic walk
    call = ast.Call(func=ast.Name(id="f", ctx=ast.Load()), args=[])
    assert children(call) == [call.func]
