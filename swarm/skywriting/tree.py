"""Skywriting's syntax tree: a dataclass per kind of node, its fields named for its parts.

The parser (syntax.py) makes them, the translator (translate.py) reads them. Every node carries
the line and column (1-based) of its first token, as keywords (`While(test, body, line=3,
col=1)`):

    statement   Assign(target, value)  AugAssign(target, value)  ExprStatement(value)
                If(test, body, orelse)  While(test, body)  DoWhile(body, test)
                For(var, iterable, body)  Return(value)  Break()  Continue()
                FunctionDef(name, params, body)  Block(body)  Include(library)
    expression  Constant(value)  Name(id)  ListLiteral(items)  DictLiteral(pairs)
                BinOp(op, left, right)  Unary(op, operand)  Call(callee, args)
                Index(obj, key)  Function(params, body)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Union


@dataclass
class Node:
    """A node of the tree: where its first token is (1-based), given by keyword."""

    line: int = field(kw_only=True)
    col: int = field(kw_only=True)


@dataclass
class Constant(Node):
    """A number, a string, `true` or `false`."""

    value: object


@dataclass
class Name(Node):
    """A variable (or a built-in's name) read."""

    id: str


@dataclass
class ListLiteral(Node):
    """`[a, b, ...]`"""

    items: list[Expr]


@dataclass
class DictLiteral(Node):
    """`{k: v, ...}`"""

    pairs: list[tuple[Expr, Expr]]


@dataclass
class BinOp(Node):
    """`left op right`: || && == != < > <= >= + -"""

    op: str
    left: Expr
    right: Expr


@dataclass
class Unary(Node):
    """`op operand`: * (a future's value), - and !"""

    op: str
    operand: Expr


@dataclass
class Call(Node):
    """`callee(args)`"""

    callee: Expr
    args: list[Expr]


@dataclass
class Index(Node):
    """`obj[key]`, and `obj.name` (key: the Constant "name")."""

    obj: Expr
    key: Expr


@dataclass
class Function(Node):
    """A function expression `function (params) { body }`, or `lambda params: e` (whose body
    is `return e;`)."""

    params: list[str]
    body: list[Statement]


@dataclass
class ExprStatement(Node):
    """`value;`"""

    value: Expr


@dataclass
class Assign(Node):
    """`target = value;` (target: a Name or an Index)"""

    target: Expr
    value: Expr


@dataclass
class AugAssign(Node):
    """`target += value;`"""

    target: Expr
    value: Expr


@dataclass
class If(Node):
    """`if (test) { body } else { orelse }` (an `else if` is an orelse of one If)."""

    test: Expr
    body: list[Statement]
    orelse: list[Statement]


@dataclass
class While(Node):
    """`while (test) { body }`"""

    test: Expr
    body: list[Statement]


@dataclass
class DoWhile(Node):
    """`do { body } while (test);`"""

    body: list[Statement]
    test: Expr


@dataclass
class For(Node):
    """`for (var in iterable) { body }`"""

    var: str
    iterable: Expr
    body: list[Statement]


@dataclass
class Return(Node):
    """`return value;` (value None: `return;`)"""

    value: Expr | None


@dataclass
class Break(Node):
    """`break;`"""


@dataclass
class Continue(Node):
    """`continue;`"""


@dataclass
class FunctionDef(Node):
    """`function name(params) { body }`: a named function declared in a block."""

    name: str
    params: list[str]
    body: list[Statement]


@dataclass
class Block(Node):
    """`{ body }` (no scope of its own)."""

    body: list[Statement]


@dataclass
class Include(Node):
    """`include "library";`"""

    library: str


Expr = Union[Constant, Name, ListLiteral, DictLiteral, BinOp, Unary, Call, Index, Function]
Statement = Union[ExprStatement, Assign, AugAssign, If, While, DoWhile, For, Return, Break,
                  Continue, FunctionDef, Block, Include]


def children(node: Node) -> Iterator[Node]:
    """The nodes directly under `node` (in lists and pairs too), in field order."""
    todo = [getattr(node, f.name) for f in fields(node) if f.name not in ("line", "col")]
    while todo:
        x = todo.pop(0)
        if isinstance(x, Node):
            yield x
        elif isinstance(x, (list, tuple)):
            todo[:0] = x
