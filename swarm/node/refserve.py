"""The node's side of Refs: where a Ref is, what an access does, questions to other nodes,
fetches served, relocations.

Functions of the shell (`node`: what a program needs of its node - its machine, kernel,
config). Everything that may wait - a question to another node, a relocation, an access to a
Ref being relocated - runs in a program's greenlet (or one spawned for a peer's question) and
parks there with the kernel.

A relocation, on the Ref's node: mark it (staged with the next write, which also holds the
value's move), make accesses here wait, send the value to the new node ("adopt"), and on its
answer - it answers once the value is on its disk - drop the value and leave a forward.
Accesses that waited then follow the forward; a program that arrives later with a stale hint
is sent on by the forward; a restart finishes a relocation that had started.
"""

from __future__ import annotations

import logging

from swarm.errors import StorageFull, TaskFailed
from swarm.node import bulkmaps, collserve, futurewait, remoteerrors, tasks, txnserve
from swarm.node.asking import MissingSource, ask, fetch_sources, question_id
from swarm.node.machine import Served
from swarm.wire import decode, values

log = logging.getLogger("swarm.node")


def refuse_if_failing(node, what: str) -> None:
    """While the store refuses writes (a full disk), new Ref writes are refused at once,
    naming the cause; reads go on. (Writes made before wait in memory, and are written
    when the store takes writes again - machine/ledger.py.)"""
    machine = node.machine
    if machine.write_failed_since is not None:
        raise StorageFull(f"node {node.name} cannot write {what} now: its store refuses "
                          f"writes ({machine.write_error}) since {machine.write_failed_since:.0f}"
                          f"; nothing of this write was kept (free space on its disk: the "
                          f"node takes writes again by itself)")


def create_ref(node, value) -> str:
    refuse_if_failing(node, "a new Ref")
    ref_id = node.new_ref_id()
    node.machine.data.write(ref_id, value, fresh=True)
    node.machine.access.record(node.kernel.current_context(), ref_id)
    return ref_id


def check_value(node, value) -> None:
    """Refuse at once (ValueTooLarge, in the program, at its `Ref(...)` or `set`) a value
    whose buffer alone is over the cluster's max_value_bytes, before the program carries
    it to another node; other values are measured as they are encoded (values.encode)."""
    size = values.quick_size(value)
    if size is not None and size > node.config.max_value_bytes:
        raise values.ValueTooLarge(values.limit_error("the value", size,
                                                      node.config.max_value_bytes))


def locate(node, ref_id: str, hint: str) -> str:
    return node.machine.locate(ref_id, hint)


def wait_while_moving(node, ref_id: str) -> bool:
    """Park the running program while `ref_id` is being relocated; False if it is not."""
    waiters = node.machine.data.moving.get(ref_id)
    if waiters is None:
        return False
    node.kernel.wait_on(waiters)
    return True


def should_fetch(node) -> bool:
    prog = node.kernel.current_context()
    return prog is not None and prog.should_fetch()


def remote_action(node, ref, action: str, arg):
    """Do a Ref operation on the Ref's node without moving: the program's greenlet parks
    until the answer comes (other programs run meanwhile)."""
    node.machine.access.record(node.kernel.current_context(), ref.id)
    # a read offers to map the value's store file if its node is on this host (bulkmaps.py)
    may_map = action == "get" and bulkmaps.HOST is not None
    question = question_id(node, action)  # (one for the operation, wherever the Ref went)
    while True:
        node.machine.count("fetches")
        at = ref.hint
        reply, value = ask(node, at, action, ref.id, bulkmaps.HOST if may_map else arg,
                           question=question)
        if reply.get("moved_to"):
            ref.hint = reply["moved_to"]
            continue
        if reply.get("mapped"):
            try:
                view = node.mapper.open(at, reply["mapped"])
            except bulkmaps.MapRefused as e:
                node.machine.count("maps_refused")
                log.warning("Ref(%r): not mapping the file %s offered, fetching the value "
                            "instead: %s", ref.id, at, e)
                may_map = False
                continue
            node.machine.count("mapped")
            return decode.value(view)
        if reply.get("failed"):
            raise TaskFailed(*reply["failed"])
        if reply.get("timeout"):  # Future.get(timeout=) under the fetch policy
            raise TimeoutError(reply["timeout"])
        if reply.get("error"):  # the error it raised there, as it would have here
            raise remoteerrors.rebuild(reply, at, f"{action} of {type(ref).__name__}({ref.id!r})")
        return value


