"""Facts about a module's AST the passes share: which calls may suspend, which names a
statement binds, and the temp-name allocator."""

from __future__ import annotations

import ast
import bisect
import builtins
import itertools
import re
import sys

#: builtins that are plain calls, never suspension points, unless the module rebinds the name.
#: (If user code reached through one of them suspends - a key function, a __str__ - the
#: capture's callee check reports NotMigratable: C code cannot be captured.)
SAFE_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_")) - {"next"}

TEMP_PREFIX = "_sw_"

_STDLIB = frozenset(sys.stdlib_module_names)


class ModuleFacts:
    """Facts about one module the passes share: the names it binds anywhere, the first
    construct that cannot be compiled (`unsupported`: (node, why) or None), and fresh
    temporary names (`temp`)."""

    def __init__(self, tree: ast.Module) -> None:
        (self.bound, self.stdlib, lines, lambdas, self.unsupported,
         self.has_global, binders) = bindings(tree)
        self.hidden_function_lines = sorted(lines)
        self.lambda_lines = sorted(lambdas)
        #: the lines where a walrus, a yield, a lambda or a comprehension starts: an
        #: expression spanning none of them binds no name and does not yield
        #: (points._scope_facts)
        self.scope_lines = sorted(lines | binders)
        # set by the desugaring pass: does a function hold a def, class or lambda (a scope
        # that may share its variables, which then move into boxes: scopes.py)?
        self.nested_in_functions = True
        self.mentions_super = True  # might the text call super()? (pipeline: False if not)
        self.lifted_at_module = False  # set by the desugaring pass: a def lifted there
        self._ids = itertools.count(1)
        self._resumer_ids = itertools.count(1)

    def may_hide_functions(self, e: ast.AST) -> bool:
        """Might `e` hold a lambda, comprehension or generator expression (the desugaring
        pass's business)? False only when none starts on one of the lines `e` spans."""
        return _spans_one_of(e, self.hidden_function_lines)

    def may_hold_lambda(self, e: ast.AST) -> bool:
        """Might `e` hold a lambda? False only when none starts on one of the lines it spans."""
        return _spans_one_of(e, self.lambda_lines)

    def temp(self, hint: str) -> str:
        return f"{TEMP_PREFIX}{hint}{next(self._ids)}"

    def resumer_temp(self, hint: str) -> str:
        """A fresh name for a variable only resumers have (`_sw_r<hint>N`). Discussion: its
        own count, so that the module's code names its temporaries alike whether its
        resumers were built with it or later (pipeline.build_resumers): a frame's record
        names them."""
        return f"{TEMP_PREFIX}r{hint}{next(self._resumer_ids)}"

    def is_builtin(self, name: str) -> bool:
        return name in SAFE_BUILTINS and name not in self.bound

    def is_next(self, call: ast.Call) -> bool:
        return (isinstance(call.func, ast.Name) and call.func.id == "next"
                and "next" not in self.bound and 1 <= len(call.args) <= 2 and not call.keywords)

    def may_suspend(self, call: ast.Call) -> bool:
        """Is this call a suspension point? Not a call of a builtin, nor of a name the module
        binds only by importing it from the standard library (`from random import random`).

        Discussion: library code cannot be captured. If what it calls back suspends (a key
        function, a __deepcopy__), the capture finds an uncompiled frame on the stack and the
        program goes on without moving, told on its stderr - whether or not the call site was
        a point; a point there would only cost a temporary and a handler. An attribute of a
        library module (`re.compile(s)`) stays a point: a program may have replaced it with a
        function of its own (pyperformance's regex_compile does), which may suspend."""
        d = call.__dict__
        if d.get("sw_safe"):
            return False
        func = d["func"]
        if type(func) is not ast.Name:
            return True
        ident = func.id
        return not ((ident in SAFE_BUILTINS and ident not in self.bound)
                    or ident in self.stdlib)

    def has_suspending_call(self, node: ast.AST) -> bool:
        for sub in walk(node):
            if isinstance(sub, ast.Call) and self.may_suspend(sub):
                return True
            if isinstance(sub, (ast.Yield, ast.YieldFrom, ast.Await)):
                return True
        return False


_HIDDEN_FUNCTIONS = frozenset({ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                               ast.GeneratorExp})


