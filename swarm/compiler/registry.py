"""Where compiled modules come from: compiled here once per source, or from a source another
process sends; and the fresh module objects programs run in.

Compiled modules are cached process-wide by the SHA-256 of their source (and on disk:
diskcache.py); a continuation names
them by that hash, and a process that lacks one asks `source_provider` for the source. A
compiled module is instantiated per program (`new_module_instance`): two programs running the
same script in one node do not share globals. This module installs the continuation runtime's
loader (swarm/continuation/loader.py), so that decoding a continuation can do the same.
"""

from __future__ import annotations

import builtins
import os
import sys
from types import ModuleType
from typing import Callable

from swarm.compiler import compiled as compiled_module
from swarm.compiler import diskcache
from swarm.compiler.compiled import CompiledModule, is_compiled_code, is_root_code, source_hash
from swarm.compiler.pipeline import compile_module
from swarm.continuation import loader, process_state, support

_by_hash: dict[str, CompiledModule] = {}  # the first compiled of each source
_by_file: dict[tuple[str, str], CompiledModule] = {}  # (hash, file name) -> compiled

#: module name -> file name, for the program running now (a node sets it as it switches
#: programs): a module is made with its own file name, even when another file of the same
#: text was compiled first (two empty __init__.py, a copied module)
program_files: dict[str, str] = {}

#: asked for (name, source_hash) -> (filename, source) when a continuation names a module this
#: process has not compiled; set by drivers and nodes
source_provider: Callable[[str, str], tuple[str, str]] | None = None


def compile_source(source: str, filename: str, name: str,
                   resumers: bool = False) -> CompiledModule:
    """Compile one module's source. Cached by (source hash, file name): the same file
    compiles once in a process, and once on the machine while it is unchanged (diskcache).
    Its resumers are built when first needed, or now if `resumers` (a module named by a
    continuation that arrived: it is about to be resumed)."""
    digest = source_hash(source)
    cached = compiled_for(digest, filename)
    if cached is not None:
        return cached
    compiled = diskcache.load(source, digest, filename, name)
    if compiled is None:
        compiled = compile_module(source, filename, name, resumers=resumers)
        diskcache.save(compiled)
    return register(compiled)


def register(compiled: CompiledModule) -> CompiledModule:
    _by_hash.setdefault(compiled.source_hash, compiled)
    return _by_file.setdefault((compiled.source_hash, compiled.filename), compiled)


def compiled_for(digest: str, filename: str) -> CompiledModule | None:
    """The module compiled from this source under this file name, if it was."""
    return _by_file.get((digest, filename))


def compile_file(path: str, name: str) -> CompiledModule:
    """compile_source of the file at `path` (UTF-8)."""
    with open(path, encoding="utf-8") as f:
        return compile_source(f.read(), path, name)


def load_module(path: str, name: str, register_in_sys: bool = True) -> ModuleType:
    """Compile the file at `path` and execute it as module `name`."""
    compiled = compile_file(path, name)
    module = new_module_instance(name, compiled.source_hash, filename=path)
    if register_in_sys:
        sys.modules[name] = module
    exec(compiled.code, module.__dict__)
    return module


def lookup(name: str, digest: str, filename: str | None = None) -> CompiledModule:
    """The compiled module of source `digest` - compiled under `filename` (default: the
    running program's file for `name`, else whichever was compiled first): compiled here
    already, else compiled from the source `source_provider` supplies (checked against the
    hash)."""
    filename = filename or program_files.get(name)
    if filename is not None and (hit := _by_file.get((digest, filename))) is not None:
        return hit
    compiled = _by_hash.get(digest)
    if compiled is not None and filename is not None and compiled.filename != filename and \
            os.path.splitext(compiled.filename)[1] == os.path.splitext(filename)[1]:
        # its own co_filename (never across languages: the suffix chooses the translator)
        return compile_source(compiled.source, filename, name)
    if compiled is None:
        if source_provider is None:
            raise LookupError(f"module {name} (source {digest[:12]}) is not available here")
        provided, source = source_provider(name, digest)
        if source_hash(source) != digest:
            raise LookupError(f"module {name}: the source supplied does not match its hash")
        compiled = compile_source(source, filename or provided, name, resumers=True)
    return compiled


def new_module_instance(name: str, digest: str, execute: bool = False,
                        filename: str | None = None) -> ModuleType:
    """A fresh, empty module object for compiled module `name` (its globals are filled by the
    caller: by running its code, or from a continuation); `filename`: see lookup()."""
    compiled = lookup(name, digest, filename)
    module = ModuleType(name)
    module.__dict__.update({
        "__file__": compiled.filename,
        "__builtins__": builtins,
        "__swarm_compiled__": compiled,
        "__swarm_module__": module,
        "__swarm_support__": support,
    })
    process_state.names.add(name)  # (save() carries it while sys.modules holds it)
    if execute:
        exec(compiled.code, module.__dict__)
    return module


loader.install(new_module_instance, is_compiled_code, is_root_code)
compiled_module.resumers_built = diskcache.save  # the next process finds them built
