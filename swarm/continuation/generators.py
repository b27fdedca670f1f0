"""User generators across a capture.

A compiled generator runs as a native CPython generator (full speed). Its state becomes plain
data only when it is pickled:
- suspended at a `yield`: its locals (read from the suspended frame) and the yield's point id
  (kept in the local `_sw_y`), rebuilt by the yield point's resumer, primed up to that yield;
- not started: its arguments (its only locals yet), rebuilt by calling the function again;
- suspended in the middle of a call (a capture unwound it while its consumer was advancing
  it): the frames the capture collected, rebuilt as the resumer of the generator's frame.
"""

from __future__ import annotations

import inspect
import types
from types import GeneratorType, ModuleType

from swarm.continuation.capture import TRAMPOLINES, TRANSIENT, Capture
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


TRAMPOLINES.add(GenNext.perform.__code__)


def rebuild_from_frames(frames, op):
    """A generator whose frame was captured mid-call: its resumer, not yet started."""
    fr = frames[0]
    return resumer_for(fr.module, fr.point)(Cursor(frames, op, 1), fr.locals)


def fresh_generator(module: ModuleType, key: str, args: dict):
    """A generator that had not started: call its function again with the same arguments."""
    code = module.__dict__["__swarm_compiled__"].code_by_key(key)
    closure = tuple(types.CellType(args[n]) for n in code.co_freevars) or None
    fn = types.FunctionType(code, module.__dict__, code.co_name, None, closure)
    names = code.co_varnames
    n = code.co_argcount
    positional = [args[x] for x in names[:n]]
    keywords = {x: args[x] for x in names[n:n + code.co_kwonlyargcount]}
    n += code.co_kwonlyargcount
    if code.co_flags & inspect.CO_VARARGS:
        positional.extend(args[names[n]])
        n += 1
    if code.co_flags & inspect.CO_VARKEYWORDS:
        keywords.update(args[names[n]])
    return fn(*positional, **keywords)


def rebuild_at_yield(module: ModuleType, point: int, frame_locals: dict):
    """A generator suspended at yield `point`."""
    gen = resumer_for(module, point)(None, frame_locals)
    primed = next(gen)
    assert primed is PRIMED, "resumer did not stop at its priming yield"
    return gen


def _finished():
    return
    yield  # pragma: no cover


def finished_generator():
    """A generator that is done (what an exhausted or closed generator rebuilds as)."""
    gen = _finished()
    gen.close()
    return gen


def abandon(generators) -> None:
    """Close generators whose state was just pickled away, without running their `finally`
    blocks or `__exit__` here: the program continues elsewhere with their copies.

    Discussion: garbage collection would close them with GeneratorExit, and the `finally`
    blocks would run in the process the program left (closing files, printing). A Capture
    thrown in is what the compiled guards skip `finally` and `__exit__` for. The generator
    type's own `throw` is called, so nothing but a generator object can be thrown into here
    (a greenlet raises TypeError): only the kernel switches greenlets or throws into them."""
    for gen in generators:
        try:
            _generator_throw(gen, Capture(None, None))
        except (Capture, StopIteration, RuntimeError):
            pass


_generator_throw = GeneratorType.throw  # TypeError for anything but a generator object


def reduce_generator(gen, captured: dict, parked: list | None = None):
    """The pickle reduction of a generator object, or None if it is not ours. Live generators
    that were reduced are appended to `parked` (to be abandoned once the bytes are sent)."""
    state = captured.get(id(gen))
    if state is not None:
        _, frames, op = state
        return (rebuild_from_frames, (frames, op))
    frame = gen.gi_frame
    if frame is None:  # exhausted or closed: no state left, whoever compiled it
        return (finished_generator, ())
    module = frame.f_globals.get("__swarm_module__")
    if module is None:  # library code: a few generators can be rebuilt (an Enum's iterator)
        from swarm.continuation.library import reduce_library_generator

        return reduce_library_generator(gen)
    status = inspect.getgeneratorstate(gen)
    if status == inspect.GEN_RUNNING:
        return None
    if status == inspect.GEN_CREATED:  # nothing ran yet: its locals are its arguments
        key = frame.f_globals["__swarm_compiled__"].code_key(gen.gi_code)
        if key is None:
            return None
        if parked is not None:
            parked.append(gen)
        return (fresh_generator, (module, key, dict(frame.f_locals)))
    f_locals = {k: v for k, v in frame.f_locals.items() if k not in TRANSIENT}
    point = f_locals.get("_sw_y")
    if point is None:
        return None
    if parked is not None:
        parked.append(gen)
    return (rebuild_at_yield, (module, point, f_locals))
