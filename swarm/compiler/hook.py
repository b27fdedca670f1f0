"""The import hook: the user's own modules are compiled, everything else is left alone.

A module is the user's when its source file lies under one of the roots given (the script's
directory, or its package's). The standard library and installed packages are imported by
CPython as usual: their frames cannot be captured, which the capture check reports.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys

from swarm.compiler.registry import compile_file, new_module_instance


class UserModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the modules under the user's roots, for CompilingLoader; any other module is
    left to the usual finders."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = [os.path.abspath(r) + os.sep for r in roots]

    def find_spec(self, fullname, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        origin = os.path.abspath(spec.origin)
        if not any(origin.startswith(root) for root in self.roots):
            return None
        spec.loader = CompilingLoader()
        return spec


class CompilingLoader(importlib.abc.Loader):
    """Loads a user module compiled, as a fresh module instance (registry.py)."""

    def create_module(self, spec):
        compiled = compile_file(spec.origin, spec.name)
        return new_module_instance(spec.name, compiled.source_hash, filename=spec.origin)

    def exec_module(self, module) -> None:
        exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)


@contextlib.contextmanager
def user_modules(roots: list[str]):
    """Compile modules imported from under `roots` while the block runs."""
    finder = UserModuleFinder(roots)
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
