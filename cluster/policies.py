"""Placement policies: pure functions from an access graph to a target assignment.

Every policy has the signature ``policy(g, nodes, *, balance=1.1) -> {ref: node}``, covers every
Ref of `g` and uses only the names in `nodes`; the placer (`cluster.placer.plan`) turns the
target into moves. Policies that ignore `balance` still accept it.

- `hash_placement`: a stable hash of the Ref id picks the node (the baseline workloads start from);
- `keep`: every Ref stays home (Refs whose home is not in `nodes` are hashed, which drains a node);
- `clustered`: a balanced min-cut partition (`cluster.partition`) whose parts are put on nodes
  so that as few bytes as possible move (`cluster.mapping`);
- `rebalance`: as few moves as bring every node within `balance` of the mean bytes (after a
  node joins: `swarm node add --place`, `swarm place --rebalance`), each Ref taken from the
  fullest node to the emptiest, the one most tied to the Refs already there first.
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


def rebalance(g: nx.Graph, nodes: Sequence[str], *, balance: float = 1.1,
              max_moves: int | None = None) -> Assignment:
    """Every Ref home (`keep`), then, while the fullest node holds more than `balance` times
    the mean bytes (or the largest Ref), a Ref moves from it to the emptiest node: of those
    whose move narrows the gap, the one with the most edge weight to Refs on the emptiest
    node less its weight to Refs at home (then the largest). At most `max_moves` moves.
    Deterministic."""
    target = keep(g, nodes, balance=balance)
    nodes = list(nodes)
    sizes = dict(g.nodes(data="size"))
    cap = allowance(sizes.values(), len(nodes), balance)
    load = dict.fromkeys(nodes, 0)
    on: dict[str, set] = {n: set() for n in nodes}
    for ref, n in target.items():
        load[n] += sizes[ref]
        on[n].add(ref)

    ties: dict[str, dict[str, float]] = {ref: {} for ref in g}  # ref -> node -> weight
    for a, b, w in g.edges(data="weight", default=0.0):
        ties[a][target[b]] = ties[a].get(target[b], 0.0) + w
        ties[b][target[a]] = ties[b].get(target[a], 0.0) + w

    def tie(ref: str, node: str) -> float:
        return ties[ref].get(node, 0.0)

    moves = 0
    while max_moves is None or moves < max_moves:
        heavy = max(nodes, key=lambda n: (load[n], n))
        light = min(nodes, key=lambda n: (load[n], n))
        gap = load[heavy] - load[light]
        if load[heavy] <= cap or gap <= 0:
            break
        fits = [ref for ref in on[heavy] if 0 < sizes[ref] < gap]
        if not fits:
            break
        ref = max(fits, key=lambda r: (tie(r, light) - tie(r, heavy), sizes[r], r))
        target[ref] = light
        for other, data in g[ref].items():
            w = data.get("weight", 0.0)
            ties[other][heavy] -= w
            ties[other][light] = ties[other].get(light, 0.0) + w
        on[heavy].discard(ref)
        on[light].add(ref)
        load[heavy] -= sizes[ref]
        load[light] += sizes[ref]
        moves += 1
    return target


def _check_nodes(nodes: Sequence[str]) -> None:
    if not nodes:
        raise ValueError("no nodes to place Refs on")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"duplicate node names in {list(nodes)}")
