"""A Skywriting syntax tree -> a Python `ast.Module`, which the continuation compiler takes
like any Python module (so a script migrates, parks and spawns like a Python program).

Every Python node carries the line and column of the Skywriting token it came from; errors are
located from the traceback (runtime.locate).

Scopes. A script's top level is the function `_sk_main`; each Skywriting function a Python
function. A variable `x` is the Python local `v_x`, set to the UNBOUND sentinel when its scope
starts, and every read checks it (`v_x if v_x is not U else unbound("x")`): reading an unbound
name is an error naming it, never a Python NameError. A function captures the variables it
uses by value when it is defined - as keyword-only parameters with defaults - except named
functions declared in an enclosing block, which it reaches by reference (a Python closure), so
that named functions can call themselves and each other. Extra arguments land in `*_sk_extra`.

Function expressions and lambdas are hoisted into a `def` just before the statement that
holds them (nothing a statement evaluates can rebind a variable before it, so capturing there
is capturing at evaluation).
"""

from __future__ import annotations

import ast
import itertools

from swarm.skywriting.errors import SkywritingError
from swarm.skywriting.syntax import Node

BUILTINS = frozenset({"print", "int", "str", "range", "len", "has_key", "get_key", "env",
                      "argv", "package", "spawn", "spawn_exec", "exec", "null", "sw_grab"})
_VALUE_BUILTINS = {"env": "env_dict", "argv": "argv_list", "null": None}
_COMPARE = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, ">": ast.Gt, "<=": ast.LtE,
            ">=": ast.GtE}

PRELUDE = """\
import swarm.skywriting.runtime as _sk
_sk_U = _sk.UNBOUND


def _sk_task(_sk_fn, _sk_args):
    try:
        return _sk_fn(*_sk_args)
    except Exception as _sk_error:
        _sk.fail(_sk_error)


def _sk_exec(_sk_executor, _sk_args):
    try:
        _sk_inputs = []
        for _sk_input in _sk.executor_inputs(_sk_executor, _sk_args):
            if _sk.is_waitable(_sk_input):
                _sk_input = _sk_input.get()
            _sk_inputs.append(_sk_input)
        return _sk.run_executor(_sk_executor, _sk_args, _sk_inputs)
    except Exception as _sk_error:
        _sk.fail(_sk_error)


try:
    RESULT = _sk_main()
except Exception as _sk_error:
    _sk.fail(_sk_error)
"""


def var(name: str) -> str:
    return "v_" + name


class Scope:
    """One Skywriting function (or the top level): its variables and what it captures."""

    def __init__(self, parent: Scope | None, params: list[str], body: list[Node],
                 includes) -> None:
        self.parent = parent
        self.params = list(params)
        self.assigned: set[str] = set()
        self.functions: set[str] = set()  # named functions declared directly in it
        self.used: set[str] = set()  # names read or assigned here or in nested functions
        self._collect(body, includes)

    def _collect(self, body: list[Node], includes) -> None:
        for node in _walk_statements(body, includes):
            if node.kind == "def":
                self.functions.add(node.a)
                self.assigned.add(node.a)
            elif node.kind in ("assign", "augassign") and node.a.kind == "name":
                self.assigned.add(node.a.a)
            elif node.kind == "for":
                self.assigned.add(node.a[0])
        for name in _names_used(body, includes):
            self.used.add(name)

    def bound_here(self, name: str) -> bool:
        return name in self.assigned or name in self.params

    def visible(self, name: str) -> bool:
        scope = self
        while scope is not None:
            if scope.bound_here(name):
                return True
            scope = scope.parent
        return False

    def function_outside(self, name: str) -> bool:
        """Is `name` a named function declared in an enclosing scope (reached by reference)?"""
        scope = self.parent
        while scope is not None:
            if scope.bound_here(name):
                return name in scope.functions
            scope = scope.parent
        return False


def _walk_statements(body: list[Node], includes):
    """The statements of one scope (not inside nested functions), includes inlined."""
    for node in body:
        yield node
        if node.kind == "include":
            yield from _walk_statements(includes(node), includes)
        elif node.kind == "if":
            yield from _walk_statements(node.b, includes)
            yield from _walk_statements(node.c, includes)
        elif node.kind in ("while", "for"):
            yield from _walk_statements(node.b if node.kind == "while" else node.c, includes)
        elif node.kind in ("dowhile", "block"):
            yield from _walk_statements(node.a, includes)


