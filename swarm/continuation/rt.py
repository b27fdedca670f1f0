"""What compiled code calls: bound as the global `__swarm_rt__` in every compiled module.

Kept to the names the compiler emits, so the generated code reads plainly:
`Capture` (handlers), `on_capture`/`on_capture_next` (a frame's record), `resume_next`
(a resumed call site), `Box` (a variable shared with a closure), `PRIMED` (priming yield).
"""

from swarm.continuation.capture import RESUMED, Capture, on_capture, on_capture_next
from swarm.continuation.generators import PRIMED
from swarm.continuation.resume import resume_next


class Box:
    """A variable that closures share. Moved into a box so the sharing survives pickling
    (pickle keeps object identity) and resumers, which are separate functions, can reach it."""

    __slots__ = ("v",)

    def __init__(self, *value) -> None:
        if value:
            self.v = value[0]

    def __reduce__(self):
        try:
            return (Box, (), (self.v,), None, None, _fill_box)
        except AttributeError:
            return (Box, ())


def _fill_box(box, state) -> None:
    box.v = state[0]


ONCE = (None,)
iter = iter  # for modules that rebind the builtin names the compiler emits
next = next
locals = locals

__all__ = ["Box", "Capture", "ONCE", "PRIMED", "RESUMED", "on_capture", "on_capture_next",
           "resume_next"]
