"""The compiler's passes, in order: Python source -> a CompiledModule.

    mangle     private names mangled as CPython would (so method resumers agree)
    desugar    reject what cannot migrate; lift suspending lambdas/comprehensions into defs;
               zero-argument super()
    scopes     variables shared with closures move into boxes
    anf        every call that may suspend becomes a numbered Point statement; with/finally/
               for/while desugared where a point hides inside them
    lower      try statements guarded against captures; Points -> capture handlers
    resumers   one resumer function per function, entered through guards

A script of another language is first translated to a Python tree by the translator
registered for its file name's suffix (`register_translator`; Skywriting registers `.sw`).
Pure: no I/O, no cache (registry.py keeps compiled modules by source hash).
"""

from __future__ import annotations

import ast
import gc
import itertools
import re
from types import CodeType
from typing import Callable

from swarm.compiler import compiled as compiled_module
from swarm.compiler.analysis import CHILDREN, ModuleFacts, children, children_function, no_children
from swarm.compiler.anf import Linearizer
from swarm.compiler.compiled import CompiledModule, PointInfo, source_hash
from swarm.compiler.desugar import DISPLAY_NAMES, desugar_module
from swarm.compiler.errors import CompileError, InternalCompilerError
from swarm.compiler.hiding import TopLevel, first_statement, make_dict
from swarm.compiler.lower import guard_trys, lower_points
from swarm.compiler.mangle import mangle_private_names
from swarm.compiler.resumers import ResumerBuilder
from swarm.compiler.scopes import box_cells

#: file name suffix -> translate(source, filename) -> ast.Module, for scripts of other languages
translators: dict[str, Callable[[str, str], ast.Module]] = {}


def register_translator(suffix: str, translate: Callable[[str, str], ast.Module]) -> None:
    """Compile files ending in `suffix` by translating them to a Python tree first:
    `translate(source, filename)` raises CompileError for the script's own errors. The
    compiler knows no other language: a language registers itself (swarm.skywriting)."""
    translators[suffix] = translate


def compile_module(source: str, filename: str, name: str,
                   resumers: bool = False) -> CompiledModule:
    """Compile one module's source, every pass (uncached: registry.compile_source caches).
    Its resumers are built when first asked for (CompiledModule.all_resumers), unless
    `resumers`.

    Discussion: the passes make hundreds of thousands of tree nodes and no garbage cycles;
    the collector's passes over them were a tenth of compiling (a third for regex_v8), so it
    is paused meanwhile (and left as it was if something else paused it)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        parts = _compile_module(source, filename, name, resumers)
    finally:
        if paused:
            gc.enable()
    code, resumer_codes, points, temp_names, live_temps, callees, sites, gens = parts
    return CompiledModule(name=name, filename=filename, source=source,
                          source_hash=source_hash(source), code=code, resumers=resumer_codes,
                          points=points, temp_names=temp_names, live_temps=live_temps,
                          callees=callees, sites=sites, gens=gens)


def build_resumers(compiled: CompiledModule) -> dict[int, CodeType]:
    """The resumers of a module compiled without them: the module compiled again, with them.

    Discussion: a resumer is needed only where a frame of its function is resumed, and most
    functions never are; building them (and CPython compiling them) was a third of
    compiling, paid by every process that ran the module. The passes are deterministic, so
    compiling the same source again numbers the points as before; what the module's code
    relies on (points, sites) is checked to be the same."""
    _, resumer_codes, _, _, live_temps, _, _, _ = _compile_again(
        compiled, "with its resumers", True, False)
    if compiled.live_temps is None:
        compiled.live_temps = live_temps
    return resumer_codes


def build_live_temps(compiled: CompiledModule) -> dict[int, frozenset]:
    """The live temps of a module compiled without them: the module compiled again, with
    them (its resumers not built).

    Discussion: they are read only while a frame of the module is captured (which temps the
    record keeps); finding them walked every statement after every point, a fifth of
    compiling, paid by every process that ran the module, most of which never capture a
    frame of it (a library module, a program that does not move). The module's points and
    sites are checked to be the same, as for build_resumers."""
    return _compile_again(compiled, "for its live temps", False, True)[4]


def _compile_again(compiled: CompiledModule, why: str, with_resumers: bool, with_live: bool):
    """_compile_module's parts for a module compiled before (the collector paused, as for the
    first compile), its points and sites checked to be the same as then."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        parts = _compile_module(compiled.source, compiled.filename, compiled.name,
                                with_resumers, with_live)
    finally:
        if paused:
            gc.enable()
    if parts[2] != compiled.points or parts[6] != compiled.sites:
        raise InternalCompilerError(f"{compiled.filename}: compiled again {why}, the "
                                    "module's points differ from the first compile")
    return parts


