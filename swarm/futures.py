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

from swarm import runtime
from swarm.continuation.capture import Capture
from swarm.continuation.primitives import Operation
from swarm.refs import Handle, can_move


class TaskFailed(Exception):
    """The task behind a future raised; str() is its error, .traceback its traceback."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


class Future(Handle):
    """The result of `spawn(...)`, stored on its home node once the task has finished (its
    hint is that node, and never changes)."""

    __slots__ = ()

    def __init__(self, future_id: str, home: str) -> None:
        self.id, self.hint = future_id, home

    @property
    def home(self) -> str:
        return self.hint

    def get(self):
        """The task's result. Moves the program to the future's home node and waits there
        (holding nothing where it was) until the task has finished; raises TaskFailed if
        the task raised."""
        node = runtime.node()
        if self.home == node.name:
            return node.await_future(self.id)
        if node.should_fetch() or not can_move(1):
            return node.remote_action(self, "wait", None)
        raise Capture(AwaitFuture(self), Future.get)


def spawn(fn, *args, **kwargs) -> Future:
    """Run fn(*args, **kwargs) as a task of its own; return its Future at once. The task is
    placed on the node holding most of the Refs (and Futures) among its arguments; without
    any, on the least loaded node."""
    return runtime.node().spawn_task(fn, args, kwargs)


class AwaitFuture(Operation):
    __slots__ = ("future",)
    primitive = Future.get
    why = "Future.get"

    def __init__(self, future: Future) -> None:
        self.future = future

    @property
    def destination(self) -> str:
        return self.future.home

    def perform(self):
        return self.future.get()

    def __reduce__(self):
        return (AwaitFuture, (self.future,))


class Resolve(Operation):
    """A finished task going home to leave its result."""

    __slots__ = ("future", "value", "error")
    why = "task result"

    def __init__(self, future: Future, value, error) -> None:
        self.future, self.value, self.error = future, value, error

    @property
    def destination(self) -> str:
        return self.future.home

    def perform(self):
        return finish_task(self.future, self.value, self.error)

    def __reduce__(self):
        return (Resolve, (self.future, self.value, self.error))


def finish_task(future: Future, value, error) -> None:
    node = runtime.node()
    if future.home != node.name:
        raise Capture(Resolve(future, value, error), finish_task)
    node.resolve_future(future.id, value, error)


Resolve.primitive = finish_task

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