def remote_create(node, value, at: str) -> str:
    reply, ref_id = ask(node, at, "create", None, value)
    if reply.get("error"):  # (a full disk there, a value that does not unpickle there...)
        raise remoteerrors.rebuild(reply, at, "a new Ref")
    node.machine.access.record(node.kernel.current_context(), ref_id)
    return ref_id


def serve(node, request) -> None:
    """A peer's question (a Serve instruction), in a greenlet of its own: a relocation or a
    future may make it wait. Always answered (Served): with what `answer` gives, or the
    error that ended it.

    Discussion: also an error that is not an Exception - SystemExit or KeyboardInterrupt
    raised by the code a question runs here (unpickling its argument runs the value's
    `__reduce__`; a collection's update runs its function), GreenletExit. Unanswered, a
    question with an id would stay in answers.serving for ever, and the copies its asker
    sends again (every second) would join it there, unanswered: the program waited for
    ever. Answered with the error, it is kept as any answer (a copy gets the same error),
    and the exception goes on to the kernel, which logs it with its traceback."""
    try:
        reply, blob, read = answer(node, request)
    except Exception as e:  # (its type by name, its message: remoteerrors.py)
        reply, blob, read = remoteerrors.describe(e), None, None
    except BaseException as e:
        if node.kernel.running:  # (not a node stopping: it answers nothing more)
            node.emit(Served(request.sender, request.key, dict(remoteerrors.describe(e), error=(
                f"{type(e).__name__}: {e} (raised on {node.name} while it served "
                f"{request.action} {request.ref or ''}; its log has the traceback)")),
                None, None, request.op))
        raise
    node.emit(Served(request.sender, request.key, reply, blob, read, request.op))


def _argument(node, request):
    """A question's argument, decoded here. A value of a class of the asker's program that
    this node has never run (`Ref(Point(1, 2), at="n2")` under the fetch policy, a `set` of
    one) names a module whose source is not here: it is asked of the asker, kept, and the
    value decoded again (before: `LookupError: source of module ... is not on n2`)."""
    for _ in range(MODULES_ASKED):
        try:
            return decode.value(request.arg)
        except MissingSource as e:
            fetch_sources(node, [e.digest], request.sender)
    return decode.value(request.arg)


MODULES_ASKED = 32  # sources one argument may need asked for, one by one


def answer(node, request) -> tuple[dict, bytes | None, str | None]:
    """What a peer's question does here: (reply, the answer's bytes, the Ref read - whose
    value may go before it is on disk: answers.served). Raises what goes wrong."""
    reply: dict = {}
    value = blob = read = None
    action = request.action
    if action == "adopt":  # a Ref relocated here
        node.machine.data.write_blob(request.ref, request.arg)
    else:
        arg = _argument(node, request)
        if action == "create":
            value = create_ref(node, arg)
        elif action.startswith("coll"):  # a collection's steps (collserve.py)
            value = collserve.serve(node, action, arg)
        elif action.startswith("txn-"):  # an atomic block's read or commit step
            value = txnserve.serve(node, action, arg)
        elif action in futurewait.ACTIONS:  # which futures are done (futurewait.py)
            value = futurewait.serve(node, action, arg)
        elif action == "wait":  # arg: None, or a timeout in seconds
            try:
                value = tasks.await_future(node, request.ref) if arg is None else \
                    futurewait.get(node, request.ref, arg)
            except TaskFailed as e:
                reply["failed"] = [str(e), e.traceback]
            except TimeoutError as e:
                reply["timeout"] = str(e)
        else:
            ref_id = request.ref
            while (where := locate(node, ref_id, node.name)) == node.name and \
                    wait_if_busy(node, ref_id, action in WRITES):
                pass
            if where != node.name:
                reply["moved_to"] = where
            elif action == "get":  # the stored bytes, not the value pickled again
                offer = map_offer(node, ref_id) if arg is not None and \
                    arg == bulkmaps.HOST else None
                if offer is not None:
                    reply["mapped"] = offer
                else:
                    blob = node.machine.data.blob(ref_id)
                    if blob is None:
                        raise KeyError(f"Ref({ref_id!r}) was deleted")
                read = ref_id
            else:
                value = ref_action(node, ref_id, action, arg)
    if blob is None and not reply.keys() & {"failed", "moved_to", "mapped"}:
        blob = node.encode_value(value, "the answer")
    elif blob is not None and values.nbytes(blob) > node.config.max_value_bytes:
        raise values.ValueTooLarge(values.limit_error(
            f"the value of Ref({request.ref!r})", values.nbytes(blob),
            node.config.max_value_bytes))
    return reply, blob, read


