"""Continuations: capture a running compiled program as plain data and resume it.

    capture.py     the base: Frame records, Capture (the unwinding exception), Continuation
    unwind.py      on_capture: each compiled frame's record as a Capture passes it
    resume.py      resume a Continuation; resume_next (how each frame gets its callee's result)
    generators.py  rebuilding user generators from records (suspended at a yield or mid-call)
    primitives.py  the suspending operations a program calls (checkpoint, later Ref access)
    stackcheck.py  before unwinding: can the program be captured from here?
    fallback.py    when it cannot: told once, the program goes on where it is
    support.py     what compiled code calls (bound as its global `__swarm_support__`)
    codec.py       a Continuation to bytes and back (reductions.py, rebuilders.py, explain.py,
                   contentaddr.py, library.py)
    loader.py      the compiler's functions, injected (the runtime does not import it)
    errors.py      NotMigratable

docs/continuations.md lists them bottom up; none imports one above it.
"""

from swarm.continuation.capture import Capture, Continuation, Frame
from swarm.continuation.errors import NotMigratable

__all__ = ["Capture", "Continuation", "Frame", "NotMigratable"]
