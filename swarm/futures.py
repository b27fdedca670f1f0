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
"""

from __future__ import annotations

from swarm.errors import TaskFailed
from swarm.handles import Handle
from swarm.node import traps

__all__ = ["Future", "TaskFailed", "spawn", "finish_task"]


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

    def get(self):
        """The task's result. Moves the program to the future's home node and waits there
        (holding nothing where it was) until the task has finished; raises TaskFailed if
        the task raised."""
        return traps.future_get(self, Future.get)


def spawn(fn, *args, **kwargs) -> Future:
    """Run fn(*args, **kwargs) as a task of its own; return its Future at once. The task is
    placed on the node holding most of the Refs (and Futures) among its arguments; without
    any, on the least loaded node."""
    return traps.spawn(fn, args, kwargs, Future)


def finish_task(future: Future, value, error) -> None:
    """A task's last step (the task module, swarm/node/tasks.py): leave its result home."""
    traps.resolve_future(future, value, error, finish_task)
