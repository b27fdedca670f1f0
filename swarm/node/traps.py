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

from swarm.continuation import loader
from swarm.continuation.capture import Capture
from swarm.continuation.errors import NotMigratable
from swarm.continuation.fallback import staying_because
from swarm.continuation.primitives import Operation
from swarm.continuation.stackcheck import why_not_capturable
from swarm.errors import AtomicConflict, NotOnANode
from swarm.node import collserve, futurewait, refserve, tasks, txncoll, txnserve

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
    """The members, in cluster order: not those declared gone or removed."""
    n = node()
    return [name for name in n.config.names if name not in n.machine.fenced]


def homes() -> list[str]:
    """The nodes whose names hash homes (config.homes: fixed when nodes join)."""
    return node().config.homes


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
        if refserve.should_fetch(n) or _block(n) is not None or \
                not can_move(sys._getframe(2)):  # (a block does not move)
            _save_first(n, sys._getframe(2), CreateRef(value, at, primitive), primitive)
            return refserve.remote_create(n, value, at), at
        raise Capture(CreateRef(value, at, primitive), primitive)
    return refserve.create_ref(n, value), n.name


def ref_access(ref, action: str, arg, primitive):
    """get, set, delete, relocate: where the Ref lives (moving the program there), or by
    fetching (the fetch policy, or a program that cannot move)."""

    n = node()
    if collserve.updating():
        raise RuntimeError(collserve.UPDATE_FN_TOUCHED)
    if action == "set":
        refserve.check_value(n, arg)
    txn = _block(n)
    if txn is not None:  # inside an atomic block: read where it lives, buffer writes
        if action == "get":
            return txnserve.read(n, txn, ref)
        if action == "set":
            return txnserve.write(n, txn, ref, arg)
        if action == "delete":
            return txnserve.write(n, txn, ref, txnserve.DELETED)
        txnserve.refuse(f"Ref.{action}()")
    where = refserve.locate(n, ref.id, ref.hint)
    while where == n.name:
        # (a relocation in flight, or a write to a Ref a block is committing: wait)
        if not refserve.wait_if_busy(n, ref.id, action in refserve.WRITES):
            result = refserve.ref_action(n, ref.id, action, arg)
            if action == "relocate":
                ref.hint = arg
            return result
        where = refserve.locate(n, ref.id, ref.hint)
    ref.hint = where
    # the fetch policy, or the fallback of one that cannot move
    if refserve.should_fetch(n) or not can_move(sys._getframe(2)):
        _save_first(n, sys._getframe(2), RefAccess(ref, action, arg, primitive), primitive)
        result = refserve.remote_action(n, ref, action, arg)
        if action == "relocate":
            ref.hint = arg
        return result
    raise Capture(RefAccess(ref, action, arg, primitive), primitive)


def ref_update(ref, fn, primitive):
    """Ref.update(fn): fn(old) -> new where the Ref lives, atomically (refserve.update_here).
    The program moves there whatever its policy (only it can run fn); one that cannot move
    fails, naming why."""

    n = node()
    if collserve.updating():
        raise RuntimeError(collserve.UPDATE_FN_TOUCHED)
    txn = _block(n)
    if txn is not None:  # a get and a set of the block
        new = collserve.call_update_fn(fn, txnserve.read(n, txn, ref))
        txnserve.write(n, txn, ref, new)
        return new
    where = refserve.locate(n, ref.id, ref.hint)
    while where == n.name:
        if not refserve.wait_if_busy(n, ref.id, True):
            return refserve.update_here(n, ref.id, fn)
        where = refserve.locate(n, ref.id, ref.hint)
    ref.hint = where
    prog = n.kernel.current_context()
    if prog is not None and prog.fetch_once:  # it was captured here and could not travel
        prog.fetch_once = False
        raise NotMigratable(f"Ref.update(fn) runs fn where the value lives ({where}), but "
                            f"this program cannot move there (a local of it cannot travel: "
                            f"see the note above)")
    if not can_move(sys._getframe(2)):
        raise TypeError(f"Ref.update(fn) runs fn where the value lives ({where}): it must be "
                        f"called from the program's own code, which can move there (not "
                        f"through a library or C code); here use get() and set() inside "
                        f"swarm.atomic()")
    raise Capture(RefAccess(ref, "update", fn, primitive), primitive)


def move_to(name: str, primitive) -> None:

    check_node(name)
    if _block(node()) is not None:
        txnserve.refuse("move_to()")
    if name != node().name and can_move(sys._getframe(2)):
        raise Capture(MoveTo(name, primitive), primitive)


# ---- tasks and futures -------------------------------------------------------------------------

def spawn(fn, args: tuple, kwargs: dict, make_future):
    """Start fn(*args, **kwargs) as a task; its Future (made by make_future(id, home))."""

    if _block(node()) is not None:
        txnserve.refuse("spawn()")
    return tasks.spawn_task(node(), fn, args, kwargs, make_future)


