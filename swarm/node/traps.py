"""The door from a program into its node: the only way Ref, Future, collections, the web
front end and Skywriting's executors reach node services.

A program runs in a greenlet of its node (kernel.py); the functions here find that node (one
per process, installed by the shell when it starts) and the program being run, and decide
what a Ref operation does - run here, move the program to the data (raise Capture: the node
ships the continuation), or fetch - by the program's policy. Everything they need of the node
goes through refserve.py, tasks.py and collserve.py; nothing above this module touches a node
object. The operations a program is captured at (RefAccess, CreateRef, MoveTo, AwaitFuture,
Resolve) are here too: what they do on arrival is to call these traps again.
"""

from __future__ import annotations

import sys

from swarm.continuation.capture import Capture
from swarm.continuation.fallback import staying_because
from swarm.continuation.primitives import Operation
from swarm.errors import NotOnANode
from swarm.node import collserve, futurewait, refserve, tasks

_node = None


def install(shell) -> None:
    """The shell of this process's node (swarm/node/shell.py): set once, when it starts."""
    global _node
    _node = shell


def node():
    if _node is None:
        raise NotOnANode("Refs live on swarm nodes: run the program with `swarm run FILE.py` "
                         "(or swarm.local_cluster(...).run)")
    return _node


# ---- where the program is ---------------------------------------------------------------------

def here() -> str:
    return node().name


def names() -> list[str]:
    return list(node().config.names)


def check_node(name: str) -> None:
    n = node()
    if name not in n.config.nodes:
        raise ValueError(f"unknown node {name!r}; the cluster has {n.config.names}")


def current_program():
    return node().kernel.current_context()


def record_access(ref_id: str) -> None:
    """Count an access of the current program for the placer."""
    n = node()
    n.machine.access.record(n.kernel.current_context(), ref_id)


def count(stat: str) -> None:
    node().machine.count(stat)


def can_move(frame) -> bool:
    """Can the program be captured from `frame` (the caller of the API method)? Not if C
    code or an implicit call sits between it and the access (sorted(key=lambda r:
    r.get())): then it stays, told once on its stderr and counted in the node's fallbacks
    (swarm/continuation/stackcheck.py), and the access fetches - never a lost frame."""
    if collserve.updating():
        return True  # inside a collection's update(fn): its own check refuses the capture
    n = node()
    prog = n.kernel.current_context()
    reason = staying_because(frame, strict=prog is not None and prog.strict)
    if reason is None:
        return True
    n.machine.count("fallbacks")
    n.machine.fallbacks.note(reason)  # (status?: the dashboard shows them by reason)
    return False


def run_in_thread(fn, *args, **kwargs):
    """Run blocking work (a subprocess, a file read) in a thread; the program parks until it
    returns, while the node serves everything else."""
    return node().kernel.run_in_thread(fn, *args, **kwargs)


# ---- Refs ----------------------------------------------------------------------------------------

def ref_create(value, at: str | None, primitive) -> tuple[str, str]:
    """A new Ref's (id, hint): here, or on `at` (moving there, or asking it to)."""

    n = node()
    if at is not None and at != n.name:
        refserve.check_value(n, value)  # (a value over the limit is refused here, not there)
        if refserve.should_fetch(n) or not can_move(sys._getframe(2)):
            return refserve.remote_create(n, value, at), at
        raise Capture(CreateRef(value, at, primitive), primitive)
    return refserve.create_ref(n, value), n.name


def ref_access(ref, action: str, arg, primitive):
    """get, set, delete, relocate: where the Ref lives (moving the program there), or by
    fetching (the fetch policy, or a program that cannot move)."""

    n = node()
    if action == "set":
        refserve.check_value(n, arg)
    where = refserve.locate(n, ref.id, ref.hint)
    while where == n.name:
        if not refserve.wait_while_moving(n, ref.id):  # a relocation in flight: wait
            result = refserve.ref_action(n, ref.id, action, arg)
            if action == "relocate":
                ref.hint = arg
            return result
        where = refserve.locate(n, ref.id, ref.hint)
    ref.hint = where
    # the fetch policy, or the fallback of one that cannot move
    if refserve.should_fetch(n) or not can_move(sys._getframe(2)):
        result = refserve.remote_action(n, ref, action, arg)
        if action == "relocate":
            ref.hint = arg
        return result
    raise Capture(RefAccess(ref, action, arg, primitive), primitive)


def move_to(name: str, primitive) -> None:

    check_node(name)
    if name != node().name and can_move(sys._getframe(2)):
        raise Capture(MoveTo(name, primitive), primitive)


# ---- tasks and futures -------------------------------------------------------------------------

