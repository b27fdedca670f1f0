"""Placement policies: pure functions from an access graph to a target assignment.

Every policy has the signature ``policy(g, nodes, *, balance=1.1) -> {ref: node}``, covers every
Ref of `g` and uses only the names in `nodes`; the placer (`cluster.placer.plan`) turns the
target into moves. Policies that ignore `balance` still accept it.

- `hash_placement`: a stable hash of the Ref id picks the node (the baseline workloads start from);
- `keep`: every Ref stays home (Refs whose home is not in `nodes` are hashed, which drains a node);
- `clustered`: a balanced min-cut partition (`cluster.partition`) whose parts are put on nodes
  so that as few bytes as possible move (`cluster.mapping`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import networkx as nx

from cluster.graph import balance as balance_of
from cluster.graph import cut_weight
from cluster.mapping import parts_to_nodes, place_loose, settle
from cluster.partition import allowance, partition

Assignment = dict[str, str]
Policy = Callable[..., Assignment]


def stable_hash(ref: str) -> int:
    """A 64-bit hash of a Ref id that is the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(ref.encode(), digest_size=8).digest(), "big")


def hash_node(ref: str, nodes: Sequence[str]) -> str:
    """The node `hash_placement` gives `ref`: ``nodes[stable_hash(ref) % len(nodes)]``, with
    `nodes` in the order given."""
    return nodes[stable_hash(ref) % len(nodes)]


def hash_placement(g: nx.Graph, nodes: Sequence[str], *, balance: float = 1.1) -> Assignment:
    """Each Ref on the node its stable hash picks; ignores the edges and `balance`."""
    _check_nodes(nodes)
    return {ref: hash_node(ref, nodes) for ref in g}


def keep(g: nx.Graph, nodes: Sequence[str], *, balance: float = 1.1) -> Assignment:
    """Each Ref stays home; a Ref whose home is not in `nodes` goes where `hash_node` says."""
    _check_nodes(nodes)
    members = set(nodes)
    return {ref: home if home in members else hash_node(ref, nodes)
            for ref, home in g.nodes(data="home")}


def clustered(g: nx.Graph, nodes: Sequence[str], *, balance: float = 1.1,
              seed: int = 0) -> Assignment:
    """Partition the Refs that have edges into ``len(nodes)`` parts of at most `balance` times
    the mean bytes of all Refs (a Ref bigger than that raises the allowance to its own size:
    see `cluster.partition`), with a small cut weight; put each part on the node that already
    holds most of its bytes; leave the Refs without edges home if there is room; let any Ref
    stay home when leaving would not lower the cut (`cluster.mapping`). A target that lowers
    neither the cut nor the imbalance of the current homes is dropped for them.
    Deterministic for a given graph and seed."""
    _check_nodes(nodes)
    nodes = list(nodes)
    cap = allowance((size for _, size in g.nodes(data="size")), len(nodes), balance)
    linked = g.subgraph(ref for ref, tie in g.degree(weight="weight") if tie > 0)
    target = parts_to_nodes(g, partition(linked, len(nodes), cap, seed=seed), nodes)
    target = settle(g, place_loose(g, target, nodes, cap), nodes, cap)
    now = dict(g.nodes(data="home"))
    if set(now.values()) <= set(nodes) and cut_weight(g, target) >= cut_weight(g, now) \
            and balance_of(g, target, nodes) >= balance_of(g, now, nodes):
        return now  # no better on either count (a cluster too small to balance, say): stay
    return target


def _check_nodes(nodes: Sequence[str]) -> None:
    if not nodes:
        raise ValueError("no nodes to place Refs on")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"duplicate node names in {list(nodes)}")
