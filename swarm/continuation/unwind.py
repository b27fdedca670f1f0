"""Unwinding: what each compiled frame does as a Capture passes through it.

Every compiled function wraps its body in one handler that calls `on_capture_at` and
re-raises: it finds the point from the instruction the capture passed (stackcheck.site_offsets)
and appends the frame's record to the Capture (capture.py) - `on_capture` for a call,
`on_capture_next` where the frame was advancing a generator. A point whose position another
point shares has a handler of its own that calls those two directly.

Discussion: a capture must never produce a wrong continuation. The danger is a frame that was
not compiled sitting between two compiled ones: C code such as ``sorted(key=f)`` calling a
compiled key function, or a library decorator's wrapper. Such a frame records nothing, so its
caller would resume with the callee's result as if it had called it directly. Each handler
therefore checks that the frame that pushed the previous record is the one its own call site
called (`_check_direct_call`); if not, the capture becomes `NotMigratable`. The check costs
nothing on the normal path: it runs only while a capture unwinds. (stackcheck.py refuses most
such captures before anything unwinds; this is the backstop.)
"""

from __future__ import annotations

import inspect
import re
import sys
from types import BuiltinMethodType, GeneratorType, MethodWrapperType, ModuleType

from swarm.continuation.capture import (
    RESUMED,
    TRAMPOLINES,
    Capture,
    Frame,
    code_of,
    not_migratable_at,
)
from swarm.continuation.generators import GenNext
from swarm.continuation.stackcheck import UNKNOWN, named, site_offsets


def _called_from(c: Capture, frame) -> bool:
    """Was the frame that pushed the last record called by `frame`? C frames do not appear
    in f_back, but a Python frame that recorded nothing (it called on through C code or
    an uncompiled statement) does - and then frames are missing."""
    if c.callee_frame is None:
        return False
    caller = c.callee_caller
    while caller is not None and caller is not frame and caller.f_code in TRAMPOLINES:
        caller = caller.f_back  # the runtime's own resume steps (GenNext.perform, ...)
    return caller is frame


def _check_direct_call(c: Capture, callee, module, point, frame) -> None:
    """Raise NotMigratable unless frames[-1] was pushed by the function this call site called.

    Two facts must agree: the pushing frame runs the code of the callee this call site
    evaluates (so no C code sat in between, as in `list.sort(key=f)`), and that frame was
    called from this one (so no Python frame was skipped, as when a frame reached `f` through
    `min(key=f)` in a statement that is no suspension point)."""
    if c.callee_code is None:  # the leaf: the primitive itself must be the callee
        if callee is c.primitive or getattr(callee, "__func__", None) is c.primitive:
            return
        raise not_migratable_at(
            module, point,
            f"the suspension ({getattr(c.primitive, '__name__', c.primitive)}) was reached "
            f"through {_name(callee)}, which is not compiled (C or library code calling back)")
    if code_of(callee) is c.callee_code and _called_from(c, frame):
        return
    if isinstance(callee, type):  # Cls(...): type.__call__ ran __init__ for us
        init = code_of(getattr(callee, "__init__", None))
        if init is c.callee_code and c.frames and _called_from(c, frame):
            first = init.co_varnames[0] if init.co_argcount else None
            c.frames[-1] = c.frames[-1]._replace(returns=first)
            return
    what = "an implicit call (operator, property, iteration)" if callee is None \
        else f"the call of {_name(callee)}"
    raise not_migratable_at(
        module, point,
        f"{what} reached the suspension through a frame that was not "
        f"compiled (last compiled frame: {c.callee_code.co_qualname} in "
        f"{c.callee_code.co_filename}:{c.callee_code.co_firstlineno}); C or library code "
        "such as sorted(key=...), map() or a library decorator cannot be captured")


def _name(obj) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


_CALL_RESULT = re.compile(r"_sw_t\d+")  # the temporary holding a call's result


def on_capture(module: ModuleType, point: int, frame_locals: dict | None, callee) -> None:
    """Called by a point's own handler (a point whose position another shares) while a
    Capture unwinds through it."""
    if not _found_by_function_handler(sys.exception()):
        _on_capture(module, point, frame_locals, callee)


def _found_by_function_handler(c: Capture) -> bool:
    """Did the capture come through an instruction the function's one handler knows (a point
    of its own, inside the `try` of this point's handler)? Then that handler records it."""
    tb = c.__traceback__
    frame = tb.tb_frame
    while tb.tb_next is not None and tb.tb_next.tb_frame is frame:
        tb = tb.tb_next
    return tb.tb_lasti in site_offsets(frame.f_code, frame.f_globals.get("__swarm_compiled__"))


