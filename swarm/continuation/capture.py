"""Capture: what a captured program is made of, and the exception that collects it.

A suspending primitive raises `Capture`. Every compiled function wraps its body in a handler
that calls `unwind.on_capture_at` (which finds the point the capture passed and appends this
frame's record) and re-raises, so when the exception reaches the program's root it holds one
`Frame` per active frame,
innermost first; `Capture.continuation()` turns them into a `Continuation`.

This module is the base of the continuation runtime: the records, the exception and the
facts every other module shares (`TRAMPOLINES`, `RESUMED`, `code_of`). It imports nothing of
the runtime but its errors and process_state, so any module may import it.
"""

from __future__ import annotations

from types import CodeType, FunctionType, MethodType, ModuleType
from typing import Any, NamedTuple

from swarm.continuation import process_state
from swarm.continuation.errors import NotMigratable, frames_lost

#: passed as the callee by a resumed call site: its callee is `resume_next`, trusted
RESUMED = object()

#: code objects of the runtime functions a resumed frame calls through (resume.py and
#: generators.py add theirs): a frame running one of them is the runtime's own step
TRAMPOLINES: set = set()

#: compiler temporaries that never travel in a generator's record (a resumer's cursor, the
#: function it calls next and that function's saved locals)
TRANSIENT = ("_sw_k", "_sw_f", "_sw_a")


class Frame(NamedTuple):
    """One suspended frame: where it is (module + point id) and its locals.

    `locals` is None for a module's top level (its state is the module itself). `returns` names
    the local whose value the caller receives instead of the return value: set for an
    ``__init__`` that was called through ``Cls(...)``, whose caller gets the new instance.
    """

    module: ModuleType
    point: int
    locals: dict | None
    returns: str | None = None


class Capture(BaseException):
    """Unwinds a program into frame records. A BaseException so `except Exception` ignores it."""

    def __init__(self, op, primitive) -> None:
        super().__init__()
        self.op = op  # the pending Operation of the outermost frames (a GenNext after a
        # generator crossing); `leaf` stays what the program is really waiting to do
        self.leaf = op
        self.primitive = primitive  # the function that raised, for the first callee check
        self.frames: list[Frame] = []  # innermost first while unwinding
        self.callee_code: CodeType | None = None  # code of the frame that pushed frames[-1]
        self.callee_frame = None  # that frame itself (to recognise a frame's own re-raise)
        self.callee_caller = None  # the frame that had called it, read while it ran
        # generators captured mid-call: id(gen) -> (gen, frames outermost first, op)
        self.generators: dict[int, tuple[Any, list[Frame], Any]] = {}

    def continuation(self) -> Continuation:
        """The captured program, with the process state it changed (process_state.py): call
        it in the program's own greenlet, once the capture reached the root."""
        return Continuation(self.frames[::-1], self.op, self.generators, process_state.save())


class Continuation:
    """A captured program: frames outermost first, the pending operation at the leaf, the
    state of generators that were suspended in the middle of a call, and the process state
    the program changed (random, decimal: process_state.py)."""

    __slots__ = ("frames", "op", "generators", "state")

    def __init__(self, frames: list[Frame], op, generators: dict | None = None,
                 state: dict | None = None) -> None:
        self.frames = frames
        self.op = op
        self.generators = generators or {}
        self.state = state or {}

    def modules(self) -> list[ModuleType]:
        seen: dict[int, ModuleType] = {}
        for fr in self.frames:
            seen.setdefault(id(fr.module), fr.module)
        return list(seen.values())

    def __repr__(self) -> str:
        where = " > ".join(f"{describe_point(f.module, f.point)}" for f in self.frames)
        return f"<Continuation {where} waiting on {type(self.op).__name__}>"


def describe_point(module: ModuleType, point: int) -> str:
    """'qualname (file:line)' of a suspension point."""
    info = module.__dict__["__swarm_compiled__"].points.get(point)
    if info is None:
        return f"{module.__name__}#{point}"
    return f"{info.function} ({info.filename}:{info.line})"


def code_of(callee) -> CodeType | None:
    """The code a call of `callee` runs (a function, a method, an instance's __call__), or
    None for C code and classes."""
    if isinstance(callee, FunctionType):
        return callee.__code__
    if isinstance(callee, MethodType):
        return code_of(callee.__func__)
    if callee is not None and not isinstance(callee, type):
        call = type(callee).__dict__.get("__call__") or next(  # an instance called: its
            (c.__dict__["__call__"] for c in type(callee).__mro__  # __call__
             if "__call__" in c.__dict__), None)
        if isinstance(call, FunctionType):
            return call.__code__
    return None


def not_migratable_at(module, point, why: str) -> NotMigratable:
    """NotMigratable naming the suspension point (function, file:line) and why."""
    return NotMigratable(f"cannot migrate at {describe_point(module, point)}: {why}")


def check_root(c: Capture, cont: Continuation) -> None:
    """The outermost record must be the script's top level, pushed by its own frame: if the
    capture left the program's root through code that was not compiled, frames are missing."""
    root = cont.frames[0] if cont.frames else None
    if root is None or root.locals is not None or c.callee_frame is None:
        where = ""
        if c.callee_code is not None:
            where = (f" (last compiled frame: {c.callee_code.co_qualname} in "
                     f"{c.callee_code.co_filename}:{c.callee_code.co_firstlineno})")
        raise frames_lost("cannot migrate: the suspension was reached through code that was "
                         f"not compiled, at the top level of the script{where}; C code such "
                         "as sorted(key=...) or map() calling back cannot be captured - run "
                         "with --policy fetch, or make the call in a loop of your own")
