"""METIS as a reference partitioner for the placer (benchmark-only extra: ``pip install pymetis``).

`metis_assignment` has the policy signature of `cluster.policies`, so ``plan(g, nodes,
policy=metis_assignment)`` works. METIS gets vertex weights = Ref sizes and edge weights = the
access weights scaled to integers (both scaled down if they would overflow METIS's 32-bit
sums), and ``ufactor = 1000 * (balance - 1)``, METIS's own tolerance for max part / mean part.
Its parts go to nodes with `parts_to_nodes`, as `clustered`'s do (but it has no notion of
Refs without edges staying home: compare cuts and balance, not bytes moved).

    /tmp/v/bin/python -m bench.baselines.metis     # from the repo root: clustered vs METIS
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

import networkx as nx

from cluster.graph import access_graph, cut_weight
from cluster.graph import balance as balance_of
from cluster.policies import clustered, parts_to_nodes

_LIMIT = 2**30  # keep METIS's (possibly 32-bit) weight sums clear of overflow


def metis_assignment(g: nx.Graph, nodes: Sequence[str], balance: float = 1.1) -> dict[str, str]:
    """Partition `g` with METIS into ``len(nodes)`` parts and map the parts to nodes."""
    try:
        import pymetis
    except ImportError as exc:
        raise ImportError("the METIS baseline needs pymetis: pip install pymetis") from exc
    refs = sorted(g)
    k = len(nodes)
    if k == 1 or g.number_of_edges() == 0:  # nothing for METIS to cut
        return {ref: nodes[i * k // len(refs)] for i, ref in enumerate(refs)}
    index = {ref: i for i, ref in enumerate(refs)}
    sizes = [g.nodes[ref]["size"] for ref in refs]
    total_size = sum(sizes) or 1
    vscale = min(1.0, _LIMIT / total_size)
    total_weight = 2 * g.size(weight="weight") or 1.0
    max_weight = max((w for _, _, w in g.edges(data="weight")), default=1.0) or 1.0
    escale = min(2**20 / max_weight, _LIMIT / total_weight)
    xadj, adjncy, eweights = [0], [], []
    for ref in refs:
        for other, data in sorted(g[ref].items()):
            adjncy.append(index[other])
            eweights.append(max(1, round(data["weight"] * escale)))
        xadj.append(len(adjncy))
    options = pymetis.Options(ufactor=max(1, round(1000 * (balance - 1))), seed=0)
    _, membership = pymetis.part_graph(k, pymetis.CSRAdjacency(xadj, adjncy), eweights=eweights,
                                       vweights=[round(s * vscale) for s in sizes],
                                       options=options)
    parts: list[set[str]] = [set() for _ in range(k)]
    for ref, p in zip(refs, membership, strict=True):
        parts[p].add(ref)
    return parts_to_nodes(g, parts, nodes)


def _sbm_graph(blocks: int, per_block: int, p_in: float, p_out: float, seed: int,
               uniform: bool) -> tuple[nx.Graph, list[str], dict[str, str]]:
    """A stochastic block model as node reports (Refs on random nodes, random edge weights,
    sizes 4 KiB if `uniform` else random 1-64 KiB), its node names and its planted assignment."""
    probs = [[p_in if i == j else p_out for j in range(blocks)] for i in range(blocks)]
    sbm = nx.stochastic_block_model([per_block] * blocks, probs, seed=seed)
    rng = random.Random(seed)
    nodes = [f"n{i}" for i in range(blocks)]
    name = {v: f"r{v:05d}" for v in sbm}
    reports = [{"node": n, "refs": {}, "edges": []} for n in nodes]
    for v in sbm:
        kib = 4 if uniform else rng.randint(1, 64)
        reports[rng.randrange(blocks)]["refs"][name[v]] = kib * 1024
    for a, b in sbm.edges:
        reports[rng.randrange(blocks)]["edges"].append([name[a], name[b], rng.uniform(0.5, 2)])
    planted = {name[v]: nodes[sbm.nodes[v]["block"]] for v in sbm}
    return access_graph(reports), nodes, planted


def main() -> None:
    """Compare the cut and balance of clustered, METIS and the planted partition."""
    import pymetis

    print(f"pymetis {pymetis.version}; 3 blocks x 200 Refs, random edge weights, balance 1.1; "
          "cut weight, b = max/mean bytes, seconds")
    print(f"{'sizes':>7} {'p_in':>5} {'p_out':>5} {'planted':>17} {'clustered':>23} {'metis':>23}")
    for uniform, p_in, p_out in itertools.product((True, False), (0.3, 0.1, 0.05), (0.01, 0.02)):
        g, nodes, planted = _sbm_graph(3, 200, p_in, p_out, seed=7, uniform=uniform)
        row = [f"{'uniform' if uniform else 'random':>7} {p_in:5} {p_out:5}",
               f"{cut_weight(g, planted):9.1f} b={balance_of(g, planted, nodes):.2f}"]
        for policy in (clustered, metis_assignment):
            start = time.perf_counter()
            target = policy(g, nodes, balance=1.1)
            took = time.perf_counter() - start
            row.append(f"{cut_weight(g, target):9.1f} b={balance_of(g, target, nodes):.2f} "
                       f"{took:5.2f}s")
        print(" ".join(row))


if __name__ == "__main__":
    main()
