"""The node's side of spawn() and futures (see swarm/futures.py for the user's side).

A task travels like a hop - written to the outbox, resent until acknowledged, taken once -
whose data is (function, args, kwargs, future) instead of a continuation; it starts as the
compiled module TASK_SOURCE, so that it can migrate like any program. Its result is stored on
the future's home node, as a value of the Ref store under the future's id: ("ok", value) or
("error", message, traceback). Functions of the shell (`node`), like refserve.py.
"""

from __future__ import annotations

import time
import traceback
from collections import defaultdict

from swarm.compiler import registry
from swarm.continuation import codec
from swarm.errors import TaskFailed
from swarm.handles import Handle
from swarm.node import futurewait
from swarm.node.machine import HopSent
from swarm.wire import decode

#: the top level of every task (a compiled module, so that a task migrates like a script)
TASK_SOURCE = """\
from swarm.futures import finish_task
try:
    _value = TASK(*ARGS, **KWARGS)
except Exception as _error:
    finish_task(FUTURE, None, _error)
else:
    finish_task(FUTURE, _value, None)
"""
TASK_HASH = registry.source_hash(TASK_SOURCE)
LOAD_SECONDS = 1.0  # how long a peer's load, as its last hop said, is believed


def spawn_task(node, fn, args: tuple, kwargs: dict, make_future):
    """Send fn(*args, **kwargs) as a task to the node `place` picks; its Future."""
    prog = node.kernel.current_context()
    if prog is None:
        raise RuntimeError("spawn() is for programs running on a node")
    dest = place(node, args, kwargs)
    future = make_future(f"f{prog.next_id()}", dest)
    carried: dict[str, str] = {}
    data = codec.dumps((fn, args, kwargs, future), carried, live=False)  # (its own copy)
    meta = prog.meta() | {"hop_id": prog.next_id(), "program": f"{prog.id}/{future.id}",
                          "task": future.id, "start": True, "values": [],
                          "seq": 0, "route": [], "from": node.name,
                          "needs": [*carried, *prog.modules.values(), TASK_HASH],
                          "why": [f"spawn {getattr(fn, '__qualname__', fn)}", node.name,
                                  len(data), time.time()]}  # (trace, history.py)
    node.emit(HopSent(dest, meta, data, None, prog.again, node.load()))
    node.machine.count("spawned")
    if dest != node.name:  # its result may be read ahead with another's (futurewait.py)
        prog.spawned.setdefault(dest, {})[future.id] = None
    return future


def place(node, args: tuple, kwargs: dict) -> str:
    """The node holding most of the Refs and Futures among the arguments (looked for inside
    lists, tuples, sets and dicts, two levels deep; this node wins a tie it is in); without
    any, the least loaded node."""
    votes: dict[str, int] = defaultdict(int)
    for item in _handles((*args, *kwargs.values()), depth=3):
        where = node.machine.locate(item.id, item.hint) if item.kind == "ref" else item.hint
        votes[where] += 1
    if votes:
        best = max(votes.values())
        if votes.get(node.name) == best:
            return node.name
        return next(n for n in node.config.names if votes.get(n) == best)
    return least_loaded(node)


def least_loaded(node) -> str:
    """The node with the fewest runnable programs, as far as this node knows: its own count;
    for a peer, the count its last hop carried plus the tasks sent there since, forgotten
    after LOAD_SECONDS without news (ties go to the nodes in turn)."""
    fenced, now = node.machine.fenced, time.time()  # (gone or removed: none placed there)
    names = [n for n in node.config.names if n not in fenced]
    start = next(node.turn)
    loads = {n: node.machine.load_of(n, now, LOAD_SECONDS) for n in names}
    loads[node.name] = node.load()
    order = [names[(start + i) % len(names)] for i in range(len(names))]
    best = min(order, key=loads.__getitem__)
    if best != node.name:
        node.machine.peer_load[best] = (loads[best] + 1, now)
    return best


def start_task(node, data: bytes):
    fn, args, kwargs, future = decode.task(data)
    module = registry.new_module_instance("__swarm_task__", TASK_HASH)
    module.__dict__.update(TASK=fn, ARGS=args, KWARGS=kwargs, FUTURE=future)
    exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)
    return None


def resolve_future(node, future_id: str, value, error) -> None:
    if error is not None:
        outcome = ("error", f"{type(error).__name__}: {error}",
                   "".join(traceback.format_exception(error)))
    else:
        outcome = ("ok", value)
    try:
        blob = codec.dumps(outcome)
    except Exception as e:
        blob = codec.dumps(("error", f"the task's result cannot be stored: {e}", ""))
    data = node.machine.data
    data.write_blob(future_id, blob)
    data.notify(data.awaiting, future_id)


def await_future(node, future_id: str):
    """The result of a future that lives here; parks the program until there is one."""
    data = node.machine.data
    while not data.has(future_id):
        node.kernel.wait_on(data.awaiting.setdefault(future_id, []))
    outcome = futurewait.outcome_of(future_id, data.read(future_id))
    if outcome[0] == "error":
        raise TaskFailed(outcome[1], outcome[2])
    return outcome[1]


def _handles(values, depth: int):
    """The Refs and Futures among values, and inside their containers down to `depth`."""
    for value in values:
        if isinstance(value, Handle):
            yield value
        elif depth > 1 and isinstance(value, (list, tuple, set, frozenset, dict)):
            yield from _handles(value.values() if isinstance(value, dict) else value,
                                depth - 1)
