"""spawn() and Future: a function running as a program of its own, and its result.

    f = spawn(count_words, doc)      # placed on the node holding most of its Ref arguments
    ...                              # the caller goes on at once
    n = f.get()                      # moves to the node where the result appears, waits there

A task is a program: it prints to the terminal of the program that spawned it, it migrates
when it touches a Ref elsewhere, and its continuation is persisted like any hop. Its function
and arguments are pickled when it is spawned (module globals too: a task sees them as they
were then). Its result is stored on its future's home node - the node it was placed on - even
if the task ended elsewhere (it moves home to leave it there). A task that raises fails every
`get()` of its future with `TaskFailed`, carrying the task's error and traceback.

Waiting without moving, as `concurrent.futures` does (the nodes' side: swarm/node/futurewait.py):

    f.done()                                  # asks its home node; never raises the task's error
    f.get(timeout=5)                          # TimeoutError if not done 5 s after reaching home
    done, pending = wait(fs, timeout=10, return_when=FIRST_COMPLETED)
    for f in as_completed(fs):                # in the order they finish
        print(f.get())
"""

from __future__ import annotations

import time

from swarm.errors import TaskFailed
from swarm.handles import Handle
from swarm.node import traps

__all__ = ["ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION", "Future", "TaskFailed",
           "as_completed", "finish_task", "spawn", "wait"]

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


class Future(Handle):
    """The result of `spawn(...)`, stored on its home node once the task has finished (its
    hint is that node, and never changes)."""

    __slots__ = ()
    kind = "future"

    def __init__(self, future_id: str, home: str) -> None:
        self.id, self.hint = future_id, home

    @property
    def home(self) -> str:
        return self.hint

    def get(self, timeout: float | None = None):
        """The task's result. Moves the program to the future's home node and waits there
        (holding nothing where it was) until the task has finished; raises TaskFailed if
        the task raised. `timeout`: at most that many seconds once there, then TimeoutError
        (the program is then on the home node)."""
        return traps.future_get(self, Future.get, timeout)

    def done(self) -> bool:
        """Whether the task has finished (or failed): asked of the home node, without
        moving the program."""
        return traps.future_done(self)


def spawn(fn, *args, **kwargs) -> Future:
    """Run fn(*args, **kwargs) as a task of its own; return its Future at once. The task is
    placed on the node holding most of the Refs (and Futures) among its arguments; without
    any, on the least loaded node."""
    return traps.spawn(fn, args, kwargs, Future)


def finish_task(future: Future, value, error) -> None:
    """A task's last step (the task module, swarm/node/tasks.py): leave its result home."""
    traps.resolve_future(future, value, error, finish_task)


def wait(futures, timeout: float | None = None,
         return_when: str = ALL_COMPLETED) -> tuple[set, set]:
    """Wait for futures as concurrent.futures.wait does: returns (done, not_done), two sets.
    `return_when`: FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED; `timeout`: return
    after that many seconds whatever is done. Each home node is asked once which of its
    futures are done; the program then parks where it is until a home says one finished.
    It does not move: the values stay home until get()."""
    return traps.futures_wait(futures, timeout, return_when)


class AsCompleted:
    """The iterator as_completed() returns: each future once, as it finishes. A plain
    object (its pending and ready lists, and its deadline), so a loop over it migrates like
    a loop over a list."""

    def __init__(self, futures, timeout: float | None = None) -> None:
        self.pending = list(dict.fromkeys(futures))
        self.ready: list = []
        self.total = len(self.pending)
        self.deadline = None if timeout is None else time.time() + timeout

    def __iter__(self) -> AsCompleted:
        return self

    def __next__(self) -> Future:
        if not self.ready:
            if not self.pending:
                raise StopIteration
            left = None if self.deadline is None else max(0.0, self.deadline - time.time())
            done, _ = wait(self.pending, left, FIRST_COMPLETED)
            if not done:
                raise TimeoutError(f"{len(self.pending)} (of {self.total}) futures "
                                   f"unfinished")
            self.ready = [f for f in self.pending if f in done]
            self.pending = [f for f in self.pending if f not in done]
        return self.ready.pop(0)


def as_completed(futures, timeout: float | None = None) -> AsCompleted:
    """Yield the futures as they finish (those done already first), as
    concurrent.futures.as_completed; TimeoutError if some are not done `timeout` seconds
    after the call."""
    return AsCompleted(futures, timeout)
