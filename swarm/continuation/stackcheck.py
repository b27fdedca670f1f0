"""Before unwinding: can the running program be captured from here?

A capture records one frame per compiled call site it unwinds through. If C code or an
uncompiled frame sits between the suspension and the program's root - `sorted(key=f)`
calling `f`, a property getter run by an attribute access, `list(gen())` over a generator
that suspends - those frames would be lost, and once unwound the program could neither
migrate nor go on where it is. So a suspending primitive first walks the stack
(`why_not_capturable`): every frame from its caller up to the root must be compiled code
stopped at a suspension point's own call (or at the `for` loop advancing a generator). If
one is not, the primitive does not raise `Capture`: the program goes on where it is (a Ref
access fetches instead) and the reason is reported once (`fallback.py`).

Discussion: which instruction is "a point's call" is read from the bytecode: a function
has one handler (`on_capture_at`) around its body, and its points are found by the position
CPython gave their instruction (`site_offsets`: the compiler recorded, for each point, its
call's end, or the span of the `for` loop or `yield from` advancing a generator; a
resumer's call of the next record's resumer by its form, `_sw_f(_sw_k, _sw_a)`, after
`_sw_r = <point>`). A point whose position another shares keeps a handler of its own: a
`try` body whose handler calls `__swarm_support__.on_capture`; its call is the body's last
CALL (the point's own call: its arguments were evaluated before it). A frame
stopped anywhere else - a builtin's CALL, a LOAD_ATTR running a property, a BINARY_OP
running `__add__` - reached the suspension through something the capture cannot record.
The check during unwinding (capture.py) stays as the backstop. The offsets are computed
once per code object.
"""

from __future__ import annotations

import dis
from inspect import CO_GENERATOR
from types import CodeType, GeneratorType

from swarm.continuation.capture import TRAMPOLINES, code_of

_HANDLERS = frozenset({"on_capture", "on_capture_next"})
RESUMED_CALL = -1  # the point of a resumer's call of the next record's resumer
_accepted: dict[int, dict[int, int | None]] = {}  # id(code) -> {f_lasti of a point's call:
#  its point id (None: a loop or next() advancing a generator)}
_keep: list[CodeType] = []  # the code objects of _accepted (their ids must stay theirs)


def _handler_kind(order: list, index: dict, target: int) -> tuple[str | None, int | None]:
    """('on_capture' or 'on_capture_next', the point id) if the handler at `target` is a
    point's handler (it calls on_capture(__swarm_module__, <point>, ...)), else (None, None)."""
    i = index.get(target)
    if i is None:
        return None, None
    for j, ins in enumerate(order[i:i + 12]):
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval in _HANDLERS:
            point = next((x.argval for x in order[i + j + 1:i + j + 4]
                          if x.opname == "LOAD_CONST" and isinstance(x.argval, int)), None)
            if any(x.opname == "LOAD_ATTR" and x.argval == "RESUMED"
                   for x in order[i + j + 1:i + j + 12]):
                point = RESUMED_CALL  # a resumer's own point: it calls _sw_f(_sw_k, _sw_a)
            return ins.argval, point
        if ins.opname in ("RERAISE", "RAISE_VARARGS", "RETURN_VALUE"):
            return None, None
    return None, None


_SITE_OPS = {"CALL": "c", "CALL_FUNCTION_EX": "c", "FOR_ITER": "f", "SEND": "s"}
_sites: dict[int, dict[int, tuple[int, str]]] = {}  # id(code) -> site_offsets(code)


