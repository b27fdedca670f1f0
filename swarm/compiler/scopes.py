"""Pass 2: move variables that closures share into boxes.

A resumer is a separate function: it cannot be handed the cells of the original frame. So a
variable of a compiled function that a nested scope uses (a cell variable) becomes a `Box`
held in an ordinary local, `_sw_box_<name>`, and every use of it - in the owner and in the
nested scopes - becomes `_sw_box_<name>.v`. The nested function closes over the box, which
never changes, and pickling one continuation keeps one box however many frames and closures
hold it. `nonlocal` declarations of boxed names disappear: the box is enough.
"""

from __future__ import annotations

import ast

from swarm.compiler.analysis import Transformer, Visitor, located, name, support
from swarm.compiler.errors import error_at

FUNCTION_NODES = (ast.FunctionDef, ast.Lambda)
COMP_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class Scope:
    """One scope of the module (module, function, lambda, comprehension, class): what it
    binds and what it reads from outside."""

    def __init__(self, node, kind: str, parent: Scope | None) -> None:
        self.node = node
        self.kind = kind  # module | function | lambda | comp | class
        self.parent = parent
        self.params: set[str] = set()
        self.assigned: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.names: list[ast.Name] = []  # Name nodes that belong to this scope
        self.boxed: set[str] = set()
        self._locals: set[str] | None = None
        self._owners: dict[str, Scope | None] = {}

    @property
    def locals(self) -> set[str]:
        """Its local variables (asked once the whole module was collected: kept)."""
        if self._locals is None:
            self._locals = (self.params | self.assigned) - self.globals - self.nonlocals
        return self._locals

    def owner_of(self, ident: str) -> Scope | None:
        """The function scope whose variable `ident` is, seen from this scope (None: global).

        Discussion: asked for every name of the module, twice; a scope's locals were a new
        set at each question, for it and each enclosing scope. Asked once the module is
        collected, so the answers are kept."""
        try:
            return self._owners[ident]
        except KeyError:
            pass
        found = self._owner_of(ident)
        self._owners[ident] = found
        return found

    def _owner_of(self, ident: str) -> Scope | None:
        if ident in self.globals:
            return None
        if ident in self.locals and self.kind != "module":
            return self
        scope = self.parent
        while scope is not None and scope.kind != "module":
            if scope.kind != "class" and ident in scope.locals:
                return scope
            scope = scope.parent
        return None


class _Collector(Visitor):
    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.current: Scope | None = None
        self.binding: list[ast.stmt] = []  # statements given `sw_bind_scope`

    def _enter(self, node, kind) -> Scope:
        scope = Scope(node, kind, self.current)
        self.scopes.append(scope)
        return scope

    def _run(self, scope: Scope, nodes) -> None:
        saved, self.current = self.current, scope
        for n in nodes:
            self.visit(n)
        self.current = saved

    def visit_Module(self, node):
        self._run(self._enter(node, "module"), node.body)

    def _args(self, scope: Scope, args: ast.arguments) -> None:
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            scope.params.add(a.arg)
        for a in (args.vararg, args.kwarg):
            if a is not None:
                scope.params.add(a.arg)

    def _defaults(self, args: ast.arguments, decorators=()) -> None:
        for d in list(args.defaults) + [d for d in args.kw_defaults if d] + list(decorators):
            self.visit(d)

    def visit_FunctionDef(self, node):
        self.current.assigned.add(node.name)
        self.current.assigned.update(getattr(node, "sw_binds_outer", ()))  # lifted walrus
        node.sw_bind_scope = self.current
        self.binding.append(node)
        self._defaults(node.args, node.decorator_list)
        scope = self._enter(node, "function")
        self._args(scope, node.args)
        self._run(scope, node.body)

    def visit_Lambda(self, node):
        self._defaults(node.args)
        scope = self._enter(node, "lambda")
        self._args(scope, node.args)
        self._run(scope, [node.body])

    def visit_ClassDef(self, node):
        self.current.assigned.add(node.name)
        node.sw_bind_scope = self.current
        self.binding.append(node)
        for n in node.bases + node.keywords + node.decorator_list:
            self.visit(n)
        self._run(self._enter(node, "class"), node.body)

    def _comp(self, node, parts):
        self.visit(node.generators[0].iter)
        scope = self._enter(node, "comp")
        saved, self.current = self.current, scope
        for i, gen in enumerate(node.generators):
            self.visit(gen.target)
            if i:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        for part in parts:
            self.visit(part)
        self.current = saved

    def visit_ListComp(self, node):
        self._comp(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        self._comp(node, [node.key, node.value])

    def visit_NamedExpr(self, node):
        scope = self.current
        while scope.kind == "comp":  # a walrus in a comprehension binds in the enclosing scope
            scope = scope.parent
        scope.assigned.add(node.target.id)
        scope.names.append(node.target)
        self.visit(node.value)

    def visit_Global(self, node):
        self.current.globals.update(node.names)

    def visit_Nonlocal(self, node):
        self.current.nonlocals.update(node.names)

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.current.assigned.add(node.id)
        self.current.names.append(node)

    def visit_Import(self, node):
        node.sw_bind_scope = self.current
        self.binding.append(node)
        for alias in node.names:
            if alias.name != "*":
                self.current.assigned.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node):
        if node.name:
            self.current.assigned.add(node.name)
        self.generic_visit(node)


