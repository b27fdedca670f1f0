"""`swarm place --plot FILE.png`: the access graph coloured by node, before and after a plan.

What a reader needs from the picture, and where it is:

- every Ref is a dot coloured by the node holding it, its area by its bytes;
- every edge is drawn, its width by its weight (the hops programs made between the two Refs);
  an edge between Refs on different nodes is a hop programs pay for, drawn solid and dark, an
  edge inside a node light;
- the heaviest Refs (the most traffic: the summed weight of their edges) carry a label: a
  short id and their size;
- the title says what moved (or would move): how many Refs, how many bytes, between which
  nodes, and the cut weight (hops) before and after.

Needs matplotlib (the `plot` extra: pip install -e '.[plot]'); nothing else imports it.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from cluster.graph import homes
from cluster.placer import Plan

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
LABELS = 8  # the heaviest Refs get a label


def size_text(n: float) -> str:
    """4096 -> '4 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def short_id(ref: str) -> str:
    """A Ref id short enough for a label: 'n1.329b165e.18' -> 'n1.329b…18'."""
    parts = ref.split(".")
    if len(parts) == 3 and len(parts[1]) > 4:
        return f"{parts[0]}.{parts[1][:4]}…{parts[2]}"
    return ref if len(ref) <= 14 else ref[:13] + "…"


def heaviest(g: nx.Graph, k: int = LABELS) -> list[str]:
    """The k Refs with the most traffic (summed edge weight), ties by size then id."""
    traffic = dict(g.degree(weight="weight"))
    ranked = sorted(g, key=lambda r: (-traffic[r], -g.nodes[r]["size"], r))
    return [r for r in ranked[:k] if traffic[r] > 0]


def title(plan: Plan, applied: bool) -> str:
    """What moved (applied) or would move, and the hops before and after."""
    hops = f"cut weight (hops) {plan.cut_before:.6g} -> {plan.cut_after:.6g}"
    if not plan.moves:
        return f"swarm place: nothing to move, the Refs are where the plan wants them; {hops}"
    routes = Counter((m.src, m.dst) for m in plan.moves)
    shown = ", ".join(f"{src}->{dst} {n}" for (src, dst), n in sorted(
        routes.items(), key=lambda item: (-item[1], item[0]))[:6])
    more = ", ..." if len(routes) > 6 else ""
    verb = "moved" if applied else "would move (not carried out)"
    return (f"swarm place: {len(plan.moves)} Refs ({size_text(plan.bytes_moved)}) {verb}: "
            f"{shown}{more}\n{hops}")


def draw(g: nx.Graph, plan: Plan, path: str, applied: bool = False) -> None:
    """Draw the access graph before and after `plan` into the PNG file `path`; `applied`:
    the moves were carried out (the title says "moved", else "would move")."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("swarm place --plot needs matplotlib: pip install matplotlib "
                         "(or pip install -e '.[plot]')") from None
    nodes = sorted(set(homes(g).values()) | set(plan.target.values()))
    colour = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(nodes)}
    layout = nx.spring_layout(g, seed=1, weight="weight")
    weights = [w for _, _, w in g.edges(data="weight")]
    top = max(weights, default=1.0) or 1.0
    biggest = max((s for _, s in g.nodes(data="size")), default=1) or 1
    sizes = [40 + 260 * (g.nodes[r]["size"] / biggest) ** 0.5 for r in g]
    labelled = heaviest(g)
    fig, axes = plt.subplots(1, 2, figsize=(14, 7))
    for ax, (name, where, cut) in zip(axes, [
            ("before", homes(g), plan.cut_before),
            (f"after ({plan.policy})", plan.target, plan.cut_after)], strict=True):
        for crossing in (False, True):  # inside a node first, the hops on top
            edges = [(a, b) for a, b in g.edges if (where[a] != where[b]) == crossing]
            nx.draw_networkx_edges(
                g, layout, ax=ax, edgelist=edges,
                width=[0.4 + 4.0 * g[a][b]["weight"] / top for a, b in edges],
                edge_color="#333333" if crossing else "#bbbbbb",
                alpha=0.8 if crossing else 0.5)
        nx.draw_networkx_nodes(g, layout, ax=ax, node_size=sizes, linewidths=0.5,
                               edgecolors="white", node_color=[colour[where[r]] for r in g])
        nx.draw_networkx_labels(
            g, layout, ax=ax, font_size=7,
            labels={r: f"{short_id(r)}\n{size_text(g.nodes[r]['size'])}" for r in labelled},
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
        ax.set_title(f"{name}: cut weight {cut:.6g} (dark edges cross nodes)")
        ax.set_axis_off()
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour[n], label=n)
               for n in nodes]
    fig.legend(handles=handles, loc="lower center", ncol=max(len(nodes), 1))  # (no Refs)
    fig.suptitle(title(plan, applied), fontsize=11)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
