"""Importing a program's own modules on a node that never had its files.

The client sends the source of the script and of the modules beside it; a program's `import
helper` is served from those sources (by content hash), compiled like the script.

Limit (noted in docs/nodes.md): module objects are cached in sys.modules by name, so two
programs in one node that import different modules of the same name share the first one.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

from swarm.compiler.registry import new_module_instance


class ProgramModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, node) -> None:
        self.node = node

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def find_spec(self, fullname, path, target=None):
        prog = self.node.kernel.current_context()
        if prog is None or fullname not in prog.modules or fullname == "__main__":
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=prog.modules[fullname])
        return spec

    def create_module(self, spec):
        return new_module_instance(spec.name, spec.origin)

    def exec_module(self, module) -> None:
        exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)
