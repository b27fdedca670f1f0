"""The package's layers, read from its source: the node's machine is pure, the import graph
has no cycles - between modules and between packages, function-local imports included (a cycle
they hide is still one) - and the layers point one way."""

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("swarm", "cluster")


def modules() -> dict[str, str]:
    """module name -> file, for every module of the package."""
    found = {}
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(folder, f)
                    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    found[rel.removesuffix(".__init__")] = path
    return found


def imports_of(path: str, name: str, known) -> set[str]:
    """What a module imports (anywhere in it), as module names; names of the package are
    resolved to the module that defines them."""
    tree = ast.parse(open(path).read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {i for i in imports_of(path, name, known) if i in known and i != name}
            for name, path in known.items()}


def reachable(g, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in g.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_machine_is_pure():
    """swarm/node/machine/ reaches no socket, database, greenlet, thread or clock, however
    deep its imports go."""
    known = modules()
    g = graph()
    machine = [m for m in known if m.startswith("swarm.node.machine")]
    mine = set(machine)
    for m in machine:
        mine |= reachable(g, m)
    outside = set()
    for m in mine:
        outside |= imports_of(known[m], m, known) - set(known)
    forbidden = {"zmq", "sqlite3", "greenlet", "time", "threading", "socket", "select",
                 "asyncio", "subprocess"}
    assert not {o.split(".")[0] for o in outside} & forbidden, sorted(outside)
    assert not any(m.startswith(("swarm.node.shell", "swarm.node.kernel", "swarm.client"))
                   for m in mine)


def cycles_of(g: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of a graph, one per strongly connected component of more than one node,
    each as a path a -> b -> ... -> a (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    components.append(set(component))
    return [_path_around(g, c) for c in components]


def _path_around(g, component: set[str]) -> list[str]:
    """One cycle through a strongly connected component, as a readable path."""
    start = min(component)
    path, seen = [start], {start}
    while True:
        here = path[-1]
        if start in g[here] and len(path) > 1:
            return path + [start]
        nxt = min((n for n in g[here] if n in component and n not in seen), default=None)
        if nxt is None:  # every neighbour seen: close the loop through the first one met
            nxt = min(n for n in g[here] if n in component)
            return path[path.index(nxt):] + [nxt]
        path.append(nxt)
        seen.add(nxt)


def test_the_import_graph_has_no_cycles():
    """Between modules, inside a package too: no module imports, however indirectly, one
    that imports it back (function-local imports count). A module that needs a function of
    a module above it gets it injected (swarm/continuation/loader.py, the compiler's
    register_translator); what two modules share lives in a base module below both
    (swarm/continuation/capture.py, swarm/compiler/compiled.py). A package's `__init__`
    that re-exports its modules is not an edge from them to it: they import it only when
    they name it (`from swarm.compiler import ...`)."""
    found = cycles_of(graph())
    assert not found, "\n".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_finds_cycles():
    """The check above can fail: a cycle through three modules, and one through a package's
    __init__, are found and shown as paths."""
    g = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(),
         "p": {"p.x"}, "p.x": {"p"}}
    found = sorted(cycles_of(g))
    assert found == [["a", "b", "c", "a"], ["p", "p.x", "p"]], found
    assert cycles_of({"a": {"b"}, "b": set()}) == []


def package_of(module: str) -> str:
    """swarm.node.machine.state -> swarm.node; swarm.refs -> swarm.refs."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_the_packages_import_each_other_without_cycles():
    """Between packages (swarm.compiler, swarm.continuation, swarm.node, swarm.wire, ...):
    no cycle, function-local imports included. (Modules without cycles can still make one
    between packages: a.x -> b.y -> a.z.)"""
    g: dict[str, set[str]] = {}
    for module, deps in graph().items():
        g.setdefault(package_of(module), set()).update(
            package_of(d) for d in deps if package_of(d) != package_of(module))
    found = cycles_of(g)
    assert not found, "\n".join(" -> ".join(c) for c in found)


def test_the_layers_point_one_way():
    """cli -> client / node -> compiler -> continuation: nothing below imports above (the
    compiler targets the continuation runtime - compiled code calls `__swarm_support__` - and
    the runtime gets the compiler's module loader injected: swarm/continuation/loader.py)."""
    g = graph()
    below = {"swarm.compiler": ("swarm.node", "swarm.client", "swarm.cli", "swarm.skywriting"),
             "swarm.continuation": ("swarm.compiler", "swarm.node", "swarm.client", "swarm.cli",
                                    "swarm.skywriting"),
             "swarm.node": ("swarm.client", "swarm.cli", "swarm.refs", "swarm.futures",
                            "swarm.collections", "swarm.web"),
             "swarm.wire": ("swarm.node", "swarm.client", "swarm.cli")}
    wrong = [(m, i) for m, deps in g.items() for layer, above in below.items()
             if m.startswith(layer) for i in deps if i.startswith(above)]
    assert not wrong, sorted(wrong)


def test_the_base_modules_stay_at_the_base():
    """What the modules of a package share lives in a base module that imports none of its
    siblings above it: the continuation runtime's records and Capture (capture.py), the
    compiler's CompiledModule (compiled.py), Skywriting's errors and values."""
    g = graph()
    base = {"swarm.continuation.capture": {"swarm.continuation.errors",
                                           "swarm.continuation.process_state"},
            "swarm.compiler.compiled": set(),
            "swarm.skywriting.errors": {"swarm.futures", "swarm.errors"},
            "swarm.skywriting.values": {"swarm.skywriting.errors", "swarm.futures",
                                        "swarm.refs"}}
    wrong = {m: sorted(g[m] - allowed) for m, allowed in base.items() if g[m] - allowed}
    assert not wrong, wrong


if __name__ == "__main__":
    sys.exit(0)
