"""Swarm: move a running Python program to its data.

The public API is small and re-exported here: Ref, here(), nodes(), move_to(), spawn() and
Future for programs; the collections Dict, List and Set (named, persistent, spread over the
nodes); local_cluster() and connect() to run them; checkpoint() to test that a program
migrates (see README.md).
"""

from swarm.collections import Dict, List, Set
from swarm.continuation.errors import NotMigratable
from swarm.continuation.primitives import checkpoint
from swarm.errors import NodeGone, TaskFailed
from swarm.futures import Future, spawn
from swarm.refs import Ref, here, move_to, nodes


def local_cluster(n: int = 3, directory: str | None = None, **settings):
    """Start n local nodes (a context manager); `.run_file(path)` runs a program on them.
    Settings of the cluster file may be given: max_message_bytes, hop_timeout."""
    from swarm.client import local_cluster as start

    return start(n, directory, **settings)


def connect(path: str):
    """Connect to a running cluster described by a cluster file."""
    from swarm.client import connect as open_cluster

    return open_cluster(path)


__all__ = ["Dict", "Future", "List", "NodeGone", "NotMigratable", "Ref", "Set", "TaskFailed",
           "checkpoint",
           "connect", "here", "local_cluster", "move_to", "nodes", "spawn"]
__version__ = "0.1.0"
