"""Nodes joining a running cluster, in the simulator (tests/sim/joins.py; `swarm node add`):
the money and deposits workloads with one or two nodes added while transfers run, the seeds'
faults as in test_sim.py, and, in most runs, the disk of the node before the first new one
lost after the join - its copy is on the new node now. Every invariant holds: no write that
was acknowledged is lost, none is made twice. Then the defect this must find, put back."""

import os
import random

from swarm.node.machine import fences
from tests.sim import deposits, money
from tests.sim import mirrors as sim_mirrors

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 400)) // 2  # (make test's time: searches of
# 1,500 money and 750 deposit seeds are in docs/nodes.md)


def _plan(seed: int) -> dict:
    rng = random.Random(f"{seed}/join")
    at = rng.uniform(0.0, 1.5)
    joins = [("n4", at)]
    if rng.random() < 0.4:  # (close together in some runs: both told at once)
        joins.append(("n5", at + rng.choice((rng.uniform(0.0, 0.3), rng.uniform(0.0, 1.0)))))
    losses = []
    if rng.random() < 0.7:  # n3 keeps its copy on n4 once it knows it
        losses.append(("n3", at + rng.uniform(0.0, 1.5), rng.choice((0.01, 0.5, 3.0)), None))
    return {"joins": joins, "disk_losses": losses}


def _search(workload, seeds) -> tuple[list[str], int, int]:
    found, joined, restores = [], 0, 0
    for seed in seeds:
        try:
            world = workload.run_seed(seed, replicas=2, **_plan(seed))
        except KeyError as e:  # (a program read an account that is not there any more)
            found.append(f"seed {seed}: account {e} is gone")
            continue
        joined += "n4" in world.names
        restores += world.restores
        views = {tuple(n.state.names) for n in world.nodes.values() if n.up and n.state
                 and not n.lost}
        longest = max(views, key=len, default=())
        if any(v != longest[:len(v)] for v in views):  # (one order everywhere: mirrors are
            world.violate(f"the nodes hold the members in different orders: {views}")  # the
            # next node in it; a node not told yet of the last join holds a prefix of it)
        if world.violations:
            found.append(world.violations[0])
    return found, joined, restores


def test_joins_lose_no_acknowledged_money_transfer():
    found, joined, restores = _search(money, range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"
    assert joined > SEEDS * 3 // 4 and restores > SEEDS // 4, (joined, restores)


def test_joins_lose_no_deposit_and_make_none_twice():
    found, joined, _ = _search(deposits, range(SEEDS // 2))
    assert not found, f"{len(found)} of {SEEDS // 2} seeds fail; first: {found[:3]}"
    assert joined


def test_a_join_that_counts_the_waiting_write_without_the_new_mirror_is_found(monkeypatch):
    """Put back: told of a join, a node switches its copy to the new node but counts the
    write that waited for the old mirror as kept, and takes the new mirror's copy as whole
    (no snapshot owed): a disk lost then loses it."""
    def switch(state):
        link = state.mirror
        node = fences.mirror.mirror_of(state.names, state.fenced, state.name, state.replicas)
        if node != link.node:
            state.mirror = fences.mirror.MirrorLink(node, link.seq, link.store)
            state.mirror.have = link.seq
            if link.waiting is not None:
                state._written(state.now)
    monkeypatch.setattr(fences.mirror, "fenced", switch)
    found, _, _ = _search(money, range(200))
    assert found, "counting a write no copy has should lose acknowledged transfers"


def test_a_restore_that_asks_only_the_mirror_is_found(monkeypatch):
    """Put back: a node whose disk is lost asks its mirror alone (restore.take_former_copy
    gone): in the moments after a join, the copy is only on the former mirror."""
    monkeypatch.setattr(sim_mirrors, "_others", lambda node: [])
    found, _, _ = _search(money, range(200))
    assert found, "a restore that does not ask the former mirror should lose transfers"