def _spans_one_of(e: ast.AST, lines: list[int]) -> bool:
    """Does `e` span one of `lines` (sorted; 0 first: somewhere not known)? True when `e`
    has no position."""
    d = e.__dict__
    lo, hi = d.get("lineno"), d.get("end_lineno")
    if lo is None or hi is None or (lines and lines[0] == 0):
        return True
    i = bisect.bisect_left(lines, lo)
    return i < len(lines) and lines[i] <= hi


#: statement class -> its fields holding assignment targets (walked whole), its fields holding
#: expressions read (walked only where they span one of the lines given), its fields holding
#: statement lists
SHAPES: dict[type, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    ast.Assign: (("targets",), ("value",), ()),
    ast.AugAssign: (("target",), ("value",), ()),
    ast.AnnAssign: (("target",), ("annotation", "value"), ()),
    ast.Delete: (("targets",), (), ()),
    ast.For: (("target",), ("iter",), ("body", "orelse")),
    ast.While: ((), ("test",), ("body", "orelse")),
    ast.If: ((), ("test",), ("body", "orelse")),
    ast.With: ((), ("items",), ("body",)),
    ast.Try: ((), (), ("body", "handlers", "orelse", "finalbody")),
    ast.ExceptHandler: ((), ("type",), ("body",)),
    ast.Match: ((), ("subject", "cases"), ()),
    ast.Expr: ((), ("value",), ()),
    ast.Return: ((), ("value",), ()),
    ast.Raise: ((), ("exc", "cause"), ()),
    ast.Assert: ((), ("test", "msg"), ()),
    ast.Pass: ((), (), ()), ast.Break: ((), (), ()), ast.Continue: ((), (), ()),
    ast.Import: ((), (), ()), ast.ImportFrom: ((), (), ()), ast.Global: ((), (), ()),
    ast.Nonlocal: ((), (), ()),
}


def skeleton(stmts, lines: list[int], shapes: dict) -> tuple[list[ast.AST], list[ast.AST]]:
    """A walk of the statements `stmts` and those inside them that leaves out the expressions
    read that span none of `lines` (sorted): (the statements met, each holding no such
    expression but in the parts returned; the nodes to walk whole - targets, the
    expressions spanning one of the lines, a statement without a block spanning one, any
    statement `shapes` does not describe)."""
    met: list[ast.AST] = []
    whole: list[ast.AST] = []
    todo = list(stmts)
    pop = todo.pop
    shape_of = shapes.get
    spans = _spans_one_of
    while todo:
        node = pop()
        shape = shape_of(type(node))
        if shape is None:
            whole.append(node)
            continue
        targets, reads, blocks = shape
        if not blocks and spans(node, lines):
            whole.append(node)
            continue
        met.append(node)
        d = node.__dict__
        for f in targets:
            v = d.get(f)
            if type(v) is list:
                whole += v
            elif v is not None:
                whole.append(v)
        for f in reads:
            v = d.get(f)
            if type(v) is list:
                whole += [x for x in v if spans(x, lines)]
            elif v is not None and spans(v, lines):
                whole.append(v)
        for f in blocks:
            todo += d.get(f) or ()
    return met, whole


_ASYNC = (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)


_BINDERS = frozenset({ast.NamedExpr, ast.Yield, ast.YieldFrom})
_BINDING_FACTS = frozenset({ast.Name, ast.arg, ast.FunctionDef, ast.ClassDef, ast.Import,
                            ast.ImportFrom, ast.ExceptHandler, ast.Global, ast.TryStar,
                            *_HIDDEN_FUNCTIONS, *_ASYNC, *_BINDERS})


