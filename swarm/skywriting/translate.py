"""A Skywriting syntax tree -> a Python `ast.Module`, which the continuation compiler takes
like any Python module (so a script migrates, parks and spawns like a Python program).

Every Python node carries the line and column of the Skywriting token it came from; errors are
located from the traceback (errors.locate). The Translator has one method per kind of node of
the syntax tree (tree.py), named for it - `stmt_While`, `expr_BinOp` - so it reads like the
grammar; what the compiled script calls at run time is in builtins.py, operators.py,
values.py and errors.py, imported by every script under the names `_sk_builtins`, `_sk_ops`,
`_sk_values` and `_sk_errors` (PRELUDE).

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

from swarm.skywriting import tree as sk

BUILTINS = frozenset({"print", "int", "str", "range", "len", "has_key", "get_key", "env",
                      "argv", "package", "spawn", "spawn_exec", "exec", "null", "sw_grab"})
_VALUE_BUILTINS = {"env": "env_dict", "argv": "argv_list", "null": None}
_COMPARE = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, ">": ast.Gt, "<=": ast.LtE,
            ">=": ast.GtE}

PRELUDE = """\
import swarm.skywriting.builtins as _sk_builtins
import swarm.skywriting.errors as _sk_errors
import swarm.skywriting.operators as _sk_ops
import swarm.skywriting.values as _sk_values
_sk_U = _sk_values.UNBOUND


def _sk_task(_sk_fn, _sk_args):
    try:
        return _sk_fn(*_sk_args)
    except Exception as _sk_error:
        _sk_errors.fail(_sk_error)


def _sk_exec(_sk_executor, _sk_args):
    try:
        _sk_inputs = []
        for _sk_input in _sk_builtins.executor_inputs(_sk_executor, _sk_args):
            if _sk_builtins.is_waitable(_sk_input):
                _sk_input = _sk_input.get()
            _sk_inputs.append(_sk_input)
        return _sk_builtins.run_executor(_sk_executor, _sk_args, _sk_inputs)
    except Exception as _sk_error:
        _sk_errors.fail(_sk_error)


try:
    RESULT = _sk_main()
except Exception as _sk_error:
    _sk_errors.fail(_sk_error)
