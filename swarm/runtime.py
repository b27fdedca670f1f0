"""Which node this process is. Set by the node when it starts; Refs ask it."""

from __future__ import annotations

_node = None


class NotOnANode(RuntimeError):
    pass


def node():
    if _node is None:
        raise NotOnANode("Refs live on swarm nodes: run the program with `swarm run FILE.py` "
                         "(or swarm.local_cluster(...).run)")
    return _node


def set_node(n) -> None:
    global _node
    _node = n
