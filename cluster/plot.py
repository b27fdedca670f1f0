"""`swarm place --plot FILE.png`: the access graph coloured by node, before and after a plan.

Needs matplotlib (the `plot` extra: pip install -e '.[plot]'); nothing else imports it.
"""

from __future__ import annotations

import networkx as nx

from cluster.graph import homes
from cluster.placer import Plan

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def draw(g: nx.Graph, plan: Plan, path: str) -> None:
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
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    for ax, (title, where, cut) in zip(axes, [
            ("before", homes(g), plan.cut_before),
            (f"after ({plan.policy})", plan.target, plan.cut_after)], strict=True):
        nx.draw_networkx_edges(g, layout, ax=ax, alpha=0.15, width=0.5)
        nx.draw_networkx_nodes(g, layout, ax=ax, node_size=25,
                               node_color=[colour[where[r]] for r in g])
        ax.set_title(f"{title}: cut weight {cut:.6g}")
        ax.set_axis_off()
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour[n], label=n)
               for n in nodes]
    fig.legend(handles=handles, loc="lower center", ncol=len(nodes))
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