def _names_used(body, includes) -> set[str]:
    """Every name read or assigned in these statements, nested functions included."""
    names: set[str] = set()

    def visit(x) -> None:
        if isinstance(x, Node):
            if x.kind == "name":
                names.add(x.a)
            elif x.kind == "def":
                names.add(x.a)
            elif x.kind == "for":
                names.add(x.a[0])
            elif x.kind == "include":
                visit(includes(x))
                return
            for field in (x.a, x.b, x.c):
                visit(field)
        elif isinstance(x, (list, tuple)):
            for item in x:
                visit(item)

    visit(body)
    return names


class Translator:
    def __init__(self, filename: str, includes, session: list[str] | None = None) -> None:
        self.filename = filename
        self.includes = includes  # include Node -> its statements (parsed)
        self.session = session  # the console's variables (console.py), else None
        self.ids = itertools.count(1)
        self.hoisted: list[ast.stmt] = []  # function expressions of the current statement

    # ---- helpers -----------------------------------------------------------------------------
    def at(self, py: ast.AST, node) -> ast.AST:
        line, col = (node.line, node.col) if isinstance(node, Node) else node
        for sub in ast.walk(py):
            if "lineno" not in sub._attributes or getattr(sub, "_sk_located", False):
                continue
            sub.lineno, sub.col_offset = line, col - 1
            sub.end_lineno, sub.end_col_offset = line, col
            sub._sk_located = True
        return py

    def rt(self, name: str, args: list[ast.expr], node, safe: bool = True) -> ast.Call:
        call = ast.Call(ast.Attribute(ast.Name("_sk", ast.Load()), name, ast.Load()), args, [])
        call.sw_safe = safe
        return self.at(call, node)

    def temp(self, hint: str) -> str:
        return f"_sk_{hint}{next(self.ids)}"

    # ---- functions ---------------------------------------------------------------------------
    def main(self, body: list[Node]) -> ast.Module:
        scope = Scope(None, [], body, self.includes)
        if self.session is not None:  # a console entry: its top level goes on the session's
            scope.assigned |= set(self.session)
            last = body[-1] if body else None
            if last is not None and last.kind == "expr" and not _is_print(last.a):
                body = body[:-1] + [Node("return", last.line, last.col, last.a)]
        fn = self.function("_sk_main", [], body, scope, Node("script", 1, 1))
        module = ast.parse(PRELUDE, self.filename)
        for node in ast.walk(module):
            if hasattr(node, "lineno"):
                node.lineno = node.end_lineno = 1
                node.col_offset, node.end_col_offset = 0, 1
        module.body.insert(3, fn)
        return module

    def function(self, pyname: str, params: list[str], body: list[Node], scope: Scope,
                 node: Node) -> ast.FunctionDef:
        captured = sorted(n for n in scope.used if n not in scope.params and scope.parent
                          and scope.parent.visible(n) and not (
                              n not in scope.assigned and scope.function_outside(n)))
        local = sorted(scope.assigned - set(scope.params) - set(captured))
        stmts: list[ast.stmt] = []
        if self.session is not None and scope.parent is None:
            stmts += self.session_start(local, node)
        elif local:
            targets = [ast.Name(var(n), ast.Store()) for n in local]
            stmts.append(self.at(ast.Assign(targets, ast.Name("_sk_U", ast.Load())), node))
        stmts += self.block(body, scope)
        stmts += self.return_(ast.Constant(None), scope, node)
        args = ast.arguments(
            posonlyargs=[], args=[ast.arg(var(p)) for p in params],
            vararg=ast.arg("_sk_extra"),
            kwonlyargs=[ast.arg(var(n)) for n in captured],
            kw_defaults=[ast.Name(var(n), ast.Load()) for n in captured],
            kwarg=None, defaults=[])
        fn = ast.FunctionDef(pyname, args, stmts, [], None)
        return self.at(fn, node)

    def nested(self, pyname: str, params: list[str], body: list[Node], parent: Scope,
               node: Node) -> ast.FunctionDef:
        scope = Scope(parent, params, body, self.includes)
        return self.function(pyname, params, body, scope, node)

    # ---- the console's session (console.py) -------------------------------------------------
    def session_start(self, names: list[str], node: Node) -> list[ast.stmt]:
        """_sk_R = _sk.session_ref(); _sk_S = _sk_R.get(); v_x = _sk_S.get("x", _sk_U) ...
        (the get() in compiled code: reading the session may migrate to it)"""
        stmts = [ast.Assign([ast.Name("_sk_R", ast.Store())], self.rt("session_ref", [], node)),
                 ast.Assign([ast.Name("_sk_S", ast.Store())], _method("_sk_R", "get", []))]
        for n in names:
            stmts.append(ast.Assign([ast.Name(var(n), ast.Store())], _method(
                "_sk_S", "get", [ast.Constant(n), ast.Name("_sk_U", ast.Load())])))
        stmts.append(ast.Assign([ast.Name("_sk_S", ast.Store())], ast.Constant(None)))
        return [self.at(s, node) for s in stmts]

    def return_(self, value: ast.expr, scope: Scope, node: Node) -> list[ast.stmt]:
        """`return value`; at a console entry's top level, saving its variables first."""
        if scope.parent is not None:
            return [self.at(ast.Return(value), node)]
        if self.session is None:  # the script's result: JSON, checked where it is returned
            return [self.at(ast.Return(self.rt("result", [value], node)), node)]
        names = sorted(scope.assigned)
        variables = ast.Dict([ast.Constant(n) for n in names],
                             [ast.Name(var(n), ast.Load()) for n in names])
        stmts = [ast.Assign([ast.Name("_sk_V", ast.Store())], value),
                 ast.Assign([ast.Name("_sk_S", ast.Store())],
                            self.rt("session_vars", [variables], node)),
                 ast.Expr(_method("_sk_R", "set", [ast.Name("_sk_S", ast.Load())])),
                 ast.Return(self.rt("session_result", [ast.Name(n, ast.Load()) for n in
                                                       ("_sk_R", "_sk_V", "_sk_S")], node))]
        return [self.at(s, node) for s in stmts]

    # ---- statements --------------------------------------------------------------------------
    def block(self, body: list[Node], scope: Scope) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for node in body:
            out += self.statement(node, scope)
        return out or [ast.Pass()]

    def statement(self, node: Node, scope: Scope) -> list[ast.stmt]:
        outer, self.hoisted = self.hoisted, []
        stmts = self._statement(node, scope)
        hoisted, self.hoisted = self.hoisted, outer
        return [self.at(s, node) for s in hoisted + stmts]

    def _statement(self, node: Node, scope: Scope) -> list[ast.stmt]:
        k = node.kind
        if k == "expr":
            return [ast.Expr(self.expr(node.a, scope))]
        if k == "assign":
            target, value = node.a, node.b
            if target.kind == "name":
                return [ast.Assign([ast.Name(var(target.a), ast.Store())],
                                   self.expr(value, scope))]
            obj, key = self.expr(target.a, scope), self.expr(target.b, scope)
            return [ast.Expr(self.rt("setitem", [obj, key, self.expr(value, scope)], node))]
        if k == "augassign":
            target, value = node.a, node.b
            if target.kind == "name":
                current = self.expr(target, scope)
                return [ast.Assign([ast.Name(var(target.a), ast.Store())],
                                   self.rt("iadd", [current, self.expr(value, scope)], node))]
            obj, key = self.expr(target.a, scope), self.expr(target.b, scope)
            return [ast.Expr(self.rt("iadd_item", [obj, key, self.expr(value, scope)], node))]
        if k == "def":
            return [self.nested(var(node.a), node.b, node.c, scope, node)]
        if k == "if":
            return [ast.If(self.expr(node.a, scope), self.block(node.b, scope),
                           self.block(node.c, scope) if node.c else [])]
        if k == "while":
            return [ast.While(self.expr(node.a, scope), self.block(node.b, scope), [])]
        if k == "dowhile":
            # `continue` must re-test the condition: while first or test: first = False ...
            first = self.temp("first")
            test = self.expr(node.b, scope)
            loop = ast.While(ast.BoolOp(ast.Or(), [ast.Name(first, ast.Load()), test]),
                             [ast.Assign([ast.Name(first, ast.Store())], ast.Constant(False))]
                             + self.block(node.a, scope), [])
            return [ast.Assign([ast.Name(first, ast.Store())], ast.Constant(True)), loop]
        if k == "for":
            name = node.a[0]
            return [ast.For(ast.Name(var(name), ast.Store()),
                            self.rt("iterate", [self.expr(node.b, scope)], node),
                            self.block(node.c, scope), [])]
        if k == "return":
            return self.return_(self.expr(node.a, scope) if node.a else ast.Constant(None),
                                scope, node)
        if k == "break":
            return [ast.Break()]
        if k == "continue":
            return [ast.Continue()]
        if k == "block":
            return self.block(node.a, scope)
        if k == "include":
            return self.block(self.includes(node), scope)
        raise SkywritingError(f"unknown statement {k}", self.filename, node.line, node.col)

    # ---- expressions -------------------------------------------------------------------------
    def expr(self, node: Node, scope: Scope) -> ast.expr:
        return self.at(self._expr(node, scope), node)

    def _expr(self, node: Node, scope: Scope) -> ast.expr:
        k = node.kind
        if k == "const":
            return ast.Constant(node.a)
        if k == "name":
            return self.read(node, scope)
        if k == "list":
            return ast.List([self.expr(e, scope) for e in node.a], ast.Load())
        if k == "dict":
            return ast.Dict([self.expr(key, scope) for key, _ in node.a],
                            [self.expr(v, scope) for _, v in node.a])
        if k == "binop":
            op, left, right = node.a, self.expr(node.b, scope), self.expr(node.c, scope)
            if op in ("&&", "||"):
                return ast.BoolOp(ast.And() if op == "&&" else ast.Or(), [left, right])
            if op in ("==", "!="):  # deep equality, as Python's (and the original's)
                return ast.Compare(left, [_COMPARE[op]()], [right])
            if op in _COMPARE:
                return self.rt("compare", [ast.Constant(op), left, right], node)
            return self.rt("add" if op == "+" else "sub", [left, right], node)
        if k == "unary":
            operand = self.expr(node.b, scope)
            if node.a == "*":  # Future.get() called from compiled code: it may migrate
                get = ast.Attribute(self.rt("future", [operand], node), "get", ast.Load())
                return ast.Call(get, [], [])
            if node.a == "!":
                return ast.UnaryOp(ast.Not(), operand)
            return self.rt("neg", [operand], node)
        if k == "index":
            return self.rt("getitem", [self.expr(node.a, scope), self.expr(node.b, scope)],
                           node)
        if k == "call":
            return self.call(node, scope)
        if k == "function":
            name = self.temp("fn")
            self.hoisted.append(self.nested(name, node.a, node.b, scope, node))
            return ast.Name(name, ast.Load())
        raise SkywritingError(f"unknown expression {k}", self.filename, node.line, node.col)

    def read(self, node: Node, scope: Scope) -> ast.expr:
        name = node.a
        if scope.visible(name):
            v = ast.Name(var(name), ast.Load())
            return ast.IfExp(ast.Compare(v, [ast.IsNot()], [ast.Name("_sk_U", ast.Load())]),
                             ast.Name(var(name), ast.Load()),
                             self.rt("unbound", [ast.Constant(name)], node))
        if name in BUILTINS:
            if name in _VALUE_BUILTINS:
                attr = _VALUE_BUILTINS[name]
                return ast.Constant(None) if attr is None else self.rt(attr, [], node)
            return ast.Attribute(ast.Name("_sk", ast.Load()), name + "_", ast.Load())
        return self.rt("unbound", [ast.Constant(name)], node)

    def call(self, node: Node, scope: Scope) -> ast.expr:
        callee, args = node.a, [self.expr(a, scope) for a in node.b]
        if callee.kind == "name" and not scope.visible(callee.a) and callee.a in BUILTINS \
                and callee.a not in _VALUE_BUILTINS:
            name = callee.a
            if name == "spawn":
                args = [ast.Name("_sk_task", ast.Load())] + args
            elif name in ("spawn_exec", "exec"):
                args = [ast.Name("_sk_exec", ast.Load())] + args
            return self.rt(name + "_", args, node)
        call = ast.Call(self.rt("callable", [self.expr(callee, scope)], node), args, [])
        return call


def _method(obj: str, name: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name(obj, ast.Load()), name, ast.Load()), args, [])


def _is_print(expr: Node) -> bool:
    return expr.kind == "call" and expr.a.kind == "name" and expr.a.a == "print"


def translate(body: list[Node], filename: str, includes,
              session: list[str] | None = None) -> ast.Module:
    """The module of a script; `session`: it is a console entry (console.py), and these
    are the names of the variables the session has so far."""
    module = Translator(filename, includes, session).main(body)
    return ast.fix_missing_locations(module)