def _compile_module(source: str, filename: str, name: str, with_resumers: bool,
                    with_live: bool = False):
    try:
        tree = _parse(source, filename)
    except SyntaxError as e:
        raise CompileError(e.msg, filename, e.lineno or 0, e.offset or 0) from None
    facts = ModuleFacts(tree)
    facts.mentions_super = "super" in source or _translated(filename)
    if _may_have_private_names(source, filename):
        mangle_private_names(tree)
    desugar_module(tree, facts, filename)
    if facts.nested_in_functions:  # else no variable is shared: nothing to box
        box_cells(tree, filename)
    points: dict[int, PointInfo] = {}
    temp_names: dict[str, str] = {}
    counter = itertools.count(1)
    lin = Linearizer(facts, filename, points, temp_names, counter)
    lin.module(tree)

    resumer_defs: list[tuple[list[int], ast.FunctionDef, object, tuple]] = []
    pointless: dict[int, ast.stmt] = {}  # statements the resumer builders found without points
    with_live = with_live or with_resumers
    # compiler temps a point's resumer reads (None: found when first needed)
    live_temps: dict[int, frozenset[str]] | None = {} if with_live else None
    temp_reads: dict[int, frozenset[str]] = {}  # per statement (the resumer shares them)

    def reads(node):
        return _temps_read(node, temp_reads)

    for node, state in lin.functions:
        if not state.points:  # nothing to guard, lower or resume (its nested defs are
            continue  # functions of their own in lin.functions)
        if state.has_try:  # (else guard_trys would walk every statement for nothing)
            node.body = guard_trys(node.body, facts, state.is_module)
        if not with_live:  # (lowering finds the statements without points itself)
            continue
        builder = ResumerBuilder(node, state, facts)
        for p in state.points:
            # Discussion: the point's own target is assigned before anything reads it when
            # the program resumes there: the value it holds now (from the loop's previous
            # iteration, say `n = len(r.get())`) is dead and must not ride along
            dead = {"_sw_k", "_sw_L", "_sw_f", "_sw_a", "_sw_r", lin.point_targets.get(p)}
            live_temps[p] = builder.live_reads(p, reads) - dead
        if with_resumers:
            travelling = frozenset().union(*(live_temps[p] for p in state.points))
            resumer_defs.append((state.points, builder.build(travelling), state,
                                 _display(node, state)))
        pointless.update(builder.without_points())
    # Discussion: a statement the resumer builder found without points is not walked by
    # the lowering (its subtree holds nothing to lower)
    lowered: dict = pointless
    ambiguous = lin.ambiguous
    for node, state in lin.functions:
        if state.points:
            node.body = lower_points(node.body, state.is_module, facts, lowered, ambiguous,
                                     handler=state.captures)
    for _, fn, state, _ in resumer_defs:
        fn.body = lower_points(fn.body, state.is_module, facts, lowered, ambiguous,
                               handler=state.captures)
    sites = {key: p for key, p in lin.sites.items() if key not in ambiguous}
    if facts.lifted_at_module or any(state.points for _, state in lin.functions
                                     if state.is_module):
        # (else the top level holds no temporary, no resumer: nothing to do)
        _hide_module_temps(tree, [fn for _, fn, state, _ in resumer_defs if state.is_module],
                           facts)

    code = _fix_names(_compile(tree, filename), None)
    resumers = None
    if with_resumers:
        res_module = ast.Module(body=[fn for _, fn, _, _ in resumer_defs], type_ignores=[])
        rcode = _compile(res_module, filename)
        by_name = {c.co_name: c for c in rcode.co_consts if isinstance(c, CodeType)}
        resumers = {}
        for points_of_fn, fn, _, (co_name, qualname) in resumer_defs:
            raw = by_name[fn.name]
            fixed = _fix_names(raw, (raw.co_name, co_name, qualname))
            for p in points_of_fn:  # one code object for all the function's points
                resumers[p] = fixed
    return (code, resumers, points, temp_names, live_temps, lin.point_callees, sites,
            lin.point_gens)