def map_offer(node, ref_id: str) -> dict | None:
    """For a read by a node of this host: the Ref's store file, sealed (bulkmaps.py) - if
    its value is in one and on disk (no write of it staged or in flight); else None."""
    if not node.machine.data.settled(ref_id):
        return None
    name = node.store.file_of.get(("refs", ref_id))
    if name is None:
        return None
    try:
        return bulkmaps.seal(node.store.files, node.bulk_key, name)
    except bulkmaps.MapRefused as e:
        log.warning("Ref(%r): its store file is not offered to map (sent instead): %s",
                    ref_id, e)
        return None


def ref_action(node, ref_id: str, action: str, arg):
    data = node.machine.data
    if action in ("get", "set", "delete"):  # by a program here (fetches: remote_action)
        node.machine.access.record(node.kernel.current_context(), ref_id)
    if action == "get":
        try:
            return data.read(ref_id)
        except KeyError:
            raise KeyError(f"Ref({ref_id!r}) was deleted") from None
    if action == "set":
        refuse_if_failing(node, f"Ref({ref_id!r})")
        data.write(ref_id, arg)
        return None
    if action == "delete":
        data.delete(ref_id)
        return None
    if action == "size":
        return data.size(ref_id)
    if action == "relocate":
        return relocate(node, ref_id, arg)
    raise ValueError(action)


def wait_if_busy(node, ref_id: str, writing: bool) -> bool:
    """Park the running program once if `ref_id` is being relocated, or - for a write - is
    locked by an atomic block that spans nodes (between its prepare and its commit:
    machine/txn.py). True if it waited (the caller looks where the Ref is again)."""
    if wait_while_moving(node, ref_id):
        return True
    txns = node.machine.data.txns
    if writing and txns.locked(ref_id):
        node.kernel.wait_on(txns.waiting.setdefault(ref_id, []))
        return True
    return False


WRITES = ("set", "delete", "update", "relocate")


def update_here(node, ref_id: str, fn):
    """Ref.update(fn) on the Ref's node (not moving, not locked: wait_if_busy): fn(old) and
    its write in one step - the program is not switched out in between, and nothing parks -
    so no other access of the Ref comes between them. The new value."""
    data = node.machine.data
    refuse_if_failing(node, f"Ref({ref_id!r})")
    node.machine.access.record(node.kernel.current_context(), ref_id)
    try:
        old = data.read(ref_id)
    except KeyError:
        raise KeyError(f"Ref({ref_id!r}) was deleted") from None
    new = collserve.call_update_fn(fn, old)
    data.write(ref_id, new)
    return new


def relocate(node, ref_id: str, dest: str) -> None:
    """Move a Ref that lives here to `dest` (in a program's greenlet: it waits for the new
    node's answer). Accesses here wait meanwhile, then follow the forward."""
    dest = node.machine.route(dest)  # (a removed node: its heir, machine/fences.py)
    if dest == node.name:
        return
    data = node.machine.data
    data.start_move(ref_id, dest)
    data.moving.setdefault(ref_id, [])
    try:
        # the stored bytes as they are, not pickled again
        reply, _ = ask(node, dest, "adopt", ref_id, blob=data.blob(ref_id))
        if reply.get("error"):
            raise remoteerrors.rebuild(reply, dest, f"the adoption of Ref({ref_id!r}) moved "
                                                    f"there")
        data.moved_out(ref_id, dest)
    finally:
        data.notify(data.moving, ref_id)
