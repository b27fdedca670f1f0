"""From parts to nodes, moving as few bytes as possible.

A partition says which Refs belong together, not where; these steps choose the where:

- `parts_to_nodes`: each part on the node that already holds most of its bytes, jointly
  (the permutation of nodes that keeps the most bytes in place);
- `place_loose`: the Refs with no edges (no program went from them to another Ref) were left out
  of the partition; each stays home if its home has room, else goes to the least loaded node;
- `settle`: a Ref bound elsewhere stays home whenever that costs no cut and fits.

All take and return plain assignments (ref -> node) and never let a node exceed the allowance
`cap` unless it already did.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx

from cluster.refine import repair

Assignment = dict[str, str]


def parts_to_nodes(g: nx.Graph, parts: list[set[str]], nodes: Sequence[str], *,
                   brute_force_max: int = 7) -> Assignment:
    """Give each part its own node so that the bytes already at their target are maximal (so
    the fewest bytes move): every permutation is tried for up to `brute_force_max` nodes, a
    maximum-weight bipartite matching is used beyond. Covers the Refs of `parts` only."""
    if len(parts) != len(nodes):
        raise ValueError(f"{len(parts)} parts for {len(nodes)} nodes")
    column = {node: j for j, node in enumerate(nodes)}
    kept = [[0] * len(nodes) for _ in parts]
    for i, part in enumerate(parts):
        for ref in part:
            j = column.get(g.nodes[ref]["home"])
            if j is not None:
                kept[i][j] += g.nodes[ref]["size"]
    if len(nodes) <= brute_force_max:
        perm = _best_permutation(kept)
    else:
        perm = _best_matching(kept)
    return {ref: nodes[perm[i]] for i, part in enumerate(parts) for ref in part}


def _best_permutation(kept: list[list[int]]) -> tuple[int, ...]:
    """The permutation p maximizing sum(kept[i][p[i]]), the first in lexicographic order."""
    return max(itertools.permutations(range(len(kept))),
               key=lambda p: sum(row[j] for row, j in zip(kept, p, strict=True)))


def _best_matching(kept: list[list[int]]) -> list[int]:
    """The same maximum as `_best_permutation`, through networkx's max_weight_matching."""
    k = len(kept)
    b = nx.Graph()
    # +1 on every edge keeps zero-overlap pairs in the graph and, as every perfect matching has
    # k edges, does not change which one is best.
    b.add_weighted_edges_from((("part", i), ("node", j), kept[i][j] + 1)
                              for i in range(k) for j in range(k))
    perm = [0] * k
    for u, v in nx.max_weight_matching(b, maxcardinality=True):
        node_end, part_end = sorted((u, v))  # ("node", j) sorts before ("part", i)
        perm[part_end[1]] = node_end[1]
    return perm


def place_loose(g: nx.Graph, target: Assignment, nodes: Sequence[str],
                cap: float) -> Assignment:
    """`target` plus every Ref of `g` it lacks, biggest first: home if its home is one of
    `nodes` with room, else the least loaded node. If a Ref fits nowhere, Refs are then moved
    off any node over `cap` where they fit (`cluster.refine.repair`)."""
    target = dict(target)
    load = _loads(g, target, nodes)
    size = g.nodes(data="size")
    for ref in sorted((r for r in g if r not in target), key=lambda r: (-size[r], r)):
        home = g.nodes[ref]["home"]
        if home not in load or load[home] + size[ref] > cap:
            home = min(nodes, key=load.__getitem__)  # the first of equals
        target[ref] = home
        load[home] += size[ref]
    if max(load.values()) > cap:
        index = {node: i for i, node in enumerate(nodes)}
        part_of = {ref: index[node] for ref, node in target.items()}
        repair(g, part_of, [load[n] for n in nodes], cap)
        target = {ref: nodes[i] for ref, i in part_of.items()}
    return target


def settle(g: nx.Graph, target: Assignment, nodes: Sequence[str], cap: float) -> Assignment:
    """A copy of `target` in which a Ref bound elsewhere stays home instead whenever that does
    not raise the cut and its home (one of `nodes`) keeps at most `cap` bytes. Refs only ever
    go back home, one at a time in id order, until none can."""
    target = dict(target)
    load = _loads(g, target, nodes)
    settled = True
    while settled:
        settled = False
        for ref in sorted(target):
            home, dst, size = g.nodes[ref]["home"], target[ref], g.nodes[ref]["size"]
            if dst == home or home not in load or load[home] + size > cap:
                continue
            tie = {home: 0.0, dst: 0.0}
            for other, data in g[ref].items():
                if target[other] in tie:
                    tie[target[other]] += data["weight"]
            if tie[home] >= tie[dst]:
                target[ref] = home
                load[home] += size
                load[dst] -= size
                settled = True
    return target


def _loads(g: nx.Graph, target: Assignment, nodes: Sequence[str]) -> dict[str, int]:
    load = dict.fromkeys(nodes, 0)
    for ref, node in target.items():
        load[node] += g.nodes[ref]["size"]
    return load