def _on_capture(module: ModuleType, point: int, frame_locals: dict | None, callee) -> None:
    c = sys.exception()
    frame = c.__traceback__.tb_frame
    if type(callee) in (BuiltinMethodType, MethodWrapperType) \
            and type(callee.__self__) is GeneratorType \
            and callee.__name__ in ("send", "__next__", "throw"):
        # send(v), throw(e) or __next__() on a generator: what they carried was delivered before
        # the capture; resuming advances the rebuilt generator again
        return _on_capture_next(module, point, frame_locals, callee.__self__)
    if callee is not RESUMED:
        _check_direct_call(c, callee, module, point, frame)
    elif c.frames:
        own = frame_locals if frame_locals is not None else frame.f_locals
        resumed_call = own.get("_sw_f")
        returns = getattr(resumed_call, "sw_returns", None)
        if returns is not None:  # it was resuming an __init__ called through Cls(...)
            c.frames[-1] = c.frames[-1]._replace(returns=returns)
        elif getattr(resumed_call, "sw_performs", False):
            gen = getattr(own["_sw_k"].op, "gen", None)
            if gen is not None:  # it was advancing a rebuilt generator (GenNext) again
                return _on_capture_next(module, point, frame_locals, gen)
        if c.callee_code is not None and not _called_from(c, frame):
            raise not_migratable_at(module, point, "the resumed call reached the suspension "
                                  "through a frame that was not compiled (C or library code "
                                  f"calling {c.callee_code.co_qualname} back)")
    # dead temporaries (and a resumer's own _sw_k, ...) do not travel
    live = module.__dict__["__swarm_compiled__"].live_temps_at(point)
    if frame_locals is not None:
        # Discussion: a copy. locals() hands back the frame's own snapshot dict, and the
        # next locals() in this frame (another handler's, while the capture unwinds through
        # an `except ... as e` that deletes e) would update the record with it
        frame_locals = {k: v for k, v in frame_locals.items()
                        if not k.startswith("_sw_") or k in live
                        or k.startswith(("_sw_box_", "_sw_y"))}
    else:
        # at a module's top level they are items of its `__swarm_temps__` global
        # (compiler/hiding.py); only dead call results are dropped there (`n =
        # len(r.get())` must not carry the list on every later hop)
        names = module.__dict__.get("__swarm_temps__") or {}
        for key in [k for k in names if k.startswith("_sw_t") and k not in live]:
            if _CALL_RESULT.fullmatch(key):
                del names[key]
    c.frames.append(Frame(module, point, frame_locals))
    c.callee_code = frame.f_code
    c.callee_frame = frame
    c.callee_caller = frame.f_back  # read now: a finished generator's frame forgets it


def on_capture_at(module: ModuleType, frame_locals: dict | None) -> None:
    """Called by a compiled function's one handler (around its body) while a Capture
    unwinds through it: the point is the one whose instruction the capture came through
    (the traceback's first entry for this frame; `stackcheck.site_offsets`).

    Discussion: one handler per function, not per point, halves the code the compiler
    makes (a handler with its inline caches is about 100 bytes, and was emitted in the
    function and again in its resumer for every point)."""
    c = sys.exception()
    tb = c.__traceback__
    frame = tb.tb_frame
    if c.callee_frame is frame:  # recorded by a point's own handler (a shared position)
        return
    while tb.tb_next is not None and tb.tb_next.tb_frame is frame:
        tb = tb.tb_next  # a `raise` in a handler on the way added an entry: the first one
    compiled = module.__dict__["__swarm_compiled__"]
    site = site_offsets(frame.f_code, compiled).get(tb.tb_lasti)
    if site is None:
        return  # no point here (an implicit call): the caller's direct-call check refuses it
    point, kind = site
    own = frame_locals if frame_locals is not None else frame.f_locals
    if kind == "resumed":  # the point the resumer was entered at
        point = frame.f_locals["_sw_r"] if frame_locals is None else frame_locals["_sw_r"]
        if point not in compiled.gens:
            return _on_capture(module, point, frame_locals, RESUMED)
        kind = "next"
    if kind == "call":
        return _on_capture(module, point, frame_locals, _evaluate(
            compiled.callees.get(point), own, frame))
    return _on_capture_next(module, point, frame_locals, _evaluate(
        compiled.gens.get(point), own, frame))


def _evaluate(path: tuple | None, own: dict, frame):
    """The object a point's callee or advanced generator names in the frame now (stackcheck's
    `named`); None if it cannot be."""
    obj = named(path, own, frame)
    return None if obj is UNKNOWN else obj


def on_capture_next(module: ModuleType, point: int, frame_locals: dict | None, gen) -> None:
    """Called by a `next` point's own handler (one whose position another shares)."""
    if not _found_by_function_handler(sys.exception()):
        _on_capture_next(module, point, frame_locals, gen)


def _on_capture_next(module: ModuleType, point: int, frame_locals: dict | None, gen) -> None:
    """A capture came out of a generator that this frame was advancing (a `for` loop over it, or
    `next(gen)`): the generator's frames become its saved state, and this frame will resume by
    advancing the rebuilt generator."""
    c = sys.exception()
    frame = c.__traceback__.tb_frame
    if c.callee_frame is frame:  # a call in this frame's loop body captured: already recorded
        return
    code = getattr(gen, "gi_code", None)
    if code is None and _iterator_suspended(c, gen):
        pass  # a native iterator suspended itself: advancing it again repeats that step
    else:
        if code is None or code is not c.callee_code \
                or not code.co_flags & inspect.CO_GENERATOR or not _called_from(c, frame):
            _check_direct_call(c, None, module, point, frame)  # raises the right NotMigratable
        c.generators[id(gen)] = (gen, c.frames[::-1], c.op)
    c.frames = []
    c.op = GenNext(gen)
    c.primitive = None
    c.callee_code = None
    c.callee_caller = None
    _on_capture(module, point, frame_locals, RESUMED)


def _iterator_suspended(c: Capture, it) -> bool:
    """Did the capture come straight out of `it.__next__` (no compiled frame between), raised
    with an operation that names `it` as its iterator?

    Discussion: a native iterator may suspend in `__next__` (the iterators of Swarm
    collections move the program to the next shard or value: swarm/collections.py) provided
    its state changes only once a step has run: resumed by advancing it again (GenNext), it
    repeats the step where the program arrived. The operation must name the very iterator
    the `for` loop advances, so that a capture out of another iterator advanced through C
    code in the loop is still refused."""
    return c.callee_code is None and it is not None and getattr(c.op, "iterator", None) is it
