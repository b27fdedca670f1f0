"""Skywriting's syntax tree (swarm/skywriting/tree.py): the parser makes named nodes, and the
translator has a rule for every kind of node (an unknown one is an internal error, loudly)."""

import dataclasses
import inspect

import pytest

from swarm.skywriting import tree
from swarm.skywriting.syntax import parse
from swarm.skywriting.translate import Translator, translate

KINDS = [c for _, c in inspect.getmembers(tree, inspect.isclass)
         if issubclass(c, tree.Node) and c is not tree.Node]


def test_every_kind_of_node_has_a_rule_in_the_translator():
    statements = set(tree.Statement.__args__)
    expressions = set(tree.Expr.__args__)
    assert statements | expressions == set(KINDS)
    missing = [k.__name__ for k in KINDS
               if not hasattr(Translator, ("stmt_" if k in statements else "expr_") + k.__name__)]
    assert not missing, missing


def test_the_parser_names_the_parts():
    (loop, assign) = parse("for (x in xs) { y[0] += f(x, 2); }\nz = a || !b;", "t.sw")
    assert isinstance(loop, tree.For) and (loop.var, loop.line, loop.col) == ("x", 1, 1)
    assert loop.iterable == tree.Name("xs", line=1, col=11)
    (aug,) = loop.body
    assert isinstance(aug, tree.AugAssign) and isinstance(aug.target, tree.Index)
    assert aug.target.obj.id == "y" and aug.target.key.value == 0
    assert [a.__class__.__name__ for a in aug.value.args] == ["Name", "Constant"]
    assert assign.target.id == "z" and assign.value.op == "||"
    assert assign.value.right == tree.Unary("!", tree.Name("b", line=2, col=11), line=2, col=10)


def test_children_walks_lists_and_pairs():
    (stmt,) = parse('d = {"k": [1, g]};', "t.sw")
    pairs = list(tree.children(stmt.value))
    assert [type(n).__name__ for n in pairs] == ["Constant", "ListLiteral"]
    assert [type(n).__name__ for n in tree.children(pairs[1])] == ["Constant", "Name"]


def test_an_unknown_node_is_an_internal_error():
    @dataclasses.dataclass
    class Goto(tree.Node):
        label: str

    with pytest.raises(NotImplementedError, match=r"no stmt_Goto \(t\.sw:4:2\)"):
        translate([Goto("l", line=4, col=2)], "t.sw", lambda node: [])
