"""Cancels in the simulator (tests/sim/cancels.py): programs that run until cancelled, and
short ones cancelled or not, under the seeds' crashes, partitions, lost and doubled
messages, full disks, nodes declared gone, and failovers. Every cancelled spinner ends
cancelled, no program ends otherwise than ok or cancelled (or NodeGone with a node declared
gone), and none takes a step after its client was told its outcome. The put-backs show the
runs find a node that answers `cancelled` before the cancel is on its disk, and one that
resumes a cancelled program without the interrupt."""

import os
import random

from swarm.node.machine import instructions
from swarm.node.machine import state as machine_state
from tests.sim import cancels
from tests.sim.world import Faults

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 400))


def _failover_faults(seed: int) -> Faults:
    faults = Faults.pick(random.Random(f"{seed}/faults"), ["n1", "n2", "n3"], 2.0, 5.0,
                         random.Random(f"{seed}/rooms"))
    faults.gone = []  # (failover declares a silent node gone: its heir answers for it)
    return faults


def _search(seeds, faults=None, **kw) -> tuple[list[str], int]:
    found, failovers = [], 0
    for seed in seeds:
        world = cancels.run_seed(seed, faults=faults(seed) if faults else None, **kw)
        failovers += world.failovers
        found += world.violations[:1]
    return found, failovers


def _first_found(seeds) -> str | None:
    for seed in seeds:
        world = cancels.run_seed(seed)
        if world.violations:
            return world.violations[0]
    return None


def test_cancelled_programs_stop_and_end_once_under_faults():
    found, _ = _search(range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"


def test_cancelled_programs_stop_when_their_node_is_taken_over():
    found, failovers = _search(range(SEEDS // 2), _failover_faults, replicas=2, failover=1.0)
    assert not found, f"{len(found)} of {SEEDS // 2} seeds fail; first: {found[:3]}"
    assert failovers


def test_answering_cancelled_before_the_cancel_is_written_is_found(monkeypatch):
    """Put back (as it was): a node answered `cancelled` at once; it died before the write,
    ran the program again from its last hop, and the client - told it was cancelled - asked
    no more: the program ran on for ever (seed 588 of the failover runs found it)."""
    send = machine_state.NodeState._send

    def at_once(self, instruction, hold=False):
        if isinstance(instruction, instructions.AnswerCancel):
            self.out.append(instruction)
            return None
        return send(self, instruction, hold)
    monkeypatch.setattr(machine_state.NodeState, "_send", at_once)
    found, _ = _search([588], _failover_faults, replicas=2, failover=1.0)
    assert any("cancel did not stop it" in f for f in found), found


def test_resuming_a_cancelled_program_without_its_interrupt_is_found(monkeypatch):
    """Put back: a hop of a cancelled program is resumed as if it were not (state._run)."""
    run = machine_state.NodeState._run

    def forgetful(self, meta, hop_id, data, again, counted=True):
        cancelled, self.cancelled = self.cancelled, set()
        try:
            run(self, meta, hop_id, data, again, counted)
        finally:
            self.cancelled = cancelled
    monkeypatch.setattr(machine_state.NodeState, "_run", forgetful)
    found = _first_found(range(300))
    assert found and "cancel did not stop it" in found, found
