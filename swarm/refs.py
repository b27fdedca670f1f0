"""The public data API: Ref, here(), nodes(), move_to(). (spawn and Future: futures.py.)

A Ref is a remote variable: its value lives in the SQLite store of one node. Touching a Ref
that lives elsewhere captures the running program (`Capture` with the access as its pending
operation); the node ships the continuation to the Ref's node, where the access is performed
locally and the program goes on. A Ref pickles as a tiny handle (id + location hint), never
as its value.
"""

from __future__ import annotations

import sys

from swarm import runtime
from swarm.continuation.capture import Capture
from swarm.continuation.fallback import capturable
from swarm.continuation.primitives import Operation


class Handle:
    """What a program holds of data that lives on a node: an id and where to look for it (a
    hint, corrected as forwards are met). Pickles as those two strings, never as the data."""

    __slots__ = ("id", "hint")

    @classmethod
    def _handle(cls, handle_id: str, hint: str):
        handle = object.__new__(cls)
        handle.id, handle.hint = handle_id, hint
        return handle

    def __reduce__(self):
        return (type(self)._handle, (self.id, self.hint))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r} at {self.hint!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class Ref(Handle):
    """A remote variable. `Ref(value, at="n2")` creates it on node n2 (a forced remote
    variable); without `at`, on the node the program runs on."""

    __slots__ = ()

    def __init__(self, value=None, at: str | None = None) -> None:
        node = runtime.node()
        if at is not None and at != node.name:
            if node.should_fetch() or not can_move(1):
                self.id, self.hint = node.remote_create(value, at), at
                return
            raise Capture(CreateRef(value, at), Ref)
        self.id, self.hint = node.create_ref(value), node.name

    def get(self):
        """The value. Moves the program to the Ref's node if it lives elsewhere."""
        return _access(self, "get", None, Ref.get)

    def set(self, value) -> None:
        """Replace the value (where it lives)."""
        return _access(self, "set", value, Ref.set)

    def delete(self) -> None:
        """Remove the Ref and its value."""
        return _access(self, "delete", None, Ref.delete)

    def relocate(self, node: str) -> None:
        """Move the value to `node` (the program stays where it is; the next access goes
        there). Accesses meanwhile wait; programs that arrive at the old node later are
        forwarded."""
        current = runtime.node()
        if node not in current.config.names:
            raise ValueError(f"unknown node {node!r}; the cluster has {current.config.names}")
        _access(self, "relocate", node, Ref.relocate)
        self.hint = node  # this handle knows where it went (others learn from forwards)


def _access(ref: Ref, action: str, arg, primitive):
    node = runtime.node()
    where = node.locate(ref)
    while where == node.name:
        if not node.wait_while_moving(ref.id):  # a relocation of it is in flight: wait
            return node.ref_action(ref, action, arg)
        where = node.locate(ref)
    ref.hint = where
    if node.should_fetch() or not can_move(2):  # the fetch policy, or the fallback
        return node.remote_action(ref, action, arg)
    raise Capture(RefAccess(ref, action, arg, primitive), primitive)


def can_move(depth: int) -> bool:
    """Can the program be captured from the frame `depth` levels above the caller? Not if C
    code or an implicit call sits between it and the access (sorted(key=lambda r: r.get())):
    then it stays, told once on its stderr and counted in the node's fallbacks
    (swarm/continuation/stackcheck.py), and the access fetches - never a lost frame."""
    node = runtime.node()
    collserve = sys.modules.get("swarm.node.collserve")
    if getattr(collserve, "_updating", False):
        return True  # inside a collection's update(fn): its own check refuses the capture
    prog = node.kernel.current_context()
    if capturable(sys._getframe(depth + 1), strict=prog is not None and prog.strict):
        return True
    node.stats["fallbacks"] += 1
    return False


class RefAccess(Operation):
    """A Ref operation waiting to run on the Ref's node."""

    __slots__ = ("ref", "action", "arg", "primitive")

    def __init__(self, ref: Ref, action: str, arg, primitive) -> None:
        self.ref, self.action, self.arg, self.primitive = ref, action, arg, primitive

    @property
    def destination(self) -> str:
        return self.ref.hint

    @property
    def why(self) -> str:
        return f"{self.action} {self.ref.id}"

    def perform(self):
        # on arrival: the Ref may have moved on meanwhile (then this captures again)
        return _access(self.ref, self.action, self.arg, self.primitive)

    def __reduce__(self):
        return (RefAccess, (self.ref, self.action, self.arg, self.primitive))


class CreateRef(Operation):
    __slots__ = ("value", "at")
    primitive = Ref
    why = "create Ref"

    def __init__(self, value, at: str) -> None:
        self.value, self.at = value, at

    @property
    def destination(self) -> str:
        return self.at

    def perform(self):
        return Ref(self.value)

    def __reduce__(self):
        return (CreateRef, (self.value, self.at))


class MoveTo(Operation):
    __slots__ = ("node",)
    why = "move_to"

    def __init__(self, node: str) -> None:
        self.node = node

    @property
    def destination(self) -> str:
        return self.node

    def perform(self):
        return None

    def __reduce__(self):
        return (MoveTo, (self.node,))


def here() -> str:
    """The name of the node the program is running on now."""
    return runtime.node().name


def nodes() -> list[str]:
    """The names of the cluster's nodes, in cluster order."""
    return list(runtime.node().config.names)


def move_to(node: str) -> None:
    """Move the running program to `node` (forcing Swarm to migrate the continuation)."""
    current = runtime.node()
    if node not in current.config.names:
        raise ValueError(f"unknown node {node!r}; the cluster has {current.config.names}")
    if node != current.name and can_move(1):
        raise Capture(MoveTo(node), move_to)


MoveTo.primitive = move_to
