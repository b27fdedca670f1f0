"""Large values by hash in the simulator (tests/sim/carried.py): programs carrying a value
from node to node - the same one (named by hash, asked for by the receiver) or a changed
one (inside the hop) - under the seeds' crashes, partitions, lost and doubled messages,
full disks, nodes declared gone, and failovers. No program loses its value or holds another.
The put-backs show the runs find a node that does not keep what it named, or sends the hop
before that is on its disk."""

import os
import random

from swarm.node.machine import ledger
from swarm.node.machine import state as machine_state
from swarm.node.machine.ids import VALUE
from tests.sim import carried
from tests.sim.world import Faults

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 400))


def _search(seeds, faults=None, **kw) -> tuple[list[str], int, int]:
    found, asked, failovers = [], 0, 0
    for seed in seeds:
        world = carried.run_seed(seed, faults=faults(seed) if faults else None, **kw)
        asked += sum(n.state.stats.get("values_sent", 0) for n in world.nodes.values()
                     if n.state is not None)
        failovers += world.failovers
        found += world.violations[:1]
    return found, asked, failovers


def _failover_faults(seed: int) -> Faults:
    faults = Faults.pick(random.Random(f"{seed}/faults"), ["n1", "n2", "n3"], 2.0, 5.0,
                         random.Random(f"{seed}/rooms"))
    faults.gone = []  # (failover declares a silent node gone: its heir answers for it)
    return faults


def test_programs_carrying_large_values_lose_none_under_faults():
    found, asked, _ = _search(range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"
    assert asked > SEEDS, asked  # (values were named by hash and asked for)


def test_a_taken_over_nodes_values_are_answered_by_its_heir():
    found, asked, failovers = _search(range(SEEDS // 2), replicas=2, failover=1.0,
                                      faults=_failover_faults)
    assert not found, f"{len(found)} of {SEEDS // 2} seeds fail; first: {found[:3]}"
    assert failovers and asked


def test_a_node_that_does_not_keep_the_values_it_named_is_found(monkeypatch):
    """Put back: the sending node names a value by hash but does not write it (lost at its
    next restart): a receiver asking it then gets nothing."""
    add = ledger.HopLedger.add_sources
    monkeypatch.setattr(ledger.HopLedger, "add_sources", lambda self, sources: add(
        self, {h: v for h, v in sources.items() if v[0] != VALUE}))
    found, _, _ = _search(range(300))
    assert any("LookupError" in f for f in found), found[:3]


def test_a_hop_sent_before_its_value_is_on_disk_is_found(monkeypatch):
    """Put back: the hop naming a new value leaves before the write that keeps it (a crash
    between them: the receiver asks a node that lost it)."""
    send = machine_state.NodeState._send

    def eager(self, instruction, hold=False):
        return send(self, instruction, False if getattr(instruction, "kind", "") == "hop"
                    else hold)
    monkeypatch.setattr(machine_state.NodeState, "_send", eager)
    found, _, _ = _search(range(300))
    assert any("LookupError" in f for f in found), found[:3]
