"""The node's side of spawn() and futures (see swarm/futures.py for the user's side).

A mixin of Node (server.py). A task travels like a hop - written to the outbox, resent until
acknowledged, taken once - whose data is (function, args, kwargs, future) instead of a
continuation; it starts as the compiled module TASK_SOURCE, so that it can migrate like any
program. Its result is stored on the future's home node, as a value of the Ref store under
the future's id: ("ok", value) or ("error", message, traceback).
"""

from __future__ import annotations

import time
import traceback
from collections import defaultdict

from swarm.compiler import registry
from swarm.continuation import codec
from swarm.futures import TASK_SOURCE, Future, TaskFailed
from swarm.refs import Ref
from swarm.wire import decode

TASK_HASH = registry.source_hash(TASK_SOURCE)
LOAD_SECONDS = 1.0  # how long a peer's load, as its last hop said, is believed


class TaskService:
    def spawn_task(self, fn, args: tuple, kwargs: dict):
        prog = self.kernel.current_context()
        if prog is None:
            raise RuntimeError("spawn() is for programs running on a node")
        dest = self.place(args, kwargs)
        future = Future(f"f{prog.next_id()}", dest)
        carried: dict[str, str] = {}
        data = codec.dumps((fn, args, kwargs, future), carried)
        meta = prog.meta() | {"hop_id": prog.next_id(), "program": f"{prog.id}/{future.id}",
                              "task": future.id, "start": True,
                              "seq": 0, "route": [], "from": self.name,
                              "needs": [*carried, *prog.modules.values(), TASK_HASH]}
        if prog.trace:
            meta["why"] = (f"spawn {getattr(fn, '__qualname__', fn)}", self.name, len(data),
                           time.time())
        self.send_hop(dest, meta, data, again=prog.again)
        self.stats["spawned"] += 1
        return future

    def place(self, args: tuple, kwargs: dict) -> str:
        """The node holding most of the Refs and Futures among the arguments (looked for
        inside lists, tuples, sets and dicts, two levels deep; this node wins a tie it is
        in); without any, the least loaded node."""
        votes: dict[str, int] = defaultdict(int)
        for item in _handles((*args, *kwargs.values()), depth=3):
            votes[self.locate(item) if isinstance(item, Ref) else item.home] += 1
        if votes:
            best = max(votes.values())
            if votes.get(self.name) == best:
                return self.name
            return next(n for n in self.config.names if votes.get(n) == best)
        return self.least_loaded()

    def least_loaded(self) -> str:
        """The node with the fewest runnable programs, as far as this node knows: its own
        count; for a peer, the count its last hop carried plus the tasks sent there since,
        forgotten after LOAD_SECONDS without news (ties go to the nodes in turn)."""
        names, now = self.config.names, time.monotonic()
        start = next(self.turn)
        loads = {n: self.peer_load.get(n, (0, 0.0)) for n in names}
        loads = {n: load if now - at < LOAD_SECONDS else 0 for n, (load, at) in loads.items()}
        loads[self.name] = self.load()
        order = [names[(start + i) % len(names)] for i in range(len(names))]
        best = min(order, key=loads.__getitem__)
        if best != self.name:
            self.peer_load[best] = (loads[best] + 1, now)
        return best

    def _start_task(self, data: bytes):
        fn, args, kwargs, future = decode.task(data)
        module = registry.new_module_instance("__swarm_task__", TASK_HASH)
        module.__dict__.update(TASK=fn, ARGS=args, KWARGS=kwargs, FUTURE=future)
        exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)
        return None

    def resolve_future(self, future_id: str, value, error) -> None:
        if error is not None:
            outcome = ("error", f"{type(error).__name__}: {error}",
                       "".join(traceback.format_exception(error)))
        else:
            outcome = ("ok", value)
        try:
            blob = codec.dumps(outcome)
        except Exception as e:
            blob = codec.dumps(("error", f"the task's result cannot be stored: {e}", ""))
        self.data.write_blob(future_id, blob)
        self.data.notify(self.data.awaiting, future_id)

    def await_future(self, future_id: str):
        """The result of a future that lives here; parks the program until there is one."""
        while not self.data.has(future_id):
            self.kernel.wait_on(self.data.awaiting.setdefault(future_id, []))
        outcome = self.data.read(future_id)
        if outcome[0] == "error":
            raise TaskFailed(outcome[1], outcome[2])
        return outcome[1]


def _handles(values, depth: int):
    """The Refs and Futures among values, and inside their containers down to `depth`."""
    for value in values:
        if isinstance(value, (Ref, Future)):
            yield value
        elif depth > 1 and isinstance(value, (list, tuple, set, frozenset, dict)):
            yield from _handles(value.values() if isinstance(value, dict) else value,
                                depth - 1)
