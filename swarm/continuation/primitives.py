"""Suspending operations: the leaves of a capture.

A primitive raises `Capture` carrying an `Operation`; the compiled frames above it append their
records as the exception unwinds them. When the continuation is resumed, the operation's
`perform()` runs where the program now is and its value becomes the primitive's return value.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

from swarm.continuation.capture import Capture
from swarm.continuation.fallback import capturable


class Operation:
    """What a suspended program is waiting to do. Subclasses are small and picklable."""

    __slots__ = ()
    #: the function the program called (the callee check at its call site compares with it)
    primitive = None

    def perform(self):
        raise NotImplementedError

    @property
    def why(self) -> str:
        """What the program is waiting to do, in a few words (swarm run --trace)."""
        return type(self).__name__


class Checkpoint(Operation):
    """`checkpoint()`: suspend here; resuming returns None."""

    __slots__ = ()
    why = "checkpoint"

    def perform(self):
        return None

    def __reduce__(self):
        return (Checkpoint, ())


# Who decides whether a primitive suspends: None means run natively (never capture). A driver or
# node installs a policy: a callable taking the Operation and returning True to capture.
_policy = None


def set_policy(policy) -> None:
    """Install who decides whether a primitive suspends (None: never)."""
    global _policy
    _policy = policy


def get_policy():
    """The policy installed (None: primitives never suspend)."""
    return _policy


_held: ContextVar = ContextVar("swarm_no_capture", default=False)


class no_capture:
    """`with no_capture():` - primitives of this greenlet do not suspend meanwhile (the
    codec pickling a continuation runs the program's __getstate__/__reduce__: a checkpoint
    there is no place to migrate from).

    Discussion: only this greenlet's - a context variable, and every greenlet has a context
    of its own. A node's program can be switched out inside (its __reduce__ runs past its
    slice, or parks); the others that run meanwhile keep suspending. (It once set the policy
    to None for the whole process: another program's checkpoints did nothing while one was
    switched out in its __reduce__.)"""

    def __enter__(self):
        self.token = _held.set(True)

    def __exit__(self, *exc) -> None:
        _held.reset(self.token)


def checkpoint() -> None:
    """A suspension point. Natively a no-op; under a driver the program may be captured here,
    shipped elsewhere and resumed, and this call then returns None there. Reached through
    code that cannot be captured (C code calling back, a property), it stays (fallback.py)."""
    if _policy is not None and not _held.get():
        op = Checkpoint()
        if _policy(op) and capturable(sys._getframe(1)):
            raise Capture(op, checkpoint)
    return None


Checkpoint.primitive = checkpoint
