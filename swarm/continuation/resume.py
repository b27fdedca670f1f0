"""Resume: re-enter a captured program, outermost frame first.

Each frame record names a suspension point; the compiled module has a resumer function for it
that restores the frame's locals, re-enters the enclosing loops, `if`s and `try`s down to that
point, and there obtains the value of the suspended call by calling `resume_next` - which
resumes the next record inward, or finally performs the pending operation. After that the
resumer is ordinary compiled code running at full speed.
"""

from __future__ import annotations

import weakref
from types import FunctionType, ModuleType

from swarm.continuation.capture import Continuation, Frame


class Cursor:
    """The records still to resume, handed from one resumer to the next."""

    __slots__ = ("frames", "index", "op")

    def __init__(self, frames: list[Frame], op, index: int = 0) -> None:
        self.frames = frames
        self.op = op
        self.index = index


_resumers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resumer_for(module: ModuleType, point: int) -> FunctionType:
    """The resumer of `point` bound to this module instance's globals (cached per module)."""
    table = _resumers.get(module)
    if table is None:
        table = _resumers[module] = {}
    fn = table.get(point)
    if fn is None:
        compiled = module.__dict__["__swarm_compiled__"]
        code = compiled.resumer_code(point)
        fn = table[point] = FunctionType(code, module.__dict__, code.co_name)
    return fn


def resume_next(k: Cursor):
    """Resume the next record of `k` and return what the suspended call would have returned."""
    if k.index < len(k.frames):
        fr = k.frames[k.index]
        k.index += 1
        result = resumer_for(fr.module, fr.point)(k, fr.locals)
        if fr.returns is not None:
            return fr.locals[fr.returns]
        return result
    return k.op.perform()


def resume(cont: Continuation):
    """Run a continuation to its end (or to its next capture) and return the outermost
    frame's result."""
    return resume_next(Cursor(cont.frames, cont.op))