def _hide_module_temps(tree: ast.Module, resumers: list[ast.FunctionDef],
                       facts: ModuleFacts) -> None:
    """The module's top-level temporaries made items of its `__swarm_temps__` dict, in its
    code and its resumer (hiding.py): not globals the program sees; `dir()`, `locals()`
    and `vars()` there the module's namespace (in the resumer, a function, they were its);
    `from m import *` a call (CPython refuses it in a function: the resumer)."""
    top = TopLevel(facts.is_builtin("dir"))
    body = top.run(tree.body, True)
    if top.temps:
        at = first_statement(body)
        body.insert(at, make_dict(body[min(at, len(body) - 1)]))
    tree.body = body
    for fn in resumers:
        fn.body = top.run(fn.body, False)


def _parse(source: str, filename: str) -> ast.Module:
    """Python source, or a script of another language translated to a Python tree by the
    translator registered for its file name's suffix (Skywriting registers `.sw`)."""
    for suffix, translate in translators.items():
        if filename.endswith(suffix):
            return translate(source, filename)
    return ast.parse(source, filename)


#: `__` starting a name that goes on and does not end in `__` (literal first: a fast scan)
_PRIVATE = re.compile(r"__(?<!\w__)(?!\w*__\b)\w")


def _translated(filename: str) -> bool:
    """Is this a script of another language (its text is not Python)?"""
    return any(filename.endswith(suffix) for suffix in translators)


def _may_have_private_names(source: str, filename: str) -> bool:
    """Might the module hold a name the mangling pass changes (`__x` not ending in `__`)?
    Found in the text (a comment or string too: the pass then runs for nothing); a script
    of another language is always mangled (its text is not Python).

    Discussion: the pass walks the whole tree and changes nothing in most modules: 3% of
    compiling the suite, the one of its 49 sources that has such a name."""
    return _translated(filename) or _PRIVATE.search(source) is not None


def _fix_missing_locations(tree: ast.AST) -> None:
    """ast.fix_missing_locations, but each node once (a function and its resumer share
    statements), and with the fields of each node class looked up once: this walk visits
    every node of the module and its resumers, and was the largest single cost of compiling."""
    seen: set[int] = set()
    positioned: dict[type, bool] = {}
    todo = [(tree, 1, 0, 1, 0)]
    pop, push = todo.pop, todo.append
    while todo:
        node, line, col, end_line, end_col = pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        cls = type(node)
        has = positioned.get(cls)
        if has is None:
            has = positioned[cls] = "lineno" in cls._attributes
        if has:
            d = node.__dict__
            v = d.get("lineno")
            if v is None:
                node.lineno = line
            else:
                line = v
            v = d.get("col_offset")
            if v is None:
                node.col_offset = col
            else:
                col = v
            v = d.get("end_lineno")
            if v is None:
                node.end_lineno = end_line
            else:
                end_line = v
            v = d.get("end_col_offset")
            if v is None:
                node.end_col_offset = end_col
            else:
                end_col = v
        for child in children(node):
            push((child, line, col, end_line, end_col))


def _display(node, state) -> tuple[str, str]:
    if state.is_module:
        return "<module>", "<module>"
    return node.name, node.sw_qualname


_LIFTED = re.compile(r"_sw_(lambda|listcomp|setcomp|dictcomp|genexpr|any|all)_\d+")


def _fix_names(code: CodeType, resumer: tuple[str, str, str] | None) -> CodeType:
    """Give resumers their function's name and qualname (and nested code the matching
    prefix), and lifted lambdas/comprehensions their usual display names."""
    consts = list(code.co_consts)
    changed = False
    for i, c in enumerate(consts):
        if isinstance(c, CodeType):
            consts[i] = _fix_names(c, resumer)
            changed = changed or consts[i] is not c
    replace = {}
    qualname = code.co_qualname
    if resumer is not None:
        raw, co_name, new_qualname = resumer
        if code.co_name == raw:
            replace["co_name"] = co_name
            qualname = new_qualname
        elif qualname.startswith(raw + "."):
            prefix = "" if new_qualname == "<module>" else new_qualname + "."
            old = qualname
            qualname = prefix + qualname[len(raw) + 1:]
            if prefix == "":
                qualname = qualname.removeprefix("<locals>.")
            # a class body stores its __qualname__ as a constant string
            consts = [qualname if (c == old) else c for c in consts]
            changed = True
    m = _LIFTED.search(code.co_name)
    if m:
        replace["co_name"] = DISPLAY_NAMES[m.group(1)]
    qualname = _LIFTED.sub(lambda m: DISPLAY_NAMES[m.group(1)], qualname)
    if qualname != code.co_qualname:
        replace["co_qualname"] = qualname
    if changed:
        replace["co_consts"] = tuple(consts)
    return code.replace(**replace) if replace else code


