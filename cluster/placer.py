"""The placer: apply a policy to an access graph and list the moves it implies.

`plan` is pure (graph in, `Plan` out); carrying the moves out, and gathering the reports, is the
caller's business (a future ``swarm place``). The edge weights count access transitions, so the
drop in cut weight is the number of hops the recorded accesses would have saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from cluster.graph import balance as balance_of
from cluster.graph import cut_weight, homes
from cluster.policies import Assignment, Policy, clustered


@dataclass(frozen=True)
class Move:
    """Move Ref `ref` (`size` bytes) from node `src` to node `dst`."""

    ref: str
    src: str
    dst: str
    size: int


@dataclass(frozen=True)
class Plan:
    """A policy's target and what reaching it costs and buys."""

    policy: str  # the policy's name
    moves: tuple[Move, ...]  # sorted by (src, dst, ref); only Refs whose target is not home
    target: Assignment = field(repr=False)
    total_bytes: int  # bytes of all Refs
    cut_before: float  # cut weight of the current homes
    cut_after: float  # cut weight of the target
    balance_before: float  # max load / mean load across the nodes, now
    balance_after: float  # the same for the target

    @property
    def bytes_moved(self) -> int:
        """Bytes the moves carry."""
        return sum(m.size for m in self.moves)

    @property
    def expected_hops_saved(self) -> float:
        """Cut weight before minus after: hops the recorded accesses would not have made."""
        return self.cut_before - self.cut_after

    def worth(self, min_gain: float) -> bool:
        """Should the moves be made? Yes if there are any and, with a positive `min_gain`, they
        save at least that share of the current cut weight (hops)."""
        if not self.moves:
            return False
        return min_gain <= 0 or self.expected_hops_saved >= max(min_gain * self.cut_before,
                                                                1e-9)


def plan(g: nx.Graph, nodes: Sequence[str], policy: Policy = clustered,
         balance: float = 1.1) -> Plan:
    """Run `policy` on `g` for `nodes` and compare its target with the current homes."""
    nodes = list(nodes)
    target = policy(g, nodes, balance=balance)
    name = getattr(policy, "__name__", repr(policy))
    missing, extra = set(g) - set(target), set(target) - set(g)
    strays = set(target.values()) - set(nodes)
    if missing or extra or strays:
        raise ValueError(f"policy {name} returned a bad target: missing Refs "
                         f"{sorted(missing)[:5]}, unknown Refs {sorted(extra)[:5]}, "
                         f"unknown nodes {sorted(strays)}")
    now = homes(g)
    moves = tuple(sorted((Move(ref, now[ref], dst, g.nodes[ref]["size"])
                          for ref, dst in target.items() if dst != now[ref]),
                         key=lambda m: (m.src, m.dst, m.ref)))
    return Plan(policy=name, moves=moves, target=target,
                total_bytes=sum(size for _, size in g.nodes(data="size")),
                cut_before=cut_weight(g, now), cut_after=cut_weight(g, target),
                balance_before=balance_of(g, now, nodes),
                balance_after=balance_of(g, target, nodes))


def describe(plan: Plan) -> str:
    """A few lines for a human: what moves where, and what it buys."""
    share = plan.bytes_moved / plan.total_bytes if plan.total_bytes else 0.0
    lines = [f"{plan.policy}: {len(plan.moves)} moves, {_bytes(plan.bytes_moved)} of "
             f"{_bytes(plan.total_bytes)} ({share:.0%})",
             f"cut weight {plan.cut_before:.6g} -> {plan.cut_after:.6g} "
             f"(expected hops saved {plan.expected_hops_saved:.6g})",
             f"balance (max/mean bytes) {plan.balance_before:.2f} -> {plan.balance_after:.2f}"]
    flows: dict[tuple[str, str], list[Move]] = {}
    for move in plan.moves:
        flows.setdefault((move.src, move.dst), []).append(move)
    for (src, dst), moves in flows.items():
        lines.append(f"  {src} -> {dst}: {len(moves)} Refs, {_bytes(sum(m.size for m in moves))}")
    return "\n".join(lines)


def _bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    units = ("B", "KiB", "MiB", "GiB")
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n, i = n / 1024, i + 1
    return f"{int(n)} B" if i == 0 else f"{n:.1f} {units[i]}"
