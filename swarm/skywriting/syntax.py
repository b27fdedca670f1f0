"""Skywriting source -> a syntax tree (tree.py): the lexer and a recursive descent parser.

The grammar is SKYWRITING.md's (docs/skywriting.md for users); each parsing method says in its
comments or docstring the rule it reads. Every node carries the line and column (1-based) of
its first token; a syntax error is a SkywritingError naming file:line:col.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from swarm.skywriting.errors import SkywritingError
from swarm.skywriting.tree import (
    Assign,
    AugAssign,
    BinOp,
    Block,
    Break,
    Call,
    Constant,
    Continue,
    DictLiteral,
    DoWhile,
    Expr,
    ExprStatement,
    For,
    Function,
    FunctionDef,
    If,
    Include,
    Index,
    ListLiteral,
    Name,
    Return,
    Statement,
    Unary,
    While,
)

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
    """One token, with its value (a number's int, a string's text) and its position."""

    kind: str  # num, name, kw, str, op, eof
    text: str
    value: object
    line: int
    col: int


def tokenize(source: str, filename: str) -> list[Token]:
    """The tokens of a file, ending with an `eof` token (SkywritingError at a bad one)."""
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
    """One file's tokens -> its statements (`program`); one method per rule of the grammar."""

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
    def program(self) -> list[Statement]:
        body = []
        while self.tok.kind != "eof":
            body.append(self.statement())
        return body

    def block(self) -> list[Statement]:
        self.take("{")
        body = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.error("expected '}', found end of file")
            body.append(self.statement())
        self.take("}")
        return body

    def statement(self) -> Statement:
        t = self.tok
        at = {"line": t.line, "col": t.col}
        if t.kind == "kw":
            kw = t.text
            if kw == "function" and self.tokens[self.i + 1].kind == "name":
                # function name(params) { body }
                self.i += 1
                name = self.name().text
                params = self.params()
                return FunctionDef(name, params, self.block(), **at)
            if kw == "if":
                return self.if_statement()
            if kw == "while":  # while (test) { body }
                self.i += 1
                test = self.parenthesized()
                return While(test, self.block(), **at)
            if kw == "do":  # do { body } while (test);
                self.i += 1
                body = self.block()
                self.take("while")
                test = self.parenthesized()
                self.take(";")
                return DoWhile(body, test, **at)
            if kw == "for":  # for (var in iterable) { body }
                self.i += 1
                self.take("(")
                var = self.name().text
                self.take("in")
                iterable = self.expr()
                self.take(")")
                return For(var, iterable, self.block(), **at)
            if kw == "return":  # return; | return value;
                self.i += 1
                value = None if self.at(";") else self.expr()
                self.take(";")
                return Return(value, **at)
            if kw in ("break", "continue"):  # break; | continue;
                self.i += 1
                self.take(";")
                return Break(**at) if kw == "break" else Continue(**at)
            if kw == "include":  # include "library";
                self.i += 1
                if self.tok.kind != "str":
                    raise self.error(f"expected a library name in quotes, found "
                                     f"{self._show(self.tok)}")
                library = self.tok.value
                self.i += 1
                self.take(";")
                return Include(library, **at)
        if self.at("{"):  # { body }
            return Block(self.block(), **at)
        target = self.expr()
        if self.at("=") or self.at("+="):  # target = value; | target += value;
            op = self.tok.text
            if not isinstance(target, (Name, Index)):
                raise self.error(f"cannot assign to this expression ({op})",
                                 Token("", "", None, target.line, target.col))
            self.i += 1
            value = self.expr()
            self.take(";")
            return (Assign if op == "=" else AugAssign)(target, value, **at)
        self.take(";")  # value;
        return ExprStatement(target, **at)

    def parenthesized(self) -> Expr:
        """`( e )`"""
        self.take("(")
        test = self.expr()
        self.take(")")
        return test

    def if_statement(self) -> If:
        """if (test) { body } [else { orelse } | else if ...]"""
        t = self.take("if")
        test = self.parenthesized()
        body = self.block()
        orelse: list[Statement] = []
        if self.at("else"):
            self.i += 1
            orelse = [self.if_statement()] if self.at("if") else self.block()
        return If(test, body, orelse, line=t.line, col=t.col)

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
    def expr(self, level: int = 0) -> Expr:
        """left op right ..., at precedence `level` and above (_LEVELS)"""
        if level == len(_LEVELS):
            return self.unary()
        left = self.expr(level + 1)
        while self.tok.kind == "op" and self.tok.text in _LEVELS[level]:
            op = self.tok.text
            self.i += 1
            right = self.expr(level + 1)
            left = BinOp(op, left, right, line=left.line, col=left.col)
        return left

    def unary(self) -> Expr:
        """*e | -e | !e | a postfix expression"""
        t = self.tok
        if t.kind == "op" and t.text in ("*", "-", "!"):
            self.i += 1
            return Unary(t.text, self.unary(), line=t.line, col=t.col)
        return self.postfix(self.primary())

    def postfix(self, e: Expr) -> Expr:
        """e(args) | e[key] | e.name, repeated"""
        while True:
            at = {"line": e.line, "col": e.col}
            if self.at("("):
                self.i += 1
                args = []
                while not self.at(")"):
                    args.append(self.expr())
                    if not self.at(")"):
                        self.take(",")
                self.take(")")
                e = Call(e, args, **at)
            elif self.at("["):
                self.i += 1
                key = self.expr()
                self.take("]")
                e = Index(e, key, **at)
            elif self.at("."):
                self.i += 1
                name = self.name()
                e = Index(e, Constant(name.text, line=name.line, col=name.col), **at)
            else:
                return e

    def primary(self) -> Expr:
        """a literal, a name, ( e ), [items], {pairs}, function (params) { body },
        lambda params: e"""
        t = self.tok
        at = {"line": t.line, "col": t.col}
        if t.kind in ("num", "str"):
            self.i += 1
            return Constant(t.value, **at)
        if t.kind == "name":
            self.i += 1
            return Name(t.text, **at)
        if t.kind == "kw" and t.text in ("true", "false"):
            self.i += 1
            return Constant(t.text == "true", **at)
        if self.at("("):
            return self.parenthesized()
        if self.at("["):
            self.i += 1
            items = []
            while not self.at("]"):
                items.append(self.expr())
                if not self.at("]"):
                    self.take(",")
            self.take("]")
            return ListLiteral(items, **at)
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
            return DictLiteral(pairs, **at)
        if self.at("function"):
            self.i += 1
            params = self.params()
            return Function(params, self.block(), **at)
        if self.at("lambda"):
            self.i += 1
            params = []
            while not self.at(":"):
                params.append(self.name().text)
                if not self.at(":"):
                    self.take(",")
            self.take(":")
            body = self.expr()
            return Function(params, [Return(body, line=body.line, col=body.col)], **at)
        raise self.error(f"unexpected {self._show(t)}")


def parse(source: str, filename: str) -> list[Statement]:
    """A file's statements (raises SkywritingError at the first syntax error)."""
    return Parser(source, filename).program()