def site_offsets(code: CodeType, compiled) -> dict[int, tuple[int, str]]:
    """Offset -> (point, kind) for each instruction of `code` at which a capture passes a
    point found by the function's one handler: every offset a frame stopped there reports
    (a CALL that called Python code reports its last inline cache entry). kind: "call",
    "next" (advancing a generator), "resumed" (a resumer calling the next record's resumer:
    the point is RESUMED_CALL here, the frame's `_sw_r` says which). `compiled` is the
    CompiledModule."""
    found = _sites.get(id(code))
    if found is not None:
        return found
    sites = getattr(compiled, "sites", None) or {}
    gens = getattr(compiled, "gens", None) or {}
    order = list(dis.get_instructions(code))
    out: dict[int, tuple[int, str]] = {}
    for i, ins in enumerate(order):
        tag = _SITE_OPS.get(ins.opname)
        if tag is None:
            continue
        pos = ins.positions
        if tag != "c":
            point = sites.get((tag, pos.lineno, pos.col_offset, pos.end_lineno,
                               pos.end_col_offset))
            kind = "next"
        elif _is_resume_call(order, i):
            point, kind = RESUMED_CALL, "resumed"  # its point: the frame's `_sw_r`
        else:
            point = sites.get(("c", pos.end_lineno, pos.end_col_offset))
            kind = "next" if point in gens else "call"
        if point is None:
            continue
        end = order[i + 1].offset if i + 1 < len(order) else ins.offset + 2
        for offset in range(_call_start(order, i), end, 2):
            out[offset] = (point, kind)
    _sites[id(code)] = out
    _keep.append(code)
    return out


def _call_start(order: list, i: int) -> int:
    """The first offset at which a frame stopped in the call order[i] may report itself: its
    PRECALL's, when there is one.

    Discussion: once CPython 3.11 has specialized a call of a builtin (`next(g)` run a few
    times: PRECALL_NO_KW_BUILTIN_FAST), the PRECALL makes the call itself, and a generator
    it advances sees its caller stopped there, not at the CALL: such a `next` point was
    taken for C code calling back, and the program fetched instead of migrating."""
    if i and order[i - 1].opname == "PRECALL":
        return order[i - 1].offset
    return order[i].offset


def _is_resume_call(order: list, i: int) -> bool:
    """Is order[i] the CALL of `_sw_f(_sw_k, _sw_a)`?"""
    return i >= 4 and order[i].arg == 2 and [
        (ins.opname, ins.argval) for ins in order[i - 4:i]] == [
        ("LOAD_FAST", "_sw_f"), ("LOAD_FAST", "_sw_k"), ("LOAD_FAST", "_sw_a"), ("PRECALL", 2)]


def accepted_offsets(code: CodeType, compiled=None) -> dict[int, int | None]:
    """The `f_lasti` values at which a frame of `code` is stopped at a suspension point's
    call, with the point (None where it advances a generator, RESUMED_CALL at a resumer's
    call of the next record's resumer)."""
    found = _accepted.get(id(code))
    if found is not None:
        return found
    order = list(dis.get_instructions(code))
    ends = {ins.offset: (order[i + 1].offset if i + 1 < len(order) else ins.offset + 2)
            for i, ins in enumerate(order)}
    index = {ins.offset: i for i, ins in enumerate(order)}
    offsets: dict[int, int | None] = {
        offset: (point if kind in ("call", "resumed") else None)
        for offset, (point, kind) in site_offsets(code, compiled).items()}
    for entry in dis._parse_exception_table(code):
        kind, point = _handler_kind(order, index, entry.target)
        if kind is None:
            continue
        body = [ins for ins in order if entry.start <= ins.offset < entry.end]
        calls = [ins for ins in body if ins.opname in ("CALL", "CALL_FUNCTION_EX")]
        # a loop advancing a generator stops at FOR_ITER, a native `yield from` at SEND
        chosen = [ins for ins in body if ins.opname in ("FOR_ITER", "SEND")] \
            if kind == "on_capture_next" else []
        if calls and not chosen:
            chosen = [calls[-1]]
        for ins in chosen:
            # a frame calling Python code reports the CALL's last inline cache entry
            start = _call_start(order, index[ins.offset]) if ins.opname == "CALL" \
                else ins.offset
            for offset in range(start, ends[ins.offset], 2):
                offsets[offset] = point if kind == "on_capture" else None
    result = offsets
    _accepted[id(code)] = result
    _keep.append(code)
    return result


