"""Failover without an operator, in the simulator (machine/failover.py; the command it runs:
swarm/adoption.py with `failover`). A node silent for `World.failover` seconds - crashed, or
alive and cut off from its mirror by a partition - is taken over by its mirror once a
majority agrees: the heir runs the removal's steps with `--force` and without the drain
(FailoverAdopter). A node that is alive meanwhile is not stopped: it goes on as a zombie that
every node refuses (what a node on another machine, cut off, does), and may count a write
only if its mirror - the heir, before its merge - has it, or if enough nodes let it go on
alone (then no majority votes it out).

The invariants are the workload's (money.check, deposits.check): every acknowledged transfer
or deposit once, the total conserved, every program an outcome.
"""

from __future__ import annotations

from tests.sim.adoptions import Adopter

START = 0.3  # seconds from the heir's decision to the command's first step (a process start)


class FailoverAdopter(Adopter):
    """The removal's steps as `swarm node remove NODE --failover` runs them: no drain, no
    wait for a whole copy (the node is silent), `adopt` with force."""

    def __init__(self, world, node: str, heir: str, at: float) -> None:
        super().__init__(world, node, heir, at)
        self.force_after = -1.0
        self.failover = True

    def _stopped(self) -> bool:
        return True  # (up or not: refused by every node from phase 1 on)


def take_over(world, heir: str, node: str) -> None:
    """TakeOver from `heir`'s machine: the command, unless one runs already."""
    if f"adopt-{node}" in world.operators:
        return
    if any(op.step < 4 for op in world.operators.values() if isinstance(op, Adopter)):
        world.note(f"{heir} would take {node} over, but a removal is under way")
        return  # (the command refuses: adoption.heir_of, one removal at a time)
    if world.mirror_of(node, world.fenced) != heir:  # (the command refuses: members changed)
        world.note(f"{heir} would take {node} over, but the file names another heir")
        return
    kept = world.nodes[heir].copies.get(node)
    if kept is None or not kept.id:  # (the shell's check: Shell._take_over)
        world.note(f"{heir} would take {node} over, but keeps no copy of its store")
        return
    world.removing += 1
    world.removal_started = True
    world.failovers += 1
    world.nodes[node].lost = True  # (the cluster file names its heir: it will not start)
    world.note(f"{heir} takes {node} over (failover)")
    FailoverAdopter(world, node, heir, world.now + START)