def bindings(tree: ast.AST) -> tuple[set[str], frozenset[str], set[int], set[int],
                                     tuple | None, bool, set[int]]:
    """(every name bound anywhere in the module, in any scope - a conservative shadowing
    check; the names it binds only by importing the standard library - `import math`, `from
    random import random` - and no other way; the lines where a lambda or comprehension
    starts; the lines where a lambda starts; the first construct that cannot be compiled for
    migration, (node, why), or None: async code, except*, names the compiler reserves;
    whether a `global` statement stands anywhere; the lines where a walrus or a yield starts).

    Discussion: one walk of the whole tree for all of them (the check of what is supported was
    a walk of its own)."""
    names: set[str] = set()
    stdlib: set[str] = set()
    other_imports: set[str] = set()
    lines: set[int] = set()
    lambdas: set[int] = set()
    unsupported = None
    has_global = False
    binders: set[int] = set()
    todo = [tree]  # (walk, without a generator's cost per node)
    pop = todo.pop
    get = CHILDREN.get
    Name, Load = ast.Name, ast.Load
    while todo:
        node = pop()
        cls = type(node)
        if cls is Name:  # (a third of the nodes; no children)
            if type(node.ctx) is not Load:
                names.add(node.id)
            if unsupported is None and node.id.startswith(TEMP_PREFIX):
                unsupported = (node, f"names starting with {TEMP_PREFIX!r} are reserved for "
                                     "the swarm compiler")
            continue
        fn = get(cls) or children_function(cls)
        if fn is not no_children:
            todo += fn(node)
        if cls not in _BINDING_FACTS:  # (most nodes: one test)
            continue
        if cls is ast.arg:
            names.add(node.arg)
        elif cls in _HIDDEN_FUNCTIONS:
            line = node.__dict__.get("lineno") or 0  # (0: somewhere, not known)
            lines.add(line)
            if cls is ast.Lambda:
                lambdas.add(line)
        elif cls is ast.FunctionDef or cls is ast.ClassDef:
            names.add(node.name)
        elif cls is ast.Import or cls is ast.ImportFrom:
            module = node.module if cls is ast.ImportFrom else None
            for a in node.names:
                bound = (a.asname or a.name).split(".")[0]
                root = (module or a.name).split(".")[0]
                std = root in _STDLIB and not getattr(node, "level", 0) and a.name != "*"
                (stdlib if std else other_imports).add(bound)
        elif cls is ast.ExceptHandler:
            if node.name:
                names.add(node.name)
        elif cls in _ASYNC:
            if cls is ast.AsyncFunctionDef:
                names.add(node.name)
            if unsupported is None:
                unsupported = (node, "async code cannot be compiled for migration")
        elif cls in _BINDERS:
            binders.add(node.__dict__.get("lineno") or 0)
        elif cls is ast.Global:
            has_global = True
        elif cls is ast.TryStar:
            if unsupported is None:
                unsupported = (node, "`except*` is not supported")
    return (names | stdlib | other_imports, frozenset(stdlib - other_imports - names), lines,
            lambdas, unsupported, has_global, binders)


def stmt_lists(node: ast.stmt):
    """The statement lists directly inside a compound statement (bodies, handlers, cases)."""
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value
    for handler in getattr(node, "handlers", ()):
        yield handler.body
    for case in getattr(node, "cases", ()):
        yield case.body


#: fields that never hold a node worth visiting: names, numbers, strings, and the expression
#: contexts and operators (singletons shared by every tree, without position or children)
_LEAF_FIELDS = frozenset({"id", "name", "arg", "attr", "module", "level", "kind", "conversion",
                          "type_comment", "is_async", "simple", "asname", "tag", "kwd_attrs",
                          "rest", "ctx", "op", "ops", "lineno", "col_offset", "end_lineno",
                          "end_col_offset"})
_LEAF_CLASS_FIELDS = {ast.Constant: ("value",), ast.MatchSingleton: ("value",),
                      ast.Global: ("names",), ast.Nonlocal: ("names",)}
_HOLEY = frozenset({"keys", "kw_defaults"})  # lists with None in them (`{**d}`, `*, a`)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _node_fields(cls: type) -> tuple[str, ...]:
    skip = _LEAF_FIELDS.union(_LEAF_CLASS_FIELDS.get(cls, ()))
    fields = _FIELDS[cls] = tuple(f for f in cls._fields if f not in skip)
    return fields


def _generic_children(node: ast.AST) -> list[ast.AST]:
    """children() for a node class without a grammar signature (the compiler's own markers,
    Point, Delegation, InlineComp), or a node a pass left without one of its fields."""
    cls = type(node)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _node_fields(cls)
    out: list[ast.AST] = []
    if not fields:
        return out
    d = node.__dict__
    for f in fields:
        v = d.get(f)
        if v is None:
            continue
        if type(v) is list:
            if f in _HOLEY:
                out += [x for x in v if x is not None]
            else:
                out += v
        elif isinstance(v, ast.AST):
            out.append(v)
    return out