def box_cells(tree: ast.Module, filename: str) -> None:
    """Move each variable a nested scope shares into a Box (in place), so that resumers
    and pickling keep the sharing."""
    collector = _Collector()
    collector.visit(tree)
    # which (owner, name) pairs are used from another scope?
    # Discussion: a name no scope but the module's has as a local has no owner (owner_of is
    # None), and a name no scope boxes is not boxed: most names of most modules are asked
    # nothing
    owned = set().union(*(scope.locals for scope in collector.scopes if scope.kind != "module"))
    for scope in collector.scopes:
        if scope.kind == "comp":
            # a call-free comprehension runs within one statement and is never captured or
            # resumed on its own: sharing a cell with it needs no box (and its walrus stays a
            # plain assignment)
            continue
        for node in scope.names:
            if node.id not in owned:
                continue
            owner = scope.owner_of(node.id)
            if owner is not None and owner is not scope and owner.kind == "function":
                owner.boxed.add(node.id)
    boxed = set().union(*(scope.boxed for scope in collector.scopes))
    for scope in collector.scopes if boxed else ():
        for node in scope.names:
            if node.id not in boxed:
                continue
            owner = scope.owner_of(node.id)
            if owner is not None and node.id in owner.boxed:
                node.sw_box = "_sw_box_" + node.id
    # Discussion: every use of a box, and every statement binding one, is inside the
    # function owning it, so only the outermost owners' trees are rewritten (most modules
    # have no box: the walk of the whole tree was a tenth of compiling)
    owners = [scope for scope in collector.scopes if scope.boxed]
    owning = {id(scope) for scope in owners}
    for scope in owners:
        outer = scope.parent
        while outer is not None and id(outer) not in owning:
            outer = outer.parent
        if outer is None:
            _Rewriter(filename).generic_visit(scope.node)
    for scope in owners:
        _init_boxes(scope)
    for node in collector.binding:  # the scope tree must not follow the AST into copies
        del node.sw_bind_scope
    for scope in collector.scopes:  # (a scope may be its own owner: no cycle left behind)
        scope._owners.clear()


def _init_boxes(scope: Scope) -> None:
    fn: ast.FunctionDef = scope.node
    inits = []
    for ident in sorted(scope.boxed):
        args = [ast.Constant(ident)] + ([name(ident)] if ident in scope.params else [])
        box = ast.Call(func=support("Box"), args=args, keywords=[])
        box.sw_safe = True
        inits.append(located(ast.Assign(targets=[name("_sw_box_" + ident, ast.Store())],
                                        value=box), fn))
    doc = 1 if (fn.body and isinstance(fn.body[0], ast.Expr)
                and isinstance(fn.body[0].value, ast.Constant)
                and isinstance(fn.body[0].value.value, str)) else 0
    fn.body[doc:doc] = inits


class _Rewriter(Transformer):
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def visit_Name(self, node):
        box = getattr(node, "sw_box", None)
        if box is None:
            return node
        return located(ast.Attribute(value=name(box), attr="v", ctx=node.ctx), node)

    def visit_NamedExpr(self, node):
        if getattr(node.target, "sw_box", None):
            raise error_at(node, f"a walrus assignment to {node.target.id!r}, which a nested "
                           "function uses, is not supported; assign it with `=`", self.filename)
        return self.generic_visit(node)

    def visit_AnnAssign(self, node):
        # Discussion: a box belongs to a function, and CPython never evaluates the
        # annotation of a function's local (PEP 526: no __annotations__ entry, no run-time
        # effect), so `x: T = v` is `x = v` and `x: T` alone is nothing. An AnnAssign whose
        # target became `_sw_box_x.v` would be a "simple" non-Name target CPython refuses.
        target = node.target
        if not (isinstance(target, ast.Name) and getattr(target, "sw_box", None)):
            return self.generic_visit(node)
        if node.value is None:
            return located(ast.Pass(), node)
        return located(ast.Assign(targets=[self.visit(target)], value=self.visit(node.value)),
                       node)

    def visit_Nonlocal(self, node):
        return None  # every nonlocal name is a cell of a function, hence boxed

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        return self._bind_stmt(node, [node.name])

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        return self._bind_stmt(node, [node.name])

    def visit_Import(self, node):
        return self._bind_stmt(node, [(a.asname or a.name).split(".")[0] for a in node.names])

    visit_ImportFrom = visit_Import

    def _bind_stmt(self, node, idents):
        """`def f`, `class C`, `import m` bind a name without a Name node: copy into the box."""
        scope: Scope | None = getattr(node, "sw_bind_scope", None)
        out = [node]
        for ident in idents:
            owner = scope.owner_of(ident) if scope is not None else None
            if owner is not None and ident in owner.boxed:
                out.append(located(ast.Assign(
                    targets=[ast.Attribute(value=name("_sw_box_" + ident), attr="v",
                                           ctx=ast.Store())],
                    value=name(ident)), node))
        return out if len(out) > 1 else node
