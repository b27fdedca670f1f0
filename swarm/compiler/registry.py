"""Where compiled modules come from: compiled here once per source, or from a source another
process sends; and the fresh module objects programs run in.

Compiled modules are cached process-wide by the SHA-256 of their source; a continuation names
them by that hash, and a process that lacks one asks `source_provider` for the source. A
compiled module is instantiated per program (`new_module_instance`): two programs running the
same script in one node do not share globals. This module installs the continuation runtime's
loader (swarm/continuation/loader.py), so that decoding a continuation can do the same.
"""

from __future__ import annotations

import builtins
import sys
from types import ModuleType
from typing import Callable

from swarm.compiler.compiled import CompiledModule, is_compiled_code, is_root_code, source_hash
from swarm.compiler.pipeline import compile_module
from swarm.continuation import loader, support

_by_hash: dict[str, CompiledModule] = {}

#: asked for (name, source_hash) -> (filename, source) when a continuation names a module this
#: process has not compiled; set by drivers and nodes
source_provider: Callable[[str, str], tuple[str, str]] | None = None


def compile_source(source: str, filename: str, name: str) -> CompiledModule:
    """Compile one module's source. Cached by source hash: the same source compiles once."""
    cached = _by_hash.get(source_hash(source))
    if cached is not None and cached.filename == filename:
        return cached
    compiled = compile_module(source, filename, name)
    return _by_hash.setdefault(compiled.source_hash, compiled)


def compile_file(path: str, name: str) -> CompiledModule:
    """compile_source of the file at `path` (UTF-8)."""
    with open(path, encoding="utf-8") as f:
        return compile_source(f.read(), path, name)


def load_module(path: str, name: str, register_in_sys: bool = True) -> ModuleType:
    """Compile the file at `path` and execute it as module `name`."""
    compiled = compile_file(path, name)
    module = new_module_instance(name, compiled.source_hash)
    if register_in_sys:
        sys.modules[name] = module
    exec(compiled.code, module.__dict__)
    return module


def lookup(name: str, digest: str) -> CompiledModule:
    """The compiled module of this source hash: compiled here already, else compiled from the
    source `source_provider` supplies (checked against the hash)."""
    compiled = _by_hash.get(digest)
    if compiled is None:
        if source_provider is None:
            raise LookupError(f"module {name} (source {digest[:12]}) is not available here")
        filename, source = source_provider(name, digest)
        if source_hash(source) != digest:
            raise LookupError(f"module {name}: the source supplied does not match its hash")
        compiled = compile_source(source, filename, name)
    return compiled


def new_module_instance(name: str, digest: str, execute: bool = False) -> ModuleType:
    """A fresh, empty module object for compiled module `name` (its globals are filled by the
    caller: by running its code, or from a continuation)."""
    compiled = lookup(name, digest)
    module = ModuleType(name)
    module.__dict__.update({
        "__file__": compiled.filename,
        "__builtins__": builtins,
        "__swarm_compiled__": compiled,
        "__swarm_module__": module,
        "__swarm_support__": support,
    })
    if execute:
        exec(compiled.code, module.__dict__)
    return module


loader.install(new_module_instance, is_compiled_code, is_root_code)