def spawn(fn, args: tuple, kwargs: dict, make_future):
    """Start fn(*args, **kwargs) as a task; its Future (made by make_future(id, home))."""

    return tasks.spawn_task(node(), fn, args, kwargs, make_future)


def future_get(future, primitive, timeout: float | None = None):
    """The task's result: waiting where it will appear (moving there, or asking); at most
    `timeout` seconds once there (TimeoutError)."""

    n = node()
    if future.hint == n.name:
        if timeout is not None:
            return futurewait.get(n, future.id, timeout)
        return tasks.await_future(n, future.id)
    if refserve.should_fetch(n) or not can_move(sys._getframe(2)):
        return refserve.remote_action(n, future, "wait", timeout)
    value = futurewait.fetch_if_done(n, future)  # finished and small: no need to move
    if value is not futurewait.NOT_READY:
        return value
    raise Capture(AwaitFuture(future, primitive, timeout), primitive)


def future_done(future) -> bool:
    """Has the task finished? Asked of its home node; the program does not move."""
    return future.id in futurewait.which_done(node(), [future])


def futures_wait(futures, timeout: float | None, return_when: str) -> tuple[set, set]:
    """concurrent.futures.wait for futures: (done, not_done); the program does not move."""
    return futurewait.wait(node(), futures, timeout, return_when)


def resolve_future(future, value, error, primitive) -> None:
    """A finished task leaves its result on its future's home node (moving there)."""

    n = node()
    if future.hint != n.name:
        raise Capture(Resolve(future, value, error, primitive), primitive)
    tasks.resolve_future(n, future.id, value, error)


# ---- the operations a program is captured at ------------------------------------------------
# (each runs, by perform(), on the node the program was sent to - where it may capture again)

class RefAccess(Operation):
    """A Ref operation waiting to run on the Ref's node."""

    __slots__ = ("ref", "action", "arg", "primitive")

    def __init__(self, ref, action: str, arg, primitive) -> None:
        self.ref, self.action, self.arg, self.primitive = ref, action, arg, primitive

    @property
    def destination(self) -> str:
        return self.ref.hint

    @property
    def why(self) -> str:
        return f"{self.action} {self.ref.id}"

    @property
    def auto(self) -> str:
        """Under the auto policy: "size" (fetch if the value is smaller than the
        continuation) for a read; "fetch" for a write, whose value travels either way."""
        return "size" if self.action == "get" else "fetch"

    def perform(self):
        # on arrival: the Ref may have moved on meanwhile (then this captures again)
        return ref_access(self.ref, self.action, self.arg, self.primitive)

    def __reduce__(self):
        return (RefAccess, (self.ref, self.action, self.arg, self.primitive))


class CreateRef(Operation):
    __slots__ = ("value", "at", "primitive")
    why = "create Ref"
    auto = "fetch"

    def __init__(self, value, at: str, primitive) -> None:
        self.value, self.at, self.primitive = value, at, primitive

    @property
    def destination(self) -> str:
        return self.at

    def perform(self):
        return self.primitive(self.value)

    def __reduce__(self):
        return (CreateRef, (self.value, self.at, self.primitive))


class MoveTo(Operation):
    __slots__ = ("node", "primitive")
    why = "move_to"

    def __init__(self, node: str, primitive) -> None:
        self.node, self.primitive = node, primitive

    @property
    def destination(self) -> str:
        return self.node

    def perform(self):
        return None

    def __reduce__(self):
        return (MoveTo, (self.node, self.primitive))


class AwaitFuture(Operation):
    __slots__ = ("future", "primitive", "timeout")
    why = "Future.get"

    def __init__(self, future, primitive, timeout: float | None = None) -> None:
        self.future, self.primitive, self.timeout = future, primitive, timeout

    @property
    def destination(self) -> str:
        return self.future.hint

    def perform(self):
        # (the timeout counts from the arrival on the home node)
        return future_get(self.future, self.primitive, self.timeout)

    def __reduce__(self):
        return (AwaitFuture, (self.future, self.primitive, self.timeout))


class Resolve(Operation):
    """A finished task going home to leave its result."""

    __slots__ = ("future", "value", "error", "primitive")
    why = "task result"

    def __init__(self, future, value, error, primitive) -> None:
        self.future, self.value, self.error, self.primitive = future, value, error, primitive

    @property
    def destination(self) -> str:
        return self.future.hint

    def perform(self):
        return resolve_future(self.future, self.value, self.error, self.primitive)

    def __reduce__(self):
        return (Resolve, (self.future, self.value, self.error, self.primitive))


# ---- collections ---------------------------------------------------------------------------------

def collection_drive(pending, can_move):
    """Run a collection operation's steps (swarm/node/collserve.py)."""

    return collserve.drive(node(), pending, can_move)
