"""User generators across a capture.

A compiled generator runs as a native CPython generator (full speed). Its state becomes plain
data only when it is pickled:
- suspended at a `yield`: its locals (read from the suspended frame) and the yield's point id
  (kept in the local `_sw_y`), rebuilt by the yield point's resumer, primed up to that yield;
- not started: its function's start point, whose resumer runs the body from the top;
- suspended in the middle of a call (a capture unwound it while its consumer was advancing
  it): the frames the capture collected, rebuilt as the resumer of the generator's frame.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from swarm.continuation.capture import _TRANSIENT
from swarm.continuation.primitives import Operation
from swarm.continuation.resume import Cursor, resumer_for

#: value of the priming yield in a rebuilt generator
PRIMED = object()


class GenNext(Operation):
    """The pending operation of a frame that was advancing a generator: advance it again."""

    __slots__ = ("gen",)

    def __init__(self, gen) -> None:
        self.gen = gen

    def perform(self):
        return next(self.gen)

    def __reduce__(self):
        return (GenNext, (self.gen,))


def rebuild_from_frames(frames, op):
    """A generator whose frame was captured mid-call: its resumer, not yet started."""
    fr = frames[0]
    return resumer_for(fr.module, fr.point)(Cursor(frames, op, 1), fr.locals)


def rebuild_at_yield(module: ModuleType, point: int, frame_locals: dict):
    """A generator suspended at yield `point` (or not started: its function's start point)."""
    gen = resumer_for(module, point)(None, frame_locals)
    primed = next(gen)
    assert primed is PRIMED, "resumer did not stop at its priming yield"
    return gen


def _finished():
    return
    yield  # pragma: no cover


def finished_generator():
    gen = _finished()
    gen.close()
    return gen


def reduce_generator(gen, captured: dict):
    """The pickle reduction of a generator object, or None if it is not ours."""
    state = captured.get(id(gen))
    if state is not None:
        _, frames, op = state
        return (rebuild_from_frames, (frames, op))
    frame = gen.gi_frame
    if frame is None:  # exhausted or closed: no state left, whoever compiled it
        return (finished_generator, ())
    module = frame.f_globals.get("__swarm_module__")
    if module is None:
        return None
    status = inspect.getgeneratorstate(gen)
    if status == inspect.GEN_RUNNING:
        return None
    f_locals = {k: v for k, v in frame.f_locals.items() if k not in _TRANSIENT}
    compiled = frame.f_globals["__swarm_compiled__"]
    if status == inspect.GEN_CREATED:
        point = compiled.start_points.get(compiled.code_key(gen.gi_code))
    else:
        point = f_locals.get("_sw_y")
    if point is None:
        return None
    return (rebuild_at_yield, (module, point, f_locals))
