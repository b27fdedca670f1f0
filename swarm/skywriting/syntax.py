"""Skywriting source -> a syntax tree: the lexer and a recursive descent parser.

The grammar is SKYWRITING.md's (docs/skywriting.md for users). Every node carries the line and
column (1-based) of its first token; a syntax error is a SkywritingError naming file:line:col.
Nodes are plain tuples of kind and fields (`Node`), read by translate.py.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from swarm.skywriting.errors import SkywritingError

KEYWORDS = frozenset("function if else for in while do return break continue true false "
                     "lambda include".split())

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+|//[^\n]*|/\*.*?\*/)
  | (?P<num>[0-9]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<op>\+=|==|!=|<=|>=|&&|\|\||[-+*!<>=(){}\[\],;:.])
""", re.VERBOSE | re.DOTALL)

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}


class Token(NamedTuple):
    kind: str  # num, name, kw, str, op, eof
    text: str
    value: object
    line: int
    col: int


class Node(NamedTuple):
    kind: str
    line: int
    col: int
    a: object = None
    b: object = None
    c: object = None


def tokenize(source: str, filename: str) -> list[Token]:
    tokens: list[Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        col = pos - line_start + 1
        if m is None:
            if source.startswith("/*", pos):
                raise SkywritingError("unterminated comment", filename, line, col)
            if source[pos] == '"':
                raise SkywritingError("unterminated string", filename, line, col)
            raise SkywritingError(f"unexpected character {source[pos]!r}", filename, line, col)
        kind, text = m.lastgroup, m.group()
        if kind == "num":
            tokens.append(Token("num", text, int(text), line, col))
        elif kind == "name":
            tokens.append(Token("kw" if text in KEYWORDS else "name", text, text, line, col))
        elif kind == "str":
            tokens.append(Token("str", text, _unescape(text[1:-1], filename, line, col), line,
                                col))
        elif kind == "op":
            tokens.append(Token("op", text, text, line, col))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rindex("\n") + 1
        pos = m.end()
    tokens.append(Token("eof", "end of file", None, line, pos - line_start + 1))
    return tokens


def _unescape(body: str, filename: str, line: int, col: int) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            raise SkywritingError(f"bad escape \\{nxt} in a string", filename, line,
                                  col + 1 + i)
    return "".join(out)


# binary operators, lowest precedence first; all left-associative
_LEVELS = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-")]


class Parser:
    def __init__(self, source: str, filename: str) -> None:
        self.filename = filename
        self.tokens = tokenize(source, filename)
        self.i = 0

    # ---- tokens ------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, tok: Token | None = None):
        tok = tok or self.tok
        return SkywritingError(message, self.filename, tok.line, tok.col)

    def at(self, text: str) -> bool:
        t = self.tok
        return t.kind in ("op", "kw") and t.text == text

    def take(self, text: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected '{text}', found {self._show(self.tok)}")
        t = self.tok
        self.i += 1
        return t

    def name(self) -> Token:
        t = self.tok
        if t.kind != "name":
            raise self.error(f"expected a name, found {self._show(t)}")
        self.i += 1
        return t

    @staticmethod
    def _show(t: Token) -> str:
        return "end of file" if t.kind == "eof" else f"'{t.text}'"

    # ---- statements --------------------------------------------------------------------------
    def program(self) -> list[Node]:
        body = []
        while self.tok.kind != "eof":
            body.append(self.statement())
        return body

    def block(self) -> list[Node]:
        self.take("{")
        body = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.error("expected '}', found end of file")
            body.append(self.statement())
        self.take("}")
        return body

    def statement(self) -> Node:
        t = self.tok
        here = (t.line, t.col)
        if t.kind == "kw":
            kw = t.text
            if kw == "function" and self.tokens[self.i + 1].kind == "name":
                self.i += 1
                name = self.name().text
                params = self.params()
                return Node("def", *here, name, params, self.block())
            if kw == "if":
                return self.if_statement()
            if kw == "while":
                self.i += 1
                self.take("(")
                test = self.expr()
                self.take(")")
                return Node("while", *here, test, self.block())
            if kw == "do":
                self.i += 1
                body = self.block()
                self.take("while")
                self.take("(")
                test = self.expr()
                self.take(")")
                self.take(";")
                return Node("dowhile", *here, body, test)
            if kw == "for":
                self.i += 1
                self.take("(")
                var = self.name()
                self.take("in")
                iterable = self.expr()
                self.take(")")
                return Node("for", *here, (var.text, var.line, var.col), iterable, self.block())
            if kw == "return":
                self.i += 1
                value = None if self.at(";") else self.expr()
                self.take(";")
                return Node("return", *here, value)
            if kw in ("break", "continue"):
                self.i += 1
                self.take(";")
                return Node(kw, *here)
            if kw == "include":
                self.i += 1
                if self.tok.kind != "str":
                    raise self.error(f"expected a library name in quotes, found "
                                     f"{self._show(self.tok)}")
                name = self.tok.value
                self.i += 1
                self.take(";")
                return Node("include", *here, name)
        if self.at("{"):
            return Node("block", *here, self.block())
        target = self.expr()
        if self.at("=") or self.at("+="):
            op = self.tok.text
            if target.kind not in ("name", "index"):
                raise self.error(f"cannot assign to this expression ({op})",
                                 Token("", "", None, target.line, target.col))
            self.i += 1
            value = self.expr()
            self.take(";")
            return Node("assign" if op == "=" else "augassign", *here, target, value)
        self.take(";")
        return Node("expr", *here, target)

    def if_statement(self) -> Node:
        t = self.take("if")
        self.take("(")
        test = self.expr()
        self.take(")")
        body = self.block()
        orelse: list[Node] = []
        if self.at("else"):
            self.i += 1
            orelse = [self.if_statement()] if self.at("if") else self.block()
        return Node("if", t.line, t.col, test, body, orelse)

    def params(self) -> list[str]:
        self.take("(")
        names = []
        while not self.at(")"):
            names.append(self.name().text)
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return names

    # ---- expressions -------------------------------------------------------------------------
    def expr(self, level: int = 0) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        left = self.expr(level + 1)
        while self.tok.kind == "op" and self.tok.text in _LEVELS[level]:
            op = self.tok.text
            self.i += 1
            right = self.expr(level + 1)
            left = Node("binop", left.line, left.col, op, left, right)
        return left

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text in ("*", "-", "!"):
            self.i += 1
            return Node("unary", t.line, t.col, t.text, self.unary())
        return self.postfix(self.primary())

    def postfix(self, e: Node) -> Node:
        while True:
            t = self.tok
            if self.at("("):
                self.i += 1
                args = []
                while not self.at(")"):
                    args.append(self.expr())
                    if not self.at(")"):
                        self.take(",")
                self.take(")")
                e = Node("call", e.line, e.col, e, args, (t.line, t.col))
            elif self.at("["):
                self.i += 1
                index = self.expr()
                self.take("]")
                e = Node("index", e.line, e.col, e, index)
            elif self.at("."):
                self.i += 1
                key = self.name()
                e = Node("index", e.line, e.col, e, Node("const", key.line, key.col, key.text))
            else:
                return e

    def primary(self) -> Node:
        t = self.tok
        here = (t.line, t.col)
        if t.kind in ("num", "str"):
            self.i += 1
            return Node("const", *here, t.value)
        if t.kind == "name":
            self.i += 1
            return Node("name", *here, t.text)
        if t.kind == "kw" and t.text in ("true", "false"):
            self.i += 1
            return Node("const", *here, t.text == "true")
        if self.at("("):
            self.i += 1
            e = self.expr()
            self.take(")")
            return e
        if self.at("["):
            self.i += 1
            items = []
            while not self.at("]"):
                items.append(self.expr())
                if not self.at("]"):
                    self.take(",")
            self.take("]")
            return Node("list", *here, items)
        if self.at("{"):
            self.i += 1
            pairs = []
            while not self.at("}"):
                key = self.expr()
                self.take(":")
                pairs.append((key, self.expr()))
                if not self.at("}"):
                    self.take(",")
            self.take("}")
            return Node("dict", *here, pairs)
        if self.at("function"):
            self.i += 1
            params = self.params()
            return Node("function", *here, params, self.block())
        if self.at("lambda"):
            self.i += 1
            params = []
            while not self.at(":"):
                params.append(self.name().text)
                if not self.at(":"):
                    self.take(",")
            self.take(":")
            body = self.expr()
            return Node("function", *here, params, [Node("return", body.line, body.col, body)])
        raise self.error(f"unexpected {self._show(t)}")


def parse(source: str, filename: str) -> list[Node]:
    return Parser(source, filename).program()
