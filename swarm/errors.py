"""The errors a program on a cluster meets that plain Python has no name for."""

from __future__ import annotations


class TaskFailed(Exception):
    """The task behind a future raised; str() is its error, .traceback its traceback."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback
        if traceback:  # shown under the error when it is not caught: where the task failed
            self.add_note("the task's traceback:\n" + "\n".join(
                "    " + line for line in traceback.rstrip("\n").splitlines()))


class NodeGone(Exception):
    """The node a program needed was declared gone for good (`swarm node gone`): a question
    asked of it has no answer, or the program was on it and its outcome is unknown."""


class AtomicConflict(RuntimeError):
    """An atomic block (swarm.atomic) was not committed: it conflicted with other blocks or
    writes every time it ran, up to its bound, or it conflicted where it cannot be run
    again (entered from code that cannot be captured)."""


class NotOnANode(RuntimeError):
    """A Ref, a task or a collection was used outside a program on a node (plain `python`:
    run the program with `swarm run FILE.py`, or `Cluster.run`)."""


class RemoteError(RuntimeError):
    """An operation another node did for the program (it asked instead of moving: the fetch
    policy) failed there with an error of a type that is not sent by name (a program's own
    exception class): str() names the error, its message, the node and what it did;
    .node and .error_type ("module.Class") are those."""

    def __init__(self, message: str, node: str = "", error_type: str = "") -> None:
        super().__init__(message)
        self.node = node
        self.error_type = error_type


class StorageFull(Exception):
    """A node's store cannot write now (its disk is full, an I/O error): the write was
    refused and nothing of it was kept. Writes made before were kept in memory and are
    written - and acknowledged - once the store takes writes again."""


class ClusterTimeout(Exception):
    """The cluster (or a node) did not answer, or a program did not end, in the time given."""
