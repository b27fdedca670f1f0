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

Discussion: which instruction is "a point's call" is read from the bytecode, not from the
compiler: a point is a `try` body whose handler calls `__swarm_rt__.on_capture`; its call is
the body's last CALL (the point's own call: its arguments were evaluated before it). A frame
stopped anywhere else - a builtin's CALL, a LOAD_ATTR running a property, a BINARY_OP
running `__add__` - reached the suspension through something the capture cannot record.
The check during unwinding (capture.py) stays as the backstop. The offsets are computed
once per code object.
"""

from __future__ import annotations

import dis
from types import CodeType

from swarm.continuation.capture import TRAMPOLINES

_HANDLERS = frozenset({"on_capture", "on_capture_next"})
_accepted: dict[int, frozenset[int]] = {}  # id(code) -> f_lasti values of its point calls
_keep: list[CodeType] = []  # the code objects of _accepted (their ids must stay theirs)


def _handler_kind(order: list, index: dict, target: int) -> str | None:
    """'on_capture' / 'on_capture_next' if the handler at `target` is a point's handler."""
    i = index.get(target)
    if i is None:
        return None
    for ins in order[i:i + 12]:
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval in _HANDLERS:
            return ins.argval
        if ins.opname in ("RERAISE", "RAISE_VARARGS", "RETURN_VALUE"):
            return None
    return None


def accepted_offsets(code: CodeType) -> frozenset[int]:
    """The `f_lasti` values at which a frame of `code` is stopped at a suspension point."""
    found = _accepted.get(id(code))
    if found is not None:
        return found
    order = list(dis.get_instructions(code))
    ends = {ins.offset: (order[i + 1].offset if i + 1 < len(order) else ins.offset + 2)
            for i, ins in enumerate(order)}
    index = {ins.offset: i for i, ins in enumerate(order)}
    offsets: set[int] = set()
    for entry in dis._parse_exception_table(code):
        kind = _handler_kind(order, index, entry.target)
        if kind is None:
            continue
        body = [ins for ins in order if entry.start <= ins.offset < entry.end]
        calls = [ins for ins in body if ins.opname in ("CALL", "CALL_FUNCTION_EX")]
        chosen = [ins for ins in body if ins.opname == "FOR_ITER"] if kind == "on_capture_next" \
            else []
        if calls and not chosen:
            chosen = [calls[-1]]
        for ins in chosen:
            # a frame calling Python code reports the CALL's last inline cache entry
            offsets.update(range(ins.offset, ends[ins.offset], 2))
    result = frozenset(offsets)
    _accepted[id(code)] = result
    _keep.append(code)
    return result


def why_not_capturable(frame, is_compiled, is_root) -> str | None:
    """None if every frame from `frame` (the primitive's caller) up to the program's root is
    stopped at a suspension point of compiled code; else why not, naming file:line.

    `is_compiled(code)` and `is_root(code)` (a module's top level, or its resumer) come from
    the compiler's registry."""
    callee = None
    while frame is not None:
        code = frame.f_code
        if code in TRAMPOLINES:
            frame = frame.f_back
            continue
        where = f"{code.co_filename}:{frame.f_lineno}"
        if not is_compiled(code):
            return (f"at {where}: {code.co_qualname} is library code, not compiled, and it "
                    "called back into the program (keep suspending calls out of library "
                    "callbacks)")
        if frame.f_lasti not in accepted_offsets(code):
            into = "" if callee is None else \
                f" ({callee.co_qualname}, {callee.co_filename}:{callee.co_firstlineno})"
            return f"at {where} in {code.co_qualname}: {_describe(frame, into)}"
        if is_root(code):
            return None
        callee = code
        frame = frame.f_back
    return "the suspension was reached outside a compiled program"


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
