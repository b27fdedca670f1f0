"""Importing a program's own modules on a node that never had its files.

The client sends the source of the script and of the modules of the user's it imports
(swarm/program_files.py); a program's `import helper` is served from those sources (by
content hash), compiled like the script. A package (its `__init__.py`) is made a package
here, so that `import pkg.sub` and relative imports inside it work.

Each program has its own module objects: the kernel swaps a program's modules into
sys.modules while it runs (Program.enter/leave), so two programs that import `helper` - the
same file or two different ones - never share it, as two processes would not.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

from swarm.compiler.registry import new_module_instance
from swarm.node.machine.ids import VALUE


class ProgramModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, kernel, sources: dict) -> None:
        """`sources`: the node's program code by hash (name, filename, source)."""
        self.kernel, self.sources = kernel, sources

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def find_spec(self, fullname, path, target=None):
        prog = self.kernel.current_context()
        if prog is None or fullname not in prog.modules or fullname == "__main__":
            return None
        digest = prog.modules[fullname]
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=digest)
        source = self.sources.get(digest)
        if source is not None and source[1].endswith("__init__.py"):
            spec.submodule_search_locations = []  # a package: `import pkg.sub` may follow
        return spec

    def create_module(self, spec):
        return new_module_instance(spec.name, spec.origin)

    def exec_module(self, module) -> None:
        exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)


class HeldValues:
    """The large values a node holds by hash (VALUE entries of its sources, kept raw-hash
    keyed as swarm.continuation.codec asks for them): where a hop that names a value by
    hash finds it. Values a hop carries along are not kept from here - only those a
    sender named by hash are (machine/questions.py keeps what it asked for)."""

    def __init__(self, sources: dict) -> None:
        self.sources = sources

    def get(self, digest: bytes):
        entry = self.sources.get(digest.hex())
        return entry[2] if entry is not None and entry[0] == VALUE else None

    def update(self, sent: dict) -> None:
        """(the values a hop carried along: used by this decode only)"""

    def missing(self, digest: bytes) -> bytes:
        raise LookupError(f"a large value of the program (hash {digest.hex()[:12]}) is not "
                          f"held on this node, and its hop did not name it among its needs")