"""


def var(name: str) -> str:
    """The Python local of Skywriting variable `name` (`v_name`)."""
    return "v_" + name


class Scope:
    """One Skywriting function (or the top level): its variables and what it captures."""

    def __init__(self, parent: Scope | None, params: list[str], body: list[sk.Statement],
                 includes) -> None:
        self.parent = parent
        self.params = list(params)
        self.assigned: set[str] = set()
        self.functions: set[str] = set()  # named functions declared directly in it
        self.used: set[str] = set()  # names read or assigned here or in nested functions
        self._collect(body, includes)

    def _collect(self, body: list[sk.Statement], includes) -> None:
        for node in _walk_statements(body, includes):
            if isinstance(node, sk.FunctionDef):
                self.functions.add(node.name)
                self.assigned.add(node.name)
            elif isinstance(node, (sk.Assign, sk.AugAssign)) and \
                    isinstance(node.target, sk.Name):
                self.assigned.add(node.target.id)
            elif isinstance(node, sk.For):
                self.assigned.add(node.var)
        self.used |= _names_used(body, includes)

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


def _walk_statements(body: list[sk.Statement], includes):
    """The statements of one scope (not inside nested functions), includes inlined."""
    for node in body:
        yield node
        if isinstance(node, sk.Include):
            yield from _walk_statements(includes(node), includes)
        elif isinstance(node, sk.If):
            yield from _walk_statements(node.body, includes)
            yield from _walk_statements(node.orelse, includes)
        elif isinstance(node, (sk.While, sk.DoWhile, sk.For, sk.Block)):
            yield from _walk_statements(node.body, includes)


def _names_used(body: list[sk.Statement], includes) -> set[str]:
    """Every name read or assigned in these statements, nested functions included."""
    names: set[str] = set()
    todo: list[sk.Node] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, sk.Name):
            names.add(node.id)
        elif isinstance(node, sk.FunctionDef):
            names.add(node.name)
        elif isinstance(node, sk.For):
            names.add(node.var)
        elif isinstance(node, sk.Include):
            todo.extend(includes(node))
            continue
        todo.extend(sk.children(node))
    return names


class Translator:
    """A script's syntax tree -> the Python module the continuation compiler takes."""

    def __init__(self, filename: str, includes, session: list[str] | None = None) -> None:
        self.filename = filename
        self.includes = includes  # Include node -> its statements (parsed)
        self.session = session  # the console's variables (console.py), else None
        self.ids = itertools.count(1)
        self.hoisted: list[ast.stmt] = []  # function expressions of the current statement

    # ---- helpers -----------------------------------------------------------------------------
    def at(self, py: ast.AST, where: sk.Node | tuple[int, int]) -> ast.AST:
        """Locate `py` and the nodes under it not located yet at `where` (a node, or a line
        and column)."""
        line, col = (where.line, where.col) if isinstance(where, sk.Node) else where
        for sub in ast.walk(py):
            if "lineno" not in sub._attributes or getattr(sub, "_sk_located", False):
                continue
            sub.lineno, sub.col_offset = line, col - 1
            sub.end_lineno, sub.end_col_offset = line, col
            sub._sk_located = True
        return py

    def _call(self, module: str, name: str, args: list[ast.expr], where) -> ast.Call:
        """`module.name(args)`: a call of installed code that never suspends (sw_safe: the
        compiler makes no suspension point of it)."""
        call = ast.Call(ast.Attribute(ast.Name(module, ast.Load()), name, ast.Load()), args, [])
        call.sw_safe = True
        return self.at(call, where)

    def builtin(self, name: str, args: list[ast.expr], where) -> ast.Call:
        """A call of builtins.py: `_sk_builtins.name(args)`."""
        return self._call("_sk_builtins", name, args, where)

    def operator(self, name: str, args: list[ast.expr], where) -> ast.Call:
        """A call of operators.py: `_sk_ops.name(args)`."""
        return self._call("_sk_ops", name, args, where)

    def values(self, name: str, args: list[ast.expr], where) -> ast.Call:
        """A call of values.py: `_sk_values.name(args)`."""
        return self._call("_sk_values", name, args, where)

    def temp(self, hint: str) -> str:
        return f"_sk_{hint}{next(self.ids)}"

    # ---- functions ---------------------------------------------------------------------------
    def main(self, body: list[sk.Statement]) -> ast.Module:
        """The module: the prelude, with the script's top level as the function _sk_main."""
        scope = Scope(None, [], body, self.includes)
        if self.session is not None:  # a console entry: its top level goes on the session's
            scope.assigned |= set(self.session)
            last = body[-1] if body else None
            if isinstance(last, sk.ExprStatement) and not _is_print(last.value):
                body = body[:-1] + [sk.Return(last.value, line=last.line, col=last.col)]
        fn = self.function("_sk_main", [], body, scope, (1, 1))
        module = ast.parse(PRELUDE, self.filename)
        for node in ast.walk(module):
            if hasattr(node, "lineno"):
                node.lineno = node.end_lineno = 1
                node.col_offset, node.end_col_offset = 0, 1
        module.body.insert(len(module.body) - 1, fn)  # before the `try` that calls it
        return module

    def function(self, pyname: str, params: list[str], body: list[sk.Statement], scope: Scope,
                 where) -> ast.FunctionDef:
        """A Skywriting function as a Python one: its variables start UNBOUND, what it
        captures comes as keyword-only parameters with defaults (by value), extra arguments
        land in *_sk_extra."""
        captured = sorted(n for n in scope.used if n not in scope.params and scope.parent
                          and scope.parent.visible(n) and not (
                              n not in scope.assigned and scope.function_outside(n)))
        local = sorted(scope.assigned - set(scope.params) - set(captured))
        stmts: list[ast.stmt] = []
        if self.session is not None and scope.parent is None:
            stmts += self.session_start(local, where)
        elif local:
            targets = [ast.Name(var(n), ast.Store()) for n in local]
            stmts.append(self.at(ast.Assign(targets, ast.Name("_sk_U", ast.Load())), where))
        stmts += self.block(body, scope)
        stmts += self.return_(ast.Constant(None), scope, where)
        args = ast.arguments(
            posonlyargs=[], args=[ast.arg(var(p)) for p in params],
            vararg=ast.arg("_sk_extra"),
            kwonlyargs=[ast.arg(var(n)) for n in captured],
            kw_defaults=[ast.Name(var(n), ast.Load()) for n in captured],
            kwarg=None, defaults=[])
        fn = ast.FunctionDef(pyname, args, stmts, [], None)
        return self.at(fn, where)

    def nested(self, pyname: str, params: list[str], body: list[sk.Statement], parent: Scope,
               node: sk.Node) -> ast.FunctionDef:
        scope = Scope(parent, params, body, self.includes)
        return self.function(pyname, params, body, scope, node)

    # ---- the console's session (console.py) -------------------------------------------------
    def session_start(self, names: list[str], where) -> list[ast.stmt]:
        """_sk_R = _sk_builtins.session_ref(); _sk_S = _sk_R.get(); v_x = _sk_S.get("x",
        _sk_U) ... (the get() in compiled code: reading the session may migrate to it)"""
        stmts = [ast.Assign([ast.Name("_sk_R", ast.Store())],
                            self.builtin("session_ref", [], where)),
                 ast.Assign([ast.Name("_sk_S", ast.Store())], _method("_sk_R", "get", []))]
        for n in names:
            stmts.append(ast.Assign([ast.Name(var(n), ast.Store())], _method(
                "_sk_S", "get", [ast.Constant(n), ast.Name("_sk_U", ast.Load())])))
        stmts.append(ast.Assign([ast.Name("_sk_S", ast.Store())], ast.Constant(None)))
        return [self.at(s, where) for s in stmts]

    def return_(self, value: ast.expr, scope: Scope, where) -> list[ast.stmt]:
        """`return value`; at a console entry's top level, saving its variables first."""
        if scope.parent is not None:
            return [self.at(ast.Return(value), where)]
        if self.session is None:  # the script's result: JSON, checked where it is returned
            return [self.at(ast.Return(self.values("result", [value], where)), where)]
        names = sorted(scope.assigned)
        variables = ast.Dict([ast.Constant(n) for n in names],
                             [ast.Name(var(n), ast.Load()) for n in names])
        saved = [ast.Name(n, ast.Load()) for n in ("_sk_R", "_sk_V", "_sk_S")]
        stmts = [ast.Assign([ast.Name("_sk_V", ast.Store())], value),
                 ast.Assign([ast.Name("_sk_S", ast.Store())],
                            self.builtin("session_vars", [variables], where)),
                 ast.Expr(_method("_sk_R", "set", [ast.Name("_sk_S", ast.Load())])),
                 ast.Return(self.builtin("session_result", saved, where))]
        return [self.at(s, where) for s in stmts]

    # ---- statements --------------------------------------------------------------------------
    def block(self, body: list[sk.Statement], scope: Scope) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for node in body:
            out += self.statement(node, scope)
        return out or [ast.Pass()]

    def statement(self, node: sk.Statement, scope: Scope) -> list[ast.stmt]:
        """The Python statements of one statement, after the functions its expressions
        define (hoisted: see the module's docstring)."""
        outer, self.hoisted = self.hoisted, []
        stmts = _rule(self, "stmt_", node)(node, scope)
        hoisted, self.hoisted = self.hoisted, outer
        return [self.at(s, node) for s in hoisted + stmts]

    def stmt_ExprStatement(self, node: sk.ExprStatement, scope: Scope) -> list[ast.stmt]:
        return [ast.Expr(self.expr(node.value, scope))]

    def stmt_Assign(self, node: sk.Assign, scope: Scope) -> list[ast.stmt]:
        if isinstance(node.target, sk.Name):
            value = self.expr(node.value, scope)
            return [ast.Assign([ast.Name(var(node.target.id), ast.Store())], value)]
        obj, key = self.index_parts(node.target, scope)
        value = self.expr(node.value, scope)
        return [ast.Expr(self.operator("setitem", [obj, key, value], node))]

    def stmt_AugAssign(self, node: sk.AugAssign, scope: Scope) -> list[ast.stmt]:
        if isinstance(node.target, sk.Name):
            current = self.expr(node.target, scope)
            new = self.operator("iadd", [current, self.expr(node.value, scope)], node)
            return [ast.Assign([ast.Name(var(node.target.id), ast.Store())], new)]
        obj, key = self.index_parts(node.target, scope)
        return [ast.Expr(self.operator("iadd_item", [obj, key, self.expr(node.value, scope)],
                                       node))]

    def index_parts(self, target: sk.Index, scope: Scope) -> tuple[ast.expr, ast.expr]:
        return self.expr(target.obj, scope), self.expr(target.key, scope)

    def stmt_FunctionDef(self, node: sk.FunctionDef, scope: Scope) -> list[ast.stmt]:
        return [self.nested(var(node.name), node.params, node.body, scope, node)]

    def stmt_If(self, node: sk.If, scope: Scope) -> list[ast.stmt]:
        return [ast.If(self.expr(node.test, scope), self.block(node.body, scope),
                       self.block(node.orelse, scope) if node.orelse else [])]

    def stmt_While(self, node: sk.While, scope: Scope) -> list[ast.stmt]:
        return [ast.While(self.expr(node.test, scope), self.block(node.body, scope), [])]

    def stmt_DoWhile(self, node: sk.DoWhile, scope: Scope) -> list[ast.stmt]:
        # `continue` must re-test the condition: while first or test: first = False ...
        first = self.temp("first")
        test = self.expr(node.test, scope)
        loop = ast.While(ast.BoolOp(ast.Or(), [ast.Name(first, ast.Load()), test]),
                         [ast.Assign([ast.Name(first, ast.Store())], ast.Constant(False))]
                         + self.block(node.body, scope), [])
        return [ast.Assign([ast.Name(first, ast.Store())], ast.Constant(True)), loop]

    def stmt_For(self, node: sk.For, scope: Scope) -> list[ast.stmt]:
        items = self.operator("iterate", [self.expr(node.iterable, scope)], node)
        return [ast.For(ast.Name(var(node.var), ast.Store()), items,
                        self.block(node.body, scope), [])]

    def stmt_Return(self, node: sk.Return, scope: Scope) -> list[ast.stmt]:
        value = ast.Constant(None) if node.value is None else self.expr(node.value, scope)
        return self.return_(value, scope, node)

    def stmt_Break(self, node: sk.Break, scope: Scope) -> list[ast.stmt]:
        return [ast.Break()]

    def stmt_Continue(self, node: sk.Continue, scope: Scope) -> list[ast.stmt]:
        return [ast.Continue()]

    def stmt_Block(self, node: sk.Block, scope: Scope) -> list[ast.stmt]:
        return self.block(node.body, scope)

    def stmt_Include(self, node: sk.Include, scope: Scope) -> list[ast.stmt]:
        return self.block(self.includes(node), scope)

    # ---- expressions -------------------------------------------------------------------------
    def expr(self, node: sk.Expr, scope: Scope) -> ast.expr:
        return self.at(_rule(self, "expr_", node)(node, scope), node)

    def expr_Constant(self, node: sk.Constant, scope: Scope) -> ast.expr:
        return ast.Constant(node.value)

    def expr_Name(self, node: sk.Name, scope: Scope) -> ast.expr:
        """A variable's value (an error if it has none yet), else a built-in's."""
        name = node.id
        if scope.visible(name):
            v = ast.Name(var(name), ast.Load())
            return ast.IfExp(ast.Compare(v, [ast.IsNot()], [ast.Name("_sk_U", ast.Load())]),
                             ast.Name(var(name), ast.Load()),
                             self.values("unbound", [ast.Constant(name)], node))
        if name in BUILTINS:
            if name in _VALUE_BUILTINS:
                attr = _VALUE_BUILTINS[name]
                return ast.Constant(None) if attr is None else self.builtin(attr, [], node)
            return ast.Attribute(ast.Name("_sk_builtins", ast.Load()), name + "_", ast.Load())
        return self.values("unbound", [ast.Constant(name)], node)

    def expr_ListLiteral(self, node: sk.ListLiteral, scope: Scope) -> ast.expr:
        return ast.List([self.expr(e, scope) for e in node.items], ast.Load())

    def expr_DictLiteral(self, node: sk.DictLiteral, scope: Scope) -> ast.expr:
        return ast.Dict([self.expr(key, scope) for key, _ in node.pairs],
                        [self.expr(value, scope) for _, value in node.pairs])

    def expr_BinOp(self, node: sk.BinOp, scope: Scope) -> ast.expr:
        op, left, right = node.op, self.expr(node.left, scope), self.expr(node.right, scope)
        if op in ("&&", "||"):
            return ast.BoolOp(ast.And() if op == "&&" else ast.Or(), [left, right])
        if op in ("==", "!="):  # deep equality, as Python's (and the original's)
            return ast.Compare(left, [_COMPARE[op]()], [right])
        if op in _COMPARE:
            return self.operator("compare", [ast.Constant(op), left, right], node)
        return self.operator("add" if op == "+" else "sub", [left, right], node)

    def expr_Unary(self, node: sk.Unary, scope: Scope) -> ast.expr:
        operand = self.expr(node.operand, scope)
        if node.op == "*":  # Future.get() called from compiled code: it may migrate
            get = ast.Attribute(self.operator("future", [operand], node), "get", ast.Load())
            return ast.Call(get, [], [])
        if node.op == "!":
            return ast.UnaryOp(ast.Not(), operand)
        return self.operator("neg", [operand], node)

    def expr_Index(self, node: sk.Index, scope: Scope) -> ast.expr:
        return self.operator("getitem", list(self.index_parts(node, scope)), node)

    def expr_Call(self, node: sk.Call, scope: Scope) -> ast.expr:
        """A built-in's call (`spawn` and `spawn_exec` given the prelude's runner), or a
        function value's, checked to be a function first."""
        callee, args = node.callee, [self.expr(a, scope) for a in node.args]
        if isinstance(callee, sk.Name) and not scope.visible(callee.id) \
                and callee.id in BUILTINS and callee.id not in _VALUE_BUILTINS:
            name = callee.id
            if name == "spawn":
                args = [ast.Name("_sk_task", ast.Load())] + args
            elif name in ("spawn_exec", "exec"):
                args = [ast.Name("_sk_exec", ast.Load())] + args
            return self.builtin(name + "_", args, node)
        return ast.Call(self.operator("callable", [self.expr(callee, scope)], node), args, [])

    def expr_Function(self, node: sk.Function, scope: Scope) -> ast.expr:
        """Hoisted into a def before the statement (captures happen where it is evaluated)."""
        name = self.temp("fn")
        self.hoisted.append(self.nested(name, node.params, node.body, scope, node))
        return ast.Name(name, ast.Load())


def _rule(translator: Translator, family: str, node: sk.Node):
    """The translator's method for this kind of node (`stmt_While`, `expr_BinOp`)."""
    rule = getattr(translator, family + type(node).__name__, None)
    if rule is None:  # the parser made a node this translator has no rule for: a bug
        raise NotImplementedError(f"translate.py has no {family}{type(node).__name__} "
                                  f"({translator.filename}:{node.line}:{node.col})")
    return rule


def _method(obj: str, name: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name(obj, ast.Load()), name, ast.Load()), args, [])


def _is_print(expr: sk.Expr) -> bool:
    return isinstance(expr, sk.Call) and isinstance(expr.callee, sk.Name) and \
        expr.callee.id == "print"


def translate(body: list[sk.Statement], filename: str, includes,
              session: list[str] | None = None) -> ast.Module:
    """The module of a script; `session`: it is a console entry (console.py), and these
    are the names of the variables the session has so far."""
    module = Translator(filename, includes, session).main(body)
    return ast.fix_missing_locations(module)
