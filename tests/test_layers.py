"""The package's layers, read from its source: the node's machine is pure, and the import
graph has no cycles (function-local imports included: a cycle they hide is still one)."""

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


def package_of(module: str) -> str:
    """swarm.node.machine.state -> swarm.node; swarm.refs -> swarm.refs."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_the_packages_import_each_other_without_cycles():
    """Between packages (swarm.compiler, swarm.continuation, swarm.node, swarm.wire, ...):
    no cycle, function-local imports included."""
    g: dict[str, set[str]] = {}
    for module, deps in graph().items():
        g.setdefault(package_of(module), set()).update(
            package_of(d) for d in deps if package_of(d) != package_of(module))
    cycles = sorted((a, b) for a in g for b in g[a] if a in reachable(g, b))
    assert not cycles, cycles


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


if __name__ == "__main__":
    sys.exit(0)
