"""Access statistics: which Ref programs touched after which, as the placer (cluster/) reads
them.

Each program carries the id of the last Ref it touched (Program.last_ref, in its hop meta);
when it touches another one, on whichever node, that node adds to the edge between the two:

    weight += 1 + hop_bytes / HOP_BYTES

- 1 for the transition (a hop, if the two Refs live on different nodes), plus the size of
the program's last continuation in units of HOP_BYTES (a big program is dearer to move). Reads,
writes, creations and fetches all count; a program run with record_access=False (the placer's
own moves) counts nothing. The edge between the program's first Ref (Program.first_ref, in its
hop meta too) and each of the next STAR Refs it touches gets the same weight: a program that
reads a list and then each thing it names (a web timeline: a `following` list, then each
followed user's posts) ties the list to all of them - tied to the first only, a community's
lists were placed on one node and their posts on another (BENCHMARKS.md). Bounded, so that a
long job walking through many Refs does not tie them all to where it began.

Memory stays bounded however long a node runs: at most MAX_EDGES edges (past that, the
lighter half is dropped), and every weight is halved each HALF_LIFE seconds (an edge below
0.01 is dropped), so old patterns fade and make room. Recording is a dict update: about
0.23 us, 0.1% of a hop (docs/placement.md).
"""

from __future__ import annotations

MAX_EDGES = 50_000
STAR = 32  # the first Refs a program touches after its first are tied to it too (record)
HALF_LIFE = 600.0  # seconds
HOP_BYTES = 64 * 1024


class AccessStats:
    def __init__(self, now: float = 0.0) -> None:
        self.edges: dict[tuple[str, str], float] = {}
        self.decayed_at = now

    def record(self, prog, ref_id: str) -> None:
        """`prog` touches `ref_id` (on this node, or fetching it from here)."""
        if prog is None or not prog.record_access:
            return
        last, prog.last_ref = prog.last_ref, ref_id
        first = prog.first_ref
        if first is None:
            prog.first_ref = ref_id
        if last is None or last == ref_id:
            return
        weight = 1.0 + prog.hop_bytes / HOP_BYTES
        self._add(last, ref_id, weight)
        if prog.star > 0 and first is not None and first != ref_id:
            prog.star -= 1  # (bounded: a long job's every Ref is not tied to its first)
            if first != last:
                self._add(first, ref_id, weight)  # (the program's first Ref: module doc)
        if len(self.edges) > MAX_EDGES:
            self._prune(MAX_EDGES // 2)

    def _add(self, a: str, b: str, weight: float) -> None:
        key = (a, b) if a < b else (b, a)
        self.edges[key] = self.edges.get(key, 0.0) + weight

    def report(self, node: str, sizes: dict[str, int], now: float) -> dict:
        """This node's report for the placer (format: cluster/graph.py); `now`: the clock
        (seconds) on which HALF_LIFE is counted."""
        while now - self.decayed_at >= HALF_LIFE:
            self.edges = {k: w / 2 for k, w in self.edges.items() if w >= 0.02}
            self.decayed_at += HALF_LIFE
        return {"node": node, "refs": sizes,
                "edges": [[a, b, w] for (a, b), w in self.edges.items()]}

    def _prune(self, keep: int) -> None:
        """Keep the `keep` heaviest edges."""
        heaviest = sorted(self.edges.items(), key=lambda kv: kv[1], reverse=True)[:keep]
        self.edges = dict(heaviest)