def why_not_capturable(frame, is_compiled, is_root) -> str | None:
    """None if every frame from `frame` (the primitive's caller) up to the program's root is
    stopped at a suspension point of compiled code; else why not, naming file:line.

    `is_compiled(code)` and `is_root(code)` (a module's top level, or its resumer) come from
    the compiler's registry."""
    callee = None
    below = None  # the frame this one called (C frames do not appear in between)
    while frame is not None:
        code = frame.f_code
        if code in TRAMPOLINES:
            below = None  # the runtime's own steps: what they call is theirs to know
            frame = frame.f_back
            continue
        where = f"{code.co_filename}:{frame.f_lineno}"
        if not is_compiled(code):
            caller = _program_frame_below(frame, is_compiled)
            at = where if caller is None else \
                f"{caller.f_code.co_filename}:{caller.f_lineno} (in {code.co_filename})"
            return (f"at {at}: {code.co_qualname} is library code, not compiled, and it "
                    "called back into the program (keep suspending calls out of library "
                    "callbacks)")
        accepted = accepted_offsets(code, frame.f_globals.get("__swarm_compiled__"))
        into = "" if callee is None else \
            f" ({callee.co_qualname}, {callee.co_filename}:{callee.co_firstlineno})"
        if frame.f_lasti not in accepted:
            return f"at {where} in {code.co_qualname}: {_describe(frame, into)}"
        point = accepted[frame.f_lasti]
        if point == RESUMED_CALL and frame.f_locals.get("_sw_r") in getattr(
                frame.f_globals.get("__swarm_compiled__"), "gens", ()):
            point = None  # resuming a `next` point: advancing a rebuilt generator
        if below is not None and point is not None and not _calls(frame, point, below):
            return (f"at {where} in {code.co_qualname}: the call there is C code that called "
                    f"back into the program{into}, which then suspended - such as "
                    "list.sort(key=...) or a builtin method (write the loop yourself)")
        if below is not None and point is None:
            wrapper = _iterator_between(frame, below)
            if wrapper is not None and not below.f_code.co_flags & CO_GENERATOR:
                return (f"at {where} in {code.co_qualname}: the loop there iterates a "
                        f"{wrapper} object, whose __next__{into} suspended (use a generator)")
            if wrapper is not None:
                return (f"at {where} in {code.co_qualname}: the loop there advances "
                        f"{wrapper}(...), C code that advanced a generator{into} which then "
                        "suspended - such as enumerate(), zip(), map(), filter() or "
                        "itertools.islice() over a generator that suspends (loop over the "
                        "generator itself)")
        if is_root(code):
            return _imported(frame, is_compiled)
        callee = code
        below = frame
        frame = frame.f_back
    return "the suspension was reached outside a compiled program"


def _program_frame_below(frame, is_compiled):
    """The nearest program frame below `frame` (the runtime's trampolines skipped), or None:
    the program's line that called library code (what a warning names first: the user's
    line, not heapq.py's), or the `import` under a module's top level (_imported)."""
    frame = frame.f_back
    while frame is not None:
        if frame.f_code not in TRAMPOLINES and is_compiled(frame.f_code):
            return frame
        frame = frame.f_back
    return None


def _imported(root, is_compiled) -> str | None:
    """None if no program frame lies below the module top level `root` (only the node's, or
    the runtime's trampolines); else why not: the top level runs under an import (importlib
    between it and the frame of the `import` statement). Captured from there, the frames
    below the import were lost - the program ended when the imported module's top level
    did, the rest of it silently skipped."""
    frame = _program_frame_below(root, is_compiled)
    if frame is None:
        return None
    return (f"at {frame.f_code.co_filename}:{frame.f_lineno}: the import there runs "
            f"{root.f_code.co_filename}'s top level, which suspended at line "
            f"{root.f_lineno}; a module being imported cannot be captured (importlib's "
            "frames in between) - touch Refs in a function the program calls after the import")


UNKNOWN = object()  # what named() gives for a path it cannot evaluate