def future_get(future, primitive, timeout: float | None = None):
    """The task's result: waiting where it will appear (moving there, or asking); at most
    `timeout` seconds once there (TimeoutError)."""

    n = node()
    if _block(n) is not None:
        txnserve.refuse("Future.get()")
    if future.hint == n.name:
        if timeout is not None:
            return futurewait.get(n, future.id, timeout)
        return tasks.await_future(n, future.id)
    if refserve.should_fetch(n) or not can_move(sys._getframe(2)):
        _save_first(n, sys._getframe(2), AwaitFuture(future, primitive, timeout), primitive)
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


def _save_first(n, frame, op, primitive) -> None:
    """About to ask another node (a fetch) while Ref writes of this segment are not yet
    kept with a hop: hop to this same node first (SaveHere), so that they are kept with the
    program's place after them - else, the node dying while the program waits for the
    answer, the program would run again from before them and make them twice (ledger.py:
    a segment cut mid-way). Not possible from code that cannot be captured: the writes are
    then kept alone, and a restart ends the program with PartlyDone."""
    prog = n.kernel.current_context()
    if prog is not None and prog.txn is None and prog.hop_id in n.machine.data.unsaved \
            and why_not_capturable(frame, loader.is_compiled_code,
                                   loader.is_root_code) is None:
        n.machine.count("saves")
        raise Capture(SaveHere(op, n.name), primitive)


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
        continuation) for a read; "fetch" for a write, whose value travels either way;
        "migrate" for an update (only the program can run its function)."""
        if self.action == "update":
            return "migrate"
        return "size" if self.action == "get" else "fetch"

    def perform(self):
        # on arrival: the Ref may have moved on meanwhile (then this captures again)
        if self.action == "update":
            return ref_update(self.ref, self.arg, self.primitive)
        return ref_access(self.ref, self.action, self.arg, self.primitive)

    def __reduce__(self):
        return (RefAccess, (self.ref, self.action, self.arg, self.primitive))


class SaveHere(Operation):
    """`op`, after a hop to this same node (_save_first)."""

    __slots__ = ("op", "node")
    why = "save before asking"

    def __init__(self, op, node: str) -> None:
        self.op, self.node = op, node

    @property
    def destination(self) -> str:
        return self.node

    def perform(self):
        return self.op.perform()

    def __reduce__(self):
        return (SaveHere, (self.op, self.node))


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

    n = node()
    txn = _block(n)
    if txn is not None:  # inside an atomic block (a Dict's get, set, update...)
        return txncoll.run(n, txn, pending)
    return collserve.drive(n, pending, can_move)


# ---- atomic blocks (swarm/blocks.py; the node's side: txnserve.py) -----------------------------

def _block(n):
    """The attempt of an atomic block the running program is in, or None."""
    prog = n.kernel.current_context()
    return None if prog is None else prog.txn


def atomic_enter(block, primitive) -> None:
    """`with atomic():` begins: the program is captured here once (txnserve.Begin keeps a
    copy of it, to run the block again from here after a conflict) and goes on at once."""
    n = node()
    prog = current_program()
    if prog is None:
        raise NotOnANode("swarm.atomic() blocks run in programs on swarm nodes")
    txnserve.watch(n)
    if prog.txn is not None:  # a block inside a block: part of the outer one
        block.nested = True
        return
    block.nested = False
    if txnserve.can_capture(sys._getframe(2)):
        raise Capture(txnserve.Begin(1, block.attempts), primitive)
    # called through code that cannot be captured: the block runs once, and a conflict
    # fails it (AtomicConflict) instead of running it again
    prog.txn = txnserve.Txn(prog.id, 1, 1, None)


def atomic_exit(block, error, primitive) -> bool:
    """The block's end: commit, or run it again from its start (or fail after its bound).
    An error raised in the block is raised on (nothing committed), unless what the block read
    did not hold - then the error may come from that, and the block runs again."""
    n = node()
    prog = current_program()
    if block.nested:
        return False
    txn = prog.txn
    why = txnserve.ended(n, prog, txn, error)
    if why is None:
        return False
    txnserve.conflicted(n, txn, why)  # (AtomicConflict after its bound)
    if txn.saved is None or txn.saved.startswith(txnserve.NO_COPY):
        cause = "it was entered from code that cannot be captured (a library, C code)" \
            if txn.saved is None else txn.saved[len(txnserve.NO_COPY):].decode()
        raise AtomicConflict(f"an atomic block conflicted ({why}) and cannot run again: "
                             f"{cause}; nothing of it was committed")
    raise Capture(txnserve.Retry(txn.saved, txn.attempt + 1, txn.attempts), primitive)


def atomic_call(fn, args: tuple, kwargs: dict, attempts: int):
    """A call of an @atomic function: a block, run again (called again) after a conflict."""
    n = node()
    prog = current_program()
    if prog is None:
        raise NotOnANode("swarm.atomic() blocks run in programs on swarm nodes")
    txnserve.watch(n)
    if prog.txn is not None:
        return fn(*args, **kwargs)
    attempt = 1
    while True:
        txn = prog.txn = txnserve.Txn(prog.id, attempt, attempts, None)
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            why = txnserve.ended(n, prog, txn, e)
            if why is None:
                raise
        else:
            why = txnserve.ended(n, prog, txn, None)
            if why is None:
                return result
        txnserve.conflicted(n, txn, why)
        attempt += 1
