"""A transaction anomaly checker for list-append histories, in the style of Jepsen's Elle
(Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from Experimental Observations").

A history is a list of `Txn`: each has an id, a status - "ok" (committed), "fail" (aborted:
nothing of it took effect) or "info" (unknown outcome: its client saw an error) - and its
operations in order: `append(k, v)` adds v at the end of the list k, `read(k, values)` saw
the list k as `values`. Appended values must be unique per key (a transfer's id, an
attempt's id): that is what makes the order of versions recoverable - every read of k is a
prefix of k's final list, so the longest read orders every value it holds.

A register whose value carries the history of the changes that made it (the money
workload's accounts: (balance, [transfer ids])) is such a history already: reading it is a
`read` of its id list, writing it with one more id is an `append` of that id.

`check(history)` returns the `Anomaly`s found, each naming its transactions and explained in
one line:

- **duplicated append**: a value twice in one read, or appended by two transactions;
- **incompatible order**: two reads of k neither of which is a prefix of the other (a lost
  write of a register: a write based on an old version replaced a newer one);
- **G1a** (aborted read): a committed transaction read a value an aborted one appended;
- **G1b** (intermediate read): it read k ending in a value its writer appended to k before
  another of its own appends to k;
- **lost update**: two committed transactions read the same version of k and both appended
  to k (one of the appends is lost, or the two are not serializable);
- cycles in the dependency graph of committed transactions (Adya's direct dependencies:
  `ww` - T2 appended the value after T1's, `wr` - T2 read T1's append as the last value, `rw`
  - T1 read a version that T2's append came after), found with networkx: **G0** (only ww),
  **G1c** (ww and wr, at least one wr), **G-single** (exactly one rw), **G2** (two or more
  rw). A serializable history has none of these.

Discussion: what is inferred. Only a transaction's *external* reads (its first read of k,
before its own append to k) and *external* writes (its last append to k) make edges, as
Elle does; keys whose reads are incompatible make no edges (their order is unknown) but are
reported themselves. An "info" transaction counts as committed if one of its appends was
read. Real-time order is used only when asked (`check(history, realtime=True)`, with each
transaction's `start` and `end`): a cycle that needs it (T1 ended before T2 began, yet T2
comes first) is a **G-realtime** - serializable, but not strictly serializable.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Hashable, Iterable

import networkx as nx

OK, FAIL, INFO = "ok", "fail", "info"


def append(key: Hashable, value: Hashable) -> tuple:
    """The operation: append `value` to the list `key`."""
    return ("append", key, value)


def read(key: Hashable, values: Iterable | None) -> tuple:
    """The operation: read the list `key`, which was `values` (None: not known)."""
    return ("r", key, None if values is None else tuple(values))


@dataclass
class Txn:
    """One transaction (one attempt of a block): its id, its operations, its outcome."""
    id: str
    ops: list = field(default_factory=list)
    status: str = OK
    start: float | None = None  # (when it began and ended, for check(realtime=True))
    end: float | None = None

    def external_reads(self) -> dict:
        """key -> what it read of key before appending to it (its first read)."""
        out: dict = {}
        written = set()
        for kind, key, value in self.ops:
            if kind == "append":
                written.add(key)
            elif key not in out and key not in written and value is not None:
                out[key] = value
        return out

    def appends(self) -> dict:
        """key -> the values it appended to key, in order."""
        out: dict = defaultdict(list)
        for kind, key, value in self.ops:
            if kind == "append":
                out[key].append(value)
        return out


@dataclass(frozen=True)
class Anomaly:
    """One anomaly: its kind, the transactions it involves, and a line saying why."""
    kind: str
    txns: tuple
    why: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.why}"


def _show(values: tuple) -> str:
    if len(values) > 4:
        return f"[...{len(values) - 3} more, {', '.join(map(repr, values[-3:]))}]"
    return "[" + ", ".join(map(repr, values)) + "]"


class _Analysis:
    def __init__(self, history: Iterable[Txn]) -> None:
        self.txns = {t.id: t for t in history}
        self.found: list[Anomaly] = []
        self.writer: dict = {}  # (key, value) -> id of the txn that appended it
        for t in self.txns.values():
            for key, values in t.appends().items():
                for v in values:
                    other = self.writer.setdefault((key, v), t.id)
                    if other != t.id:
                        self.add("duplicated append", (other, t.id),
                                 f"{other} and {t.id} both appended {v!r} to {key!r}")
        self.ok = [t for t in self.txns.values() if t.status == OK]
        self.reads = [(t, kind_key[1], kind_key[2]) for t in self.ok for kind_key in t.ops
                      if kind_key[0] == "r" and kind_key[2] is not None]
        seen = {(key, v) for _, key, values in self.reads for v in values}
        self.committed = {t.id for t in self.ok} | {
            t.id for t in self.txns.values()
            if t.status == INFO and any((k, v) in seen for k, vs in t.appends().items()
                                        for v in vs)}

    def add(self, kind: str, txns: tuple, why: str) -> None:
        self.found.append(Anomaly(kind, tuple(txns), why))

    # ---- what single reads show --------------------------------------------------------------
    def duplicates(self) -> None:
        for t, key, values in self.reads:
            twice = sorted({repr(v) for v in values if values.count(v) > 1})
            if twice:
                self.add("duplicated append", (t.id,),
                         f"{t.id} read {key!r} = {_show(values)}, with {', '.join(twice)} "
                         f"more than once")

    def orders(self) -> dict:
        """key -> its version order (the longest read), for keys whose reads agree."""
        longest: dict = {}
        for t, key, values in self.reads:
            if len(values) > len(longest.get(key, (None, ()))[1]):
                longest[key] = (t.id, values)
        orders = {}
        for key, (tid, order) in longest.items():
            bad = next(((t, values) for t, k, values in self.reads
                        if k == key and order[:len(values)] != values), None)
            if bad is None:
                orders[key] = order
                continue
            t, values = bad
            self.add("incompatible order", (t.id, tid),
                     f"{t.id} read {key!r} = {_show(values)} and {tid} read {_show(order)}: "
                     f"neither is a prefix of the other (a write replaced one it did not see)")
        return orders

    def aborted_and_intermediate_reads(self) -> None:
        for t, key, values in self.reads:
            for v in values:
                w = self.writer.get((key, v))
                if w is not None and w != t.id and self.txns[w].status == FAIL:
                    self.add("G1a", (t.id, w), f"{t.id} read {key!r} = {_show(values)}, with "
                             f"{v!r} appended by {w}, which aborted")
            if not values:
                continue
            w = self.writer.get((key, values[-1]))
            if w is None or w == t.id:
                continue
            mine = self.txns[w].appends()[key]
            if mine[-1] != values[-1]:
                self.add("G1b", (t.id, w), f"{t.id} read {key!r} = {_show(values)}, ending in "
                         f"{values[-1]!r}, which {w} appended before its {mine[-1]!r}: an "
                         f"intermediate state")

    def lost_updates(self) -> None:
        by_version: dict = defaultdict(list)
        for t in self.ok:
            appended = t.appends()
            for key, values in t.external_reads().items():
                if key in appended:
                    by_version[(key, values)].append(t.id)
        for (key, values), ids in by_version.items():
            if len(ids) > 1:
                self.add("lost update", tuple(ids), f"{' and '.join(ids)} each read {key!r} = "
                         f"{_show(values)} and appended to it: one's update is lost, or they "
                         f"are not serializable")

    # ---- the dependency graph ----------------------------------------------------------------
    def graph(self, orders: dict) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.committed)

        def edge(a: str, b: str, kind: str, key, why: str) -> None:
            if a != b and a in self.committed and b in self.committed:
                g.add_edge(a, b)
                g.edges[a, b].setdefault("deps", {}).setdefault(kind, (key, why))

        for key, order in orders.items():
            for v1, v2 in itertools.pairwise(order):
                a, b = self.writer.get((key, v1)), self.writer.get((key, v2))
                if a is not None and b is not None:
                    edge(a, b, "ww", key, f"appended {v2!r} after {a}'s {v1!r}")
        for t in self.ok:
            for key, values in t.external_reads().items():
                order = orders.get(key)
                if order is None:
                    continue
                if values:
                    w = self.writer.get((key, values[-1]))
                    if w is not None:
                        edge(w, t.id, "wr", key, f"read {w}'s {values[-1]!r}")
                if len(values) < len(order):
                    w = self.writer.get((key, order[len(values)]))
                    if w is not None:
                        edge(t.id, w, "rw", key,
                             f"appended {order[len(values)]!r} after the version "
                             f"{t.id} read ({_show(values)})")
        return g

    def explain(self, g: nx.DiGraph, kind: str, cycle: list, first: str | None = None) -> None:
        """Add `cycle` ([a, b, ..., a] in `g`) as a `kind`; its first edge is a `first` one."""
        allowed = {"G0": ("ww",), "G2": ("ww", "wr", "rw"),
                   "G-realtime": ("ww", "wr", "rw", "rt")}.get(kind, ("ww", "wr"))
        parts, lines = [cycle[0]], []
        for i, (a, b) in enumerate(itertools.pairwise(cycle)):
            deps = g.edges[a, b]["deps"]
            dep = first if i == 0 and first else next(k for k in allowed if k in deps)
            key, why = deps[dep]
            parts.append(f"-{dep}-> {b}" if key is None else f"-{dep} {key!r}-> {b}")
            lines.append(f"{b} {why}")
        self.add(kind, tuple(cycle[:-1]), " ".join(parts) + " (" + "; ".join(lines) + ")")

    def cycles(self, g: nx.DiGraph) -> None:
        def sub(kinds: set) -> nx.DiGraph:
            return nx.DiGraph([(a, b) for a, b, d in g.edges(data=True) if kinds & set(d["deps"])])

        ww, wwr = sub({"ww"}), sub({"ww", "wr"})
        for comp in nx.strongly_connected_components(ww):
            if len(comp) > 1:
                cycle = [a for a, _ in nx.find_cycle(ww.subgraph(comp))]
                self.explain(g, "G0", cycle + [cycle[0]])
        for comp in nx.strongly_connected_components(wwr):
            if len(comp) < 2:
                continue
            for a, b, d in g.subgraph(comp).edges(data=True):
                if "wr" in d["deps"]:
                    self.explain(g, "G1c", [a, *nx.shortest_path(wwr, b, a)], "wr")
                    break
        for comp in nx.strongly_connected_components(g):
            if len(comp) < 2:
                continue
            rws = [(a, b) for a, b, d in g.subgraph(comp).edges(data=True)
                   if set(d["deps"]) == {"rw"}]  # (one also ww or wr is a G0 / G1c's)
            single = None
            for a, b in rws:
                if b in wwr and a in wwr and nx.has_path(wwr, b, a):
                    single = [a, *nx.shortest_path(wwr, b, a)]
                    break
            if single is not None:
                self.explain(g, "G-single", single, "rw")
            elif rws:
                a, b = rws[0]
                self.explain(g, "G2", [a, *nx.shortest_path(g.subgraph(comp), b, a)])

    def realtime(self, g: nx.DiGraph) -> None:
        """Cycles that need real-time order (T1 ended before T2 began: T1 -rt-> T2) - a
        history serializable in some order, but not in one that keeps real time (strict
        serializability). Only for transactions with `start` and `end`."""
        timed = sorted((t for t in self.txns.values()
                        if t.id in self.committed and t.start is not None), key=lambda t: t.start)
        both = g.copy()
        for a in timed:
            if a.end is None:
                continue
            for b in timed:
                if b.start > a.end:
                    if not both.has_edge(a.id, b.id):
                        both.add_edge(a.id, b.id, deps={})
                    both.edges[a.id, b.id]["deps"]["rt"] = (None, f"began after {a.id} ended")
        done = [set(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
        for comp in nx.strongly_connected_components(both):
            if len(comp) < 2 or any(comp <= c for c in done):
                continue
            a, b = next((a, b) for a, b, d in both.subgraph(comp).edges(data=True)
                        if "rt" in d["deps"])
            self.explain(both, "G-realtime", [a, *nx.shortest_path(both.subgraph(comp), b, a)],
                         "rt")


def check(history: Iterable[Txn], realtime: bool = False) -> list[Anomaly]:
    """Every anomaly found in `history` (a serializable history has none). `realtime`: also
    cycles through real-time order (G-realtime: a strictly serializable history has none),
    from the transactions' `start` and `end`."""
    a = _Analysis(history)
    a.duplicates()
    orders = a.orders()
    a.aborted_and_intermediate_reads()
    a.lost_updates()
    g = a.graph(orders)
    a.cycles(g)
    if realtime:
        a.realtime(g)
    return a.found


def kinds(anomalies: Iterable[Anomaly]) -> set[str]:
    """The kinds of `anomalies`."""
    return {x.kind for x in anomalies}