#: the grammar's types whose values are leaves: names, numbers, strings, and the expression
#: contexts and operators (singletons shared by every tree)
_LEAF_TYPES = frozenset({"identifier", "int", "string", "constant", "expr_context", "operator",
                         "cmpop", "unaryop", "boolop"})
_SIGNATURE = re.compile(r"(\w+)\((.*)\)")
CHILDREN: dict[type, object] = {}  # node class -> the function giving its children


def grammar_fields(cls: type) -> list[tuple[str, str]] | None:
    """[(type, field)] of a node class from the grammar's signature in its docstring
    (`Call(expr func, expr* args, keyword* keywords)`: ("expr", "func"), ("expr*", "args")...),
    or None for a class without one (the compiler's own markers)."""
    m = _SIGNATURE.fullmatch(cls.__doc__ or "")
    if m is None or m.group(1) != cls.__name__ or "lineno" in m.group(2):
        return None
    return [tuple(f.split()) for f in filter(None, (f.strip() for f in m.group(2).split(",")))]


def _children_of(cls: type):
    """A function giving a node's children, made for its class from the grammar's signature
    (the class's docstring, `Call(expr func, expr* args, keyword* keywords)`): one list
    display reading each field that can hold a node, in order, no loop over the fields.

    Discussion: children() is called for nearly every node by every pass (326,000 times for
    the suite's 49 sources); the loop over the fields with a type test per value was a tenth
    of compiling. A field missing from a node a pass made (KeyError) falls back to the
    generic walk, which skips it."""
    signature = grammar_fields(cls)
    if signature is None:
        return _generic_children
    parts = []
    for kind, fname in signature:
        base = kind.rstrip("*?")
        if base in _LEAF_TYPES:
            continue
        if kind.endswith("*"):
            if fname in _HOLEY:
                parts.append(f"*[x for x in d[{fname!r}] if x is not None]")
            else:
                parts.append(f"*d[{fname!r}]")
        elif kind.endswith("?"):
            parts.append(f"*((v,) if (v := d.get({fname!r})) is not None else ())")
        else:
            parts.append(f"d[{fname!r}]")
    if not parts:
        return no_children
    src = (f"def children_{cls.__name__}(node):\n"
           f"    d = node.__dict__\n"
           f"    try:\n"
           f"        return [{', '.join(parts)}]\n"
           f"    except KeyError:\n"
           f"        return generic(node)\n")
    namespace = {"generic": _generic_children}
    exec(compile(src, f"<children of {cls.__name__}>", "exec"), namespace)
    return namespace[f"children_{cls.__name__}"]


def no_children(node: ast.AST) -> list[ast.AST]:
    """children() of a node class that has none (Name, Constant, Pass: a third of nodes)."""
    return []


def children_function(cls: type):
    """The function giving children() of nodes of class `cls`. A hot walk looks it up in
    CHILDREN itself (`CHILDREN.get(cls) or children_function(cls)`) and skips `no_children`:
    a call less per node."""
    fn = CHILDREN.get(cls)
    if fn is None:
        fn = CHILDREN[cls] = _children_of(cls)
    return fn


