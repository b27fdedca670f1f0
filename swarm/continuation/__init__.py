"""Continuations: capture a running compiled program as plain data and resume it.

    capture.py     Capture (the unwinding exception), Frame records, Continuation, on_capture
    resume.py      resume a Continuation; resume_next (how each frame gets its callee's result)
    generators.py  rebuilding user generators from records (suspended at a yield or mid-call)
    codec.py       pickling a Continuation (C pickle first, dill for what pickle refuses)
    primitives.py  the suspending operations a program calls (checkpoint, later Ref access)
    errors.py      NotMigratable
"""

from swarm.continuation.capture import Capture, Continuation, Frame
from swarm.continuation.errors import NotMigratable

__all__ = ["Capture", "Continuation", "Frame", "NotMigratable"]
