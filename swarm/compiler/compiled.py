"""Compiled modules: what compiling one source file produces, and the process-wide index of
the code objects the compiler made.

A `CompiledModule` holds the module code, the resumer code object of each suspension point
(one per function, shared by its points; built where a frame is first resumed), a table
describing each point (function, file, line), and a stable key for every code object so
functions travel as (module, key) instead of bytecode. `is_compiled_code` and `is_root_code`
answer for any code object (the continuation runtime asks them through its loader).
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass, field
from types import CodeType, FunctionType, ModuleType
from typing import Callable


@dataclass(frozen=True)
class PointInfo:
    """Where a suspension point is, for messages: its function, file, line and column."""

    function: str  # qualname of the function holding the point ("<module>" at top level)
    filename: str
    line: int
    col: int


@dataclass
class CompiledModule:
    """One compiled source file (see the module's docstring)."""

    name: str
    filename: str
    source: str
    source_hash: str
    code: CodeType
    resumers: dict[int, CodeType] | None  # None: not built yet (all_resumers builds them)
    points: dict[int, PointInfo]
    temp_names: dict[str, str] = field(default_factory=dict)  # temp -> what it holds
    # point -> the temps still read after it; None: not computed yet (live_temps_at)
    live_temps: dict[int, frozenset] | None = field(default_factory=dict)
    callees: dict[int, tuple] = field(default_factory=dict)  # point -> what it calls (a path)
    # where each point's instruction is (anf.Linearizer.site) -> the point; the generator
    # a `next` point advances (a path)
    sites: dict[tuple, int] = field(default_factory=dict)
    gens: dict[int, tuple] = field(default_factory=dict)
    _by_key: dict[str, CodeType] = field(default_factory=dict)
    _key_of: dict[int, str] = field(default_factory=dict)
    _defs: dict | None = None  # (name, first line) -> module-level code objects

    def __post_init__(self) -> None:
        self._index(self.code, "m")
        _root_code_ids.add(id(self.code))
        if self.resumers is not None:
            self._index_resumers()

    def all_resumers(self) -> dict[int, CodeType]:
        """Point -> the resumer code of its function, built at the first call if the module
        was compiled without them (pipeline.build_resumers: where a frame is resumed)."""
        if self.resumers is None:
            if build_resumers is None:
                raise RuntimeError("swarm: internal error: no compiler to build resumers")
            self.resumers = build_resumers(self)
            self._index_resumers()
            if resumers_built is not None:
                resumers_built(self)
        return self.resumers

    def live_temps_at(self, point: int) -> frozenset:
        """The compiler temps read after `point` (the capture keeps only these), computed
        at the first call if the module was compiled without them (pipeline.build_live_temps:
        where a frame of the module is captured)."""
        return self.all_live_temps().get(point, frozenset())

    def all_live_temps(self) -> dict[int, frozenset]:
        if self.live_temps is None:
            if build_live_temps is None:
                raise RuntimeError("swarm: internal error: no compiler to find live temps")
            self.live_temps = build_live_temps(self)
            if resumers_built is not None:
                resumers_built(self)
        return self.live_temps

    def _index_resumers(self) -> None:
        for point, code in self.resumers.items():
            if id(code) in self._key_of:  # a function's points share its one resumer
                continue
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
        if key not in self._by_key and key.startswith("r"):
            self.all_resumers()  # a code object inside a resumer another process built
        return self._by_key[key]

    def resumer_code(self, point: int) -> CodeType:
        return self.all_resumers()[point]

    def function(self, module: ModuleType, name: str, line: int, defaults: tuple | None,
                 kw_defaults: dict | None) -> FunctionType:
        """A module-level `def` run again by the module's resumer: the function made from
        the module's own code object for it, as MAKE_FUNCTION makes it."""
        f = FunctionType(self._defined(name, line), module.__dict__, None, defaults)
        if kw_defaults:
            f.__kwdefaults__ = kw_defaults
        return f

    def build_class(self, module: ModuleType, name: str, line: int, /, *bases, **keywords):
        """A module-level `class` run again by the module's resumer: its body is the module's
        own code object for it, run by `__build_class__` as the class statement runs it."""
        body = FunctionType(self._defined(name, line), module.__dict__)
        return builtins.__build_class__(body, name, *bases, **keywords)

    def _defined(self, name: str, line: int) -> CodeType:
        """The code object of the module-level def or class `name` starting at `line`."""
        if self._defs is None:
            self._defs = {}
            for c in self.code.co_consts:
                if isinstance(c, CodeType):
                    self._defs.setdefault((c.co_name, c.co_firstlineno), []).append(c)
        found = self._defs.get((name, line), ())
        if len(found) != 1:
            raise RuntimeError(f"swarm: internal error: {len(found)} code objects for {name!r} "
                               f"at {self.filename}:{line} in the module's code")
        return found[0]

    def describe_name(self, name: str) -> str:
        what = self.temp_names.get(name)
        if what is None and name.startswith("_sw_box_"):
            return f"'{name[len('_sw_box_'):]}'"
        if what is None and name.startswith("_sw_"):
            return "an intermediate value of that expression"
        return what or f"'{name}'"


#: set by the compiler (pipeline.build_resumers): the resumers of a module compiled without
#: them; and by the registry: told when they were built (the disk cache keeps them)
build_resumers: Callable[[CompiledModule], dict[int, CodeType]] | None = None
build_live_temps: Callable[[CompiledModule], dict[int, frozenset]] | None = None
#: told when resumers or live temps were built (the disk cache keeps them)
resumers_built: Callable[[CompiledModule], None] | None = None

_compiled_code_ids: set[int] = set()
_root_code_ids: set[int] = set()  # module code and module-level resumers: a program's root
_keepalive: list[CodeType] = []


def source_hash(source: str) -> str:
    """The SHA-256 of a source text: the name a compiled module goes by between processes."""
    return hashlib.sha256(source.encode()).hexdigest()


def is_compiled_code(code: CodeType) -> bool:
    """Did the compiler make this code object (a module, function or resumer of it)?"""
    return id(code) in _compiled_code_ids


def is_root_code(code: CodeType) -> bool:
    """Is it a program's root: a compiled module's top level, or one of its resumers?"""
    return id(code) in _root_code_ids