def children(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes as a list, several times as fast: the compiler's passes walk every
    tree several times, and this was the largest single cost of compiling. Fields that never
    hold a node (names, constants) are not looked at, and neither are expression contexts and
    operators (`ast.Load()`, `ast.Add()`: leaves without a position, shared by every tree)."""
    cls = type(node)
    fn = CHILDREN.get(cls)
    if fn is None:
        fn = CHILDREN[cls] = _children_of(cls)
    return fn(node)


_METHODS: dict[tuple[type, type], object] = {}


def _method(visitor: type, node: type):
    found = _METHODS.get((visitor, node))
    if found is None:
        found = _METHODS[visitor, node] = getattr(visitor, "visit_" + node.__name__,
                                                  visitor.generic_visit)
    return found


class Visitor(ast.NodeVisitor):
    """ast.NodeVisitor with the method for each node class looked up once, walking
    `children` (no expression contexts, operators or constants' values; `visit_Constant` is
    a leaf, not the deprecated visit_Num/visit_Str shim)."""

    def visit(self, node):
        return _method(type(self), type(node))(self, node)

    def generic_visit(self, node):
        for child in children(node):
            self.visit(child)

    def visit_Constant(self, node):
        return None


class Transformer(ast.NodeTransformer):
    """ast.NodeTransformer, as Visitor is ast.NodeVisitor (the same replacement rules: None
    removes, a list splices into a list field)."""

    def visit(self, node):
        return _method(type(self), type(node))(self, node)

    def visit_Constant(self, node):
        return node

    def generic_visit(self, node):
        cls = type(node)
        fields = _FIELDS.get(cls)
        if fields is None:
            fields = _node_fields(cls)
        d = node.__dict__
        for f in fields:
            old = d.get(f)
            if old is None:
                continue
            if type(old) is list:
                new = []
                for value in old:
                    if isinstance(value, ast.AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast.AST):
                            new.extend(value)
                            continue
                    new.append(value)
                old[:] = new
            elif isinstance(old, ast.AST):
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, f)
                elif replaced is not old:
                    setattr(node, f, replaced)
        return node


def walk(node: ast.AST):
    """ast.walk over `children`."""
    todo = [node]
    pop = todo.pop
    get = CHILDREN.get
    while todo:
        n = pop()
        cls = type(n)
        fn = get(cls) or children_function(cls)
        if fn is not no_children:
            todo += fn(n)
        yield n


_HAS_POSITION: dict[type, bool] = {}


def _has_position(cls: type) -> bool:
    found = _HAS_POSITION[cls] = "lineno" in cls._attributes
    return found


def located(node: ast.AST, like: ast.AST) -> ast.AST:
    """Copy `like`'s source position onto `node` and the generated children lacking one.

    The walk stops at children that have a position already: the user's code came from the
    parser with positions, and generated code was located when it was built. (Walking every
    subtree again at each call made compiling quadratic.) Anything missed still gets its
    parent's position from _fix_missing_locations before compile()."""
    return locate_at(node, position_of(like))


def locate_at(node: ast.AST, position: dict) -> ast.AST:
    """located(node, like) with `like`'s position_of already at hand."""
    has = _HAS_POSITION.get
    cls = type(node)
    positioned = has(cls)
    if positioned is None:
        positioned = _has_position(cls)
    if positioned:
        node.__dict__.update(position)
    get = CHILDREN.get
    if (get(cls) or children_function(cls)) is no_children:  # (a Name: most calls)
        return node
    todo = [node]
    pop, push = todo.pop, todo.append
    while todo:
        n = pop()
        fn = get(type(n)) or children_function(type(n))
        if fn is no_children:
            continue
        for child in fn(n):
            d = child.__dict__
            if "lineno" in d:  # (placed already: so is what is under it)
                continue
            cls = type(child)
            positioned = has(cls)
            if positioned is None:
                positioned = _has_position(cls)
            if positioned:
                d.update(position)
            push(child)  # (or a part without a position: arguments, comprehensions...)
    return node


_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def position_of(like: ast.AST) -> dict:
    """`like`'s source position, as keyword arguments for a node's constructor."""
    d = like.__dict__
    try:  # a parsed node, or one made with a position: all four set
        line, col, end_line, end_col = (d["lineno"], d["col_offset"], d["end_lineno"],
                                        d["end_col_offset"])
    except KeyError:
        return {a: d[a] for a in _POSITION if d.get(a) is not None}
    if line is None or col is None or end_line is None or end_col is None:
        return {a: d[a] for a in _POSITION if d.get(a) is not None}
    return {"lineno": line, "col_offset": col, "end_lineno": end_line, "end_col_offset": end_col}


def name(id_: str, ctx=None) -> ast.Name:
    """`id_` as an ast.Name (read, unless `ctx` says otherwise)."""
    return ast.Name(id=id_, ctx=ctx or _LOAD)


_LOAD = ast.Load()  # (one, as the parser shares one: a context is a marker without fields)


def support(attr: str) -> ast.Attribute:
    """`__swarm_support__.<attr>`: a name of swarm.continuation.support, which compiled code
    calls (bound as that global in every compiled module)."""
    return ast.Attribute(value=name("__swarm_support__"), attr=attr, ctx=_LOAD)


def assign(target: str, value: ast.expr) -> ast.Assign:
    """`target = value`"""
    return ast.Assign(targets=[name(target, ast.Store())], value=value)
