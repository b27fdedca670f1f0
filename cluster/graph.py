"""The access graph: the nodes' reports merged into one weighted graph of Refs.

Report format (one per node, a plain dict, JSON-friendly)::

    {"node": "n1",
     "refs": {"ref-a": 4096, "ref-b": 512},
     "edges": [["ref-a", "ref-b", 3.0], ["ref-b", "ref-c", 0.5]]}

=========  ==============================  ==================================================
key        type                            meaning
=========  ==============================  ==================================================
``node``   str                             the reporting node's name
``refs``   dict[str, int]                  every Ref this node holds now: ref id -> size in
                                           bytes (>= 0); this node is the Ref's *home*
``edges``  list of [str, str, float]       transitions some program made on this node from
                                           accessing the first Ref to accessing the second;
                                           the weight (>= 0) already combines the count and
                                           the bytes a hop would cost
=========  ==============================  ==================================================

Merging rules (`access_graph`):

- each Ref becomes a graph node with attributes ``size`` (bytes) and ``home`` (node name);
  a Ref listed by two reports is an error (`ValueError`): the caller gathered the reports while
  a Ref was moving and should gather them again;
- an edge is undirected: the weights of a->b and b->a, from any reports, are summed into the
  edge attribute ``weight``;
- an edge naming a Ref that no report lists (a deleted Ref) is dropped, and so is a self-loop
  (a program touching the same Ref twice costs no hop wherever the Ref lives);
- ``g.graph["nodes"]`` is the sorted list of reporting node names (a node may hold no Refs).

An *assignment* is a dict ref id -> node name covering every Ref of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import networkx as nx


class Report(TypedDict):
    """One node's report, as described in the module docstring."""

    node: str
    refs: dict[str, int]
    edges: list[list[Any]]


def access_graph(reports: Iterable[Mapping[str, Any]]) -> nx.Graph:
    """Merge the nodes' reports into an undirected graph of Refs (rules in the module docstring)."""
    reports = list(reports)
    g = nx.Graph(nodes=sorted(r["node"] for r in reports))
    for report in reports:
        for ref, size in report["refs"].items():
            if ref in g:
                raise ValueError(f"Ref {ref!r} is listed by both {g.nodes[ref]['home']!r} "
                                 f"and {report['node']!r}")
            if size < 0:
                raise ValueError(f"Ref {ref!r} on {report['node']!r} has negative size {size}")
            g.add_node(ref, size=int(size), home=report["node"])
    for report in reports:
        for a, b, weight in report["edges"]:
            if a == b or a not in g or b not in g:
                continue
            if weight < 0:
                raise ValueError(f"edge {a!r}-{b!r} on {report['node']!r} has negative weight")
            if g.has_edge(a, b):
                g[a][b]["weight"] += float(weight)
            else:
                g.add_edge(a, b, weight=float(weight))
    return g


def cut_weight(g: nx.Graph, assignment: Mapping[str, str]) -> float:
    """Total weight of the edges whose two Refs are assigned to different nodes."""
    return sum(w for a, b, w in g.edges(data="weight") if assignment[a] != assignment[b])


def loads(g: nx.Graph, assignment: Mapping[str, str], nodes: Iterable[str]) -> dict[str, int]:
    """Bytes assigned to each of `nodes` (0 for an empty node), plus any other node the
    assignment uses (a node being drained, say)."""
    load = dict.fromkeys(nodes, 0)
    for ref, size in g.nodes(data="size"):
        node = assignment[ref]
        load[node] = load.get(node, 0) + size
    return load


def balance(g: nx.Graph, assignment: Mapping[str, str], nodes: Iterable[str]) -> float:
    """The largest load over the mean, ``total bytes / len(nodes)`` (1.0 is perfect; 1.0 for no
    bytes). A node outside `nodes` still holding bytes counts in the largest load."""
    nodes = list(nodes)
    load = loads(g, assignment, nodes)
    total = sum(load.values())
    if total == 0:
        return 1.0
    return max(load.values()) / (total / len(nodes))


def homes(g: nx.Graph) -> dict[str, str]:
    """The current assignment: each Ref's home."""
    return dict(g.nodes(data="home"))