def named(path: tuple | None, own: dict, frame):
    """The object a name or attribute chain the compiler recorded (a point's callee, or the
    generator it advances) names in `frame` now - `own`: its locals -, as the capture
    handler evaluates it; UNKNOWN if nothing was recorded or it cannot be evaluated (an
    attribute that raises: the caller then lets the check during unwinding decide)."""
    if not path:
        return UNKNOWN
    head = path[0]
    try:
        if head in own:
            obj = own[head]
        elif head in frame.f_globals:
            obj = frame.f_globals[head]
        elif head.startswith("_sw_") and head in frame.f_globals.get("__swarm_temps__", ()):
            obj = frame.f_globals["__swarm_temps__"][head]  # a module's (compiler/hiding.py)
        else:
            obj = frame.f_builtins[head]
        for attr in path[1:]:
            obj = getattr(obj, attr)
    except Exception:
        return UNKNOWN
    return obj


def _iterator_between(frame, below) -> str | None:
    """The type name of what `frame`'s `for` loop (or `next` point) advances, if that is not
    the generator running in `below` - an enumerate, zip, map... (C code) advancing it, which
    the capture cannot record; None if it is, or if the compiler recorded nothing to tell."""
    compiled = frame.f_globals.get("__swarm_compiled__")
    site = site_offsets(frame.f_code, compiled).get(frame.f_lasti)
    if site is None or site[1] != "next":
        return None  # a point's own handler, or a resumer's call: the unwinding check decides
    it = named(getattr(compiled, "gens", {}).get(site[0]), frame.f_locals, frame)
    if it is UNKNOWN:
        return None
    if getattr(it, "gi_frame", None) is below or getattr(it, "gi_code", None) is below.f_code:
        return None
    return type(it).__qualname__


def _calls(frame, point: int, below) -> bool:
    """Does the call of `point` in `frame` call the code `below` runs? Its callee (a name
    or attribute chain the compiler recorded) is evaluated again, as the capture handler
    would; a callee that is C code (a builtin method such as list.sort) is not `below`."""
    compiled = frame.f_globals.get("__swarm_compiled__")
    path = ("_sw_f",) if point == RESUMED_CALL else getattr(compiled, "callees", {}).get(point)
    obj = named(path, frame.f_locals, frame)
    if obj is UNKNOWN:
        return True  # nothing recorded, or not evaluable: the check during unwinding decides
    if isinstance(obj, type):  # Cls(...): type.__call__ runs __new__ and __init__
        init = code_of(getattr(obj, "__init__", None))
        if init is below.f_code or code_of(getattr(obj, "__new__", None)) is below.f_code:
            return True
        # C code all the way (deque(gen()), dict(gen()), a class's C __init__ iterating a
        # generator that suspends) cannot be recorded; a metaclass's own __call__, or an
        # __init__ that is Python, is for the check during unwinding to judge
        return init is not None or type(obj).__call__ is not type.__call__
    code = code_of(obj)
    if code is None:  # C code called (list.sort, functools.partial...) - unless it advances
        # a generator (gen.send(v), gen.__next__()), which the capture handles
        owner = getattr(obj, "__self__", None)
        return type(owner) is GeneratorType and getattr(obj, "__name__", "") in (
            "send", "__next__", "throw")
    return code is below.f_code or code in TRAMPOLINES


def _describe(frame, into: str) -> str:
    """What the frame was doing at f_lasti, and what to change, in words."""
    last = None
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset > frame.f_lasti:
            break
        last = ins
    op = last.opname if last is not None else ""
    if op in ("CALL", "PRECALL"):
        return (f"C code called back into the program{into}, which then suspended - "
                "sorted(key=...), "
                "max(key=...), map(), list() over a generator that suspends (write the loop "
                "yourself)")
    if op in ("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR"):
        return (f"reading the attribute {last.argval!r} ran a property or __getattr__{into} "
                "that suspends (call a method instead)")
    if op in ("BINARY_OP", "COMPARE_OP", "BINARY_SUBSCR", "STORE_SUBSCR", "CONTAINS_OP"):
        return (f"an operator ({last.argrepr or op}) ran a method{into} that suspends (call "
                "the method explicitly)")
    if op in ("FOR_ITER", "GET_ITER"):
        return "iterating ran __iter__/__next__ of a class, which suspended (use a generator)"
    return f"an implicit call ({op or 'unknown'}) suspended"
