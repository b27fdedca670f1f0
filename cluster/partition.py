"""Balanced min-cut partitioning of an access graph into k parts (the core of `clustered`).

Three phases, all deterministic for a given graph (the graph is first copied with its Refs and
edges in sorted order, so the order the reports arrived in does not matter):

1. *communities*: networkx Louvain (seeded) groups Refs that are accessed one after the other;
2. *packing*: communities, largest first, go whole into the part with the most edge weight to
   them among the parts that still have room; a community that fits nowhere is split, its Refs
   taken in maximum-adjacency order (each next Ref the one most tied to those already taken) and
   placed one by one the same way;
3. *refinement* (`cluster.refine`): Refs leave any part over the allowance, then greedy moves,
   swaps and Fiduccia–Mattheyses passes lower the cut while every part stays within it.

The allowance (`allowance`) is ``balance * total / k`` bytes per part, raised to the largest
Ref's size if one Ref is bigger: such a Ref is placed (in practice alone) on a part of its own,
and the other parts may then hold up to that many bytes too, which leaves ``balance()`` (max over
mean) unchanged. The allowance is a hard constraint whenever the greedy packing and the repair
pass can meet it; when the sizes are too coarse to share out (three equal Refs on two parts at
balance 1.1), the Ref that fits nowhere goes to the least loaded part.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from cluster.refine import refine, repair

Parts = list[set[str]]


def partition(g: nx.Graph, k: int, cap: float, *, seed: int = 0) -> Parts:
    """Split the Refs of `g` into `k` parts (some possibly empty) of at most `cap` bytes each,
    with a small total weight of edges between parts (see the module docstring)."""
    if k < 1:
        raise ValueError(f"need at least one part, got k={k}")
    g = _canonical(g)
    part_of, load = _pack(g, _communities(g, seed), k, cap)
    repair(g, part_of, load, cap)
    refine(g, part_of, load, cap)
    parts: Parts = [set() for _ in range(k)]
    for ref, p in part_of.items():
        parts[p].add(ref)
    return parts


def allowance(sizes: Iterable[int], k: int, balance: float) -> float:
    """Bytes a part may hold: `balance` times the mean, or the largest Ref if that is bigger."""
    sizes = list(sizes)
    mean = sum(sizes) / k
    # A hair of slack so that float rounding never turns an exact fit into a miss.
    return max(balance * mean * (1 + 1e-12), max(sizes, default=0))


def _canonical(g: nx.Graph) -> nx.Graph:
    """A copy of `g` with Refs and edges inserted in sorted order (networkx algorithms iterate
    in insertion order, so this makes the result independent of how `g` was built)."""
    h = nx.Graph()
    h.add_nodes_from(sorted(g.nodes(data=True)))
    h.add_edges_from(sorted(tuple(sorted((a, b))) + ({"weight": w},)
                            for a, b, w in g.edges(data="weight")))
    return h


def _communities(g: nx.Graph, seed: int) -> list[set[str]]:
    """Louvain communities, largest (in bytes) first; singletons if there is no edge weight."""
    if g.size(weight="weight") > 0:
        found = nx.community.louvain_communities(g, weight="weight", seed=seed)
    else:
        found = [{ref} for ref in g]
    size = g.nodes(data="size")
    return sorted(found, key=lambda c: (-sum(size[r] for r in c), min(c)))


def _ties(g: nx.Graph, refs: Iterable[str], part_of: dict[str, int]) -> dict[int, float]:
    """Edge weight from `refs` to each part, counting only Refs already placed outside `refs`."""
    refs = set(refs)
    tie: dict[int, float] = {}
    for ref in refs:
        for other, w in g[ref].items():
            if other not in refs and other in part_of:
                p = part_of[other]
                tie[p] = tie.get(p, 0.0) + w["weight"]
    return tie


def _choose(tie: dict[int, float], load: list[int], need: int, cap: float) -> int:
    """The part with the most tie that has room for `need` bytes (then the least loaded, then
    the lowest index); the least loaded part if none has room."""
    fits = [p for p in range(len(load)) if load[p] + need <= cap]
    if not fits:
        return min(range(len(load)), key=lambda p: (load[p], p))
    return max(fits, key=lambda p: (tie.get(p, 0.0), -load[p], -p))


def _pack(g: nx.Graph, communities: list[set[str]], k: int,
          cap: float) -> tuple[dict[str, int], list[int]]:
    """Phase 2: communities into parts, whole when they fit, else Ref by Ref."""
    size = g.nodes(data="size")
    part_of: dict[str, int] = {}
    load = [0] * k
    for community in communities:
        need = sum(size[r] for r in community)
        p = _choose(_ties(g, community, part_of), load, need, cap)
        if load[p] + need <= cap:
            part_of.update(dict.fromkeys(community, p))
            load[p] += need
            continue
        for ref in _adjacency_order(g, community):
            p = _choose(_ties(g, [ref], part_of), load, size[ref], cap)
            part_of[ref] = p
            load[p] += size[ref]
    return part_of, load


def _adjacency_order(g: nx.Graph, refs: set[str]) -> list[str]:
    """Maximum-adjacency order: start from the Ref with the most weight inside `refs`, then
    repeatedly take the Ref most tied to those taken, so a split cuts off tight chunks."""
    sub = g.subgraph(refs)
    tie = {r: 0.0 for r in refs}
    start = max(sorted(refs), key=lambda r: sub.degree(r, weight="weight"))
    order = []
    while tie:
        ref = start if not order else max(sorted(tie), key=lambda r: tie[r])
        order.append(ref)
        del tie[ref]
        for other, w in sub[ref].items():
            if other in tie:
                tie[other] += w["weight"]
    return order
