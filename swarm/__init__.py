"""Swarm: move a running Python program to its data.

The public API is small and re-exported here. In this release the continuation core exists:
programs compiled by `swarm.compiler` can be captured at any suspension point, pickled, and
resumed in another process. Nodes, Refs and the cluster come next (see README.md).
"""

from swarm.continuation.errors import NotMigratable
from swarm.continuation.primitives import checkpoint

__all__ = ["NotMigratable", "checkpoint"]
__version__ = "0.1.0"
