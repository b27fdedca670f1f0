"""Swarm: move a running Python program to its data.

The public API is small and re-exported here: Ref, here(), nodes(), move_to(), spawn(),
Future, wait() and as_completed() for programs; atomic() blocks; the collections Dict, List and Set (named, persistent, spread over the
nodes); local_cluster() and connect() to run programs and function calls on a cluster (a
`Cluster`: run(fn, *args), run_file(path, argv), submit...), and the errors they raise;
checkpoint() to test that a program migrates (see README.md and docs/api.md).
"""

from swarm.blocks import atomic
from swarm.collections import Dict, List, Set
from swarm.continuation.errors import NotMigratable
from swarm.continuation.primitives import checkpoint
from swarm.errors import AtomicConflict, NodeGone, NotOnANode, RemoteError, StorageFull, TaskFailed
from swarm.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Future,
    as_completed,
    spawn,
    wait,
)
from swarm.refs import Ref, here, move_to, nodes


def local_cluster(n: int = 3, directory: str | None = None, **settings):
    """Start n local nodes and return a client of them (a context manager: leaving it stops
    the nodes); `.run(fn, *args)` calls a function on them, `.run_file(path, argv)` runs a
    script. Settings of the cluster file may be given: max_message_bytes, hop_timeout."""
    from swarm.embedded import local_cluster as start

    return start(n, directory, **settings)


def connect(path: str, timeout: float = 30.0):
    """A client of the running cluster described by a cluster file, once every node answers
    (ClusterTimeout after `timeout` seconds). A context manager: leaving it disconnects; the
    nodes go on (only `shutdown()` stops them)."""
    from swarm.client import connect as open_cluster

    return open_cluster(path, timeout)


_CLIENT_NAMES = {"Cluster": "swarm.client", "ClusterTimeout": "swarm.client",
                 "UnknownProgram": "swarm.runs", "RunOutcome": "swarm.runs",
                 "CallError": "swarm.calls", "ProgramFailed": "swarm.calls"}


def __getattr__(name: str):
    """The client's classes, imported when first asked for (a program on a node, which
    imports swarm for Ref, need not load the client)."""
    if name in _CLIENT_NAMES:
        import importlib

        return getattr(importlib.import_module(_CLIENT_NAMES[name]), name)
    raise AttributeError(f"module 'swarm' has no attribute {name!r}")


__all__ = ["AtomicConflict", "atomic", "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION", "CallError", "Cluster", "ClusterTimeout", "Dict", "Future", "List", "NodeGone",
           "NotMigratable", "NotOnANode", "RemoteError", "StorageFull",
           "ProgramFailed", "Ref", "RunOutcome", "Set", "TaskFailed", "UnknownProgram",
           "as_completed", "checkpoint", "connect", "here", "local_cluster", "move_to", "nodes", "spawn", "wait"]
__version__ = "0.1.0"