def _compile(tree: ast.Module, filename: str) -> CodeType:
    """compile(), with the postcondition of lowering checked: CPython refuses any node it does
    not know, so a Point marker left behind fails here (without another walk of the tree).

    Discussion: the passes give every node they make a position (`located`), so the walk
    that fills in missing positions (a walk of the whole output, which is several times the
    source) runs only when compile() finds one missing: a translated script without
    positions, or a node a pass forgot."""
    try:
        try:
            return compile(tree, filename, "exec", dont_inherit=True)
        except (TypeError, ValueError) as e:
            if "missing" not in str(e):
                raise
            _fix_missing_locations(tree)
            return compile(tree, filename, "exec", dont_inherit=True)
    except TypeError as e:
        raise InternalCompilerError(f"lowering left a node CPython cannot compile: {e}") from e


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_SCOPE_SET = frozenset(_SCOPES)


def _evaluated_outside(scope: ast.AST) -> list[ast.AST]:
    """The parts of a def, lambda or class evaluated in the enclosing scope when it runs."""
    parts = list(getattr(scope, "decorator_list", ()))
    args = getattr(scope, "args", None)
    if args is not None:
        parts += list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    return parts + list(getattr(scope, "bases", ())) + list(getattr(scope, "keywords", ()))


_NOTHING: frozenset[str] = frozenset()
_STATEMENTS: dict[type, bool] = {}  # node class -> is it a statement or handler?


def _temps_read(node: ast.AST, cache: dict[int, frozenset[str]]) -> frozenset[str]:
    """Compiler temps (`_sw_...`, not boxes) read anywhere under `node`; statements and
    handlers are cached, since a function and its resumer share most of theirs (expressions
    are not: a temporary Name's id may be reused once it is gone)."""
    d = node.__dict__
    if d.get("sw_quiet"):  # left alone by the A-normal form (anf.Linearizer._quiet)
        return _NOTHING
    cls = type(node)
    cacheable = _STATEMENTS.get(cls)
    if cacheable is None:
        cacheable = _STATEMENTS[cls] = issubclass(cls, (ast.stmt, ast.excepthandler))
    if cacheable:
        found = cache.get(id(node))
        if found is not None:
            return found
    out: set[str] = set()
    if (cls is ast.For and type(node.target) is ast.Name
            and node.target.id.startswith("_sw_cv")):
        # Discussion: the variable of a comprehension run as a loop (desugar._inline) is
        # read only in the loop's body, which assigns it first: the loop as a whole does not
        # read it, so the last element does not travel with a later point of an enclosing
        # loop
        out = set(_temps_read(node.iter, cache))
        for s in node.body:
            out |= _temps_read(s, cache)
        out.discard(node.target.id)
        found = frozenset(out)
        cache[id(node)] = found
        return found
    if cls in _SCOPE_SET:  # another scope, but these parts run in this one
        todo = _evaluated_outside(node)
    elif cls is ast.Name:
        todo = [node]
    else:
        todo = children(node)
    pop = todo.pop
    get = CHILDREN.get
    Name, Load, Lambda = ast.Name, ast.Load, ast.Lambda
    while todo:
        n = pop()
        cls = type(n)
        if cls is Name:
            ident = n.id
            if (ident.startswith("_sw_") and type(n.ctx) is Load
                    and not ident.startswith("_sw_box_")):
                out.add(ident)
            continue
        statement = _STATEMENTS.get(cls)
        if statement is None:
            statement = _STATEMENTS[cls] = issubclass(cls, (ast.stmt, ast.excepthandler))
        if statement:
            out |= _temps_read(n, cache)
        elif cls is Lambda:
            todo += _evaluated_outside(n)
        else:
            fn = get(cls) or children_function(cls)
            if fn is not no_children:
                todo += fn(n)
    found = frozenset(out)
    if cacheable:
        cache[id(node)] = found
    return found


compiled_module.build_resumers = build_resumers
compiled_module.build_live_temps = build_live_temps
