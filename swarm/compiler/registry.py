"""Compiled modules, their code objects by stable key, and program-private module instances.

A `CompiledModule` is what compiling one source file produces: the module code, one resumer
code object per suspension point, a table describing each point (function, file, line), and a
stable key for every code object so functions travel as (module, key) instead of bytecode.
Compiled modules are cached process-wide by the SHA-256 of their source; a continuation names
them by that hash, and a process that lacks one asks `source_provider` for the source.
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass, field
from types import CodeType, ModuleType
from typing import Callable

from swarm.continuation import loader


@dataclass(frozen=True)
class PointInfo:
    function: str  # qualname of the function holding the point ("<module>" at top level)
    filename: str
    line: int
    col: int


@dataclass
class CompiledModule:
    name: str
    filename: str
    source: str
    source_hash: str
    code: CodeType
    resumers: dict[int, CodeType]
    points: dict[int, PointInfo]
    temp_names: dict[str, str] = field(default_factory=dict)  # temp -> what it holds
    live_temps: dict[int, frozenset] = field(default_factory=dict)  # point -> temps still read
    callees: dict[int, tuple] = field(default_factory=dict)  # point -> what it calls (a path)
    _by_key: dict[str, CodeType] = field(default_factory=dict)
    _key_of: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index(self.code, "m")
        _root_code_ids.add(id(self.code))
        for point, code in self.resumers.items():
            self._index(code, f"r{point}")
            if self.points[point].function == "<module>":
                _root_code_ids.add(id(code))

    def _index(self, code: CodeType, key: str) -> None:
        self._by_key[key] = code
        self._key_of[id(code)] = key
        _compiled_code_ids.add(id(code))
        _keepalive.append(code)
        n = 0
        for const in code.co_consts:
            if isinstance(const, CodeType):
                self._index(const, f"{key}/{n}")
                n += 1

    def code_key(self, code: CodeType) -> str | None:
        return self._key_of.get(id(code))

    def code_by_key(self, key: str) -> CodeType:
        return self._by_key[key]

    def resumer_code(self, point: int) -> CodeType:
        return self.resumers[point]

    def describe_name(self, name: str) -> str:
        what = self.temp_names.get(name)
        if what is None and name.startswith("_sw_box_"):
            return f"'{name[len('_sw_box_'):]}'"
        if what is None and name.startswith("_sw_"):
            return "an intermediate value of that expression"
        return what or f"'{name}'"


_compiled_code_ids: set[int] = set()
_root_code_ids: set[int] = set()  # module code and module-level resumers: a program's root
_keepalive: list[CodeType] = []
_by_hash: dict[str, CompiledModule] = {}  # the first compiled of each source
_by_file: dict[tuple[str, str], CompiledModule] = {}  # (hash, file name) -> compiled

#: module name -> file name, for the program running now (a node sets it as it switches
#: programs): a module is made with its own file name, even when another file of the same
#: text was compiled first (two empty __init__.py, a copied module)
program_files: dict[str, str] = {}

#: file name suffix -> translate(source, filename) -> ast.Module, for scripts of other languages
#: (swarm.skywriting registers ".sw" when it is imported; it raises CompileError)
translators: dict[str, Callable[[str, str], object]] = {}

#: asked for (name, source_hash) -> (filename, source) when a continuation names a module this
#: process has not compiled; set by drivers and nodes
source_provider: Callable[[str, str], tuple[str, str]] | None = None


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def is_compiled_code(code: CodeType) -> bool:
    return id(code) in _compiled_code_ids


def is_root_code(code: CodeType) -> bool:
    return id(code) in _root_code_ids


def register(compiled: CompiledModule) -> CompiledModule:
    _by_hash.setdefault(compiled.source_hash, compiled)
    return _by_file.setdefault((compiled.source_hash, compiled.filename), compiled)


def compiled_for(digest: str, filename: str) -> CompiledModule | None:
    """The module compiled from this source under this file name, if it was."""
    return _by_file.get((digest, filename))


def lookup(name: str, digest: str, filename: str | None = None) -> CompiledModule:
    """The compiled module of source `digest` - compiled under `filename` (default: the
    running program's file for `name`, else whichever was compiled first)."""
    filename = filename or program_files.get(name)
    if filename is not None and (hit := _by_file.get((digest, filename))) is not None:
        return hit
    compiled = _by_hash.get(digest)
    if compiled is not None and filename is not None and compiled.filename != filename:
        from swarm.compiler import compile_source

        return compile_source(compiled.source, filename, name)  # its own co_filename
    if compiled is None:
        if source_provider is None:
            raise LookupError(f"module {name} (source {digest[:12]}) is not available here")
        provided, source = source_provider(name, digest)
        if source_hash(source) != digest:
            raise LookupError(f"module {name}: the source supplied does not match its hash")
        from swarm.compiler import compile_source

        compiled = compile_source(source, filename or provided, name)
    return compiled


def new_module_instance(name: str, digest: str, execute: bool = False,
                        filename: str | None = None) -> ModuleType:
    """A fresh, empty module object for compiled module `name` (its globals are filled by the
    caller: by running its code, or from a continuation); `filename`: see lookup()."""
    from swarm.continuation import rt

    compiled = lookup(name, digest, filename)
    module = ModuleType(name)
    module.__dict__.update({
        "__file__": compiled.filename,
        "__builtins__": builtins,
        "__swarm_compiled__": compiled,
        "__swarm_module__": module,
        "__swarm_rt__": rt,
    })
    if execute:
        exec(compiled.code, module.__dict__)
    return module


loader.install(new_module_instance, is_compiled_code, is_root_code)
