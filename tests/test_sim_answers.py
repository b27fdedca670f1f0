"""Questions that change something, answered once (swarm/node/machine/answers.py), in the
simulator: the deposits workload (tests/sim/deposits.py) - writes asked of other nodes,
their askers and the nodes asked crashing, messages lost, duplicated and delayed, nodes
declared gone - and the defects the simulator must find when they are put back."""

import os

import pytest

from swarm.node.machine import answers
from tests.sim import deposits
from tests.sim.world import Faults, World

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 10_000 if os.environ.get("SWARM_LONG")
                           else 500))


def _violations(seeds) -> tuple[list[str], int]:
    """The first violation of each failing seed, and the copies answered again."""
    found, again = [], 0
    for seed in seeds:
        world = deposits.run_seed(seed)
        again += sum(n.state.stats.get("answered_again", 0)
                     for n in world.nodes.values() if n.state is not None)
        if world.violations:
            found.append(world.violations[0])
    return found, again


def test_every_deposit_is_made_once():
    """500 seeds (10,000 under make faults; 10,000 once: 0 violations, 7,758 copies
    answered again): no deposit made twice, none lost that its program was told was made,
    every program has an outcome."""
    found, again = _violations(range(SEEDS))
    assert not found, found[:3]
    assert again > 0  # (the seeds reach the case: a question asked again after a crash)


def test_answers_are_forgotten_once_their_askers_are_done():
    """Without faults, every answer kept is forgotten by the end: the asker tells the node
    asked once its segment's end is on disk."""
    for seed in range(50):
        world = World(seed, faults=Faults())
        deposits.setup(world)
        world.run(drain=5.0)
        assert not world.violations, world.violations
        kept = {n.name: len(n.state.answers.kept) for n in world.nodes.values()}
        assert not any(kept.values()), (seed, kept)


@pytest.mark.parametrize("seed", [1483])
def test_a_seed_that_once_failed(seed):
    """1483: a hop came again to a node that had taken it before its restart, and sent it
    on to a node later declared gone; it answered `programs?` with nothing, and its sender's
    hand to it looked alive for ever (now: a hand to nobody, fencing.trail_alive)."""
    assert not deposits.run_seed(seed).violations


def test_it_finds_a_question_done_again(monkeypatch):
    """A node that does not look up the ids it answered does a deposit twice."""
    requested = answers.requested

    def forgetful(state, e):
        if e.op is not None:
            state.answers.kept.pop(e.op, None)
        requested(state, e)

    monkeypatch.setattr(answers, "requested", forgetful)
    found, _ = _violations(range(100))
    assert any("made 2 times" in v for v in found), found[:3]


def test_it_finds_answers_forgotten_before_the_asker_s_segment_end_is_written(monkeypatch):
    """Told to forget at once, the node asked forgets; the asker dies before its segment's
    end is on disk, runs it again, asks again: the deposit is made twice (seed 2869)."""
    def at_once(state, hop_id):
        used = state.answers.used.pop(hop_id, None)
        if used:
            state.answers.ended.append((0, used))

    monkeypatch.setattr(answers, "segment_ended", at_once)
    found, _ = _violations([2869])
    assert any("made 2 times" in v for v in found), found
