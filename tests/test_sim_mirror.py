"""Copies of stores in the simulator (tests/sim/mirrors.py; the node's side: machine/mirror.py):
the money and deposits workloads, seeded faults as in test_sim.py, and one node's disk lost
in the middle of each run - its store and the copies it kept gone, the node booting with a
new store that it asks its mirror for (crashing again meanwhile, in some runs) - or put back
to an image made earlier in the run (a store that went back in time: the copy, further on,
is taken). Every invariant of the workloads holds: no write that
was acknowledged is lost, none is made twice. Then the defects this must find, put back."""

import os
import random

from swarm.node.machine import mirror as mirror_module
from tests.sim import deposits, money
from tests.sim.world import Faults

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 400))


def _loss(seed: int) -> list:
    """One disk lost (or, one run in four, put back to an image made earlier); one loss in
    three crashes its node again while it restores. A disk is put back only in runs where
    no node crashes or is cut off: a store that went back in time while its mirror cannot
    be reached starts after restore.START_WAIT without the copy - two failures."""
    rng = random.Random(f"{seed}/disk")
    at = rng.uniform(0.0, 2.0)
    loss = [rng.choice(("n1", "n2", "n3")), at, rng.choice((0.01, 0.5, 3.0)),
            rng.choice((None, None, rng.uniform(0.0, 0.01)))]
    faults = Faults.pick(random.Random(seed), ["n1", "n2", "n3"], 2.0, 5.0,
                         random.Random(f"{seed}/rooms"))  # (the World's own, seed for seed)
    if rng.random() < 0.25 and not (faults.partitions or faults.crashes or faults.gone):
        loss.append(rng.uniform(0.0, at))  # (see the docstring: one failure at a time)
    return [tuple(loss)]


def _run(workload, seed: int, replicas: int = 2):
    return workload.run_seed(seed, replicas=replicas, disk_losses=_loss(seed))


def _search(workload, seeds, **kw) -> tuple[list[str], int, int]:
    found, losses, restores = [], 0, 0
    for seed in seeds:
        try:
            world = _run(workload, seed, **kw)
        except KeyError as e:  # (a program read an account that is not there any more)
            found.append(f"seed {seed}: account {e} is gone")
            continue
        losses += world.losses
        restores += world.restores
        if world.violations:
            found.append(world.violations[0])
    return found, losses, restores


def test_a_lost_disk_loses_no_acknowledged_money_transfer():
    found, losses, restores = _search(money, range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"
    assert losses > SEEDS // 2 and restores > losses // 2, (losses, restores)


def test_a_lost_disk_loses_no_deposit_and_makes_none_twice():
    found, losses, restores = _search(deposits, range(SEEDS // 2))
    assert not found, f"{len(found)} of {SEEDS // 2} seeds fail; first: {found[:3]}"
    assert restores > 0


# ---- defects put back on purpose: each must be found -----------------------------------------

def test_without_a_copy_a_lost_disk_loses_acknowledged_writes():
    found, losses, _ = _search(money, range(60), replicas=1)
    assert losses and found, "a lost disk with one copy should lose acknowledged transfers"


def test_counting_a_write_before_the_mirror_has_it_is_found(monkeypatch):
    committed = mirror_module.committed

    def too_early(state, e):
        committed(state, e)
        state.mirror.waiting = None
        return True
    monkeypatch.setattr(mirror_module, "committed", too_early)
    found, _, _ = _search(money, range(200))
    assert found, "writes counted before their copy was kept: a lost disk must lose some"


def test_answers_read_from_the_store_wait_for_the_copy():
    """A result on the node's own disk, its write waiting for the mirror: `collect?` and
    `programs?` (answered from the store by the shell) wait with the result itself, and go
    once the mirror has the write."""
    from swarm.continuation import codec
    from swarm.node import machine as m
    from swarm.node.machine.ids import submit_id
    from tests.sim import mirrors
    from tests.sim.store import SimStore

    store = SimStore()
    state = m.NodeState("n1", ["n1", "n2", "n3"], m.RefData(
        store, codec.dumps, codec.loads, version_tag="n1:1"), {}, now=1000.0, replicas=2)
    state.handle(m.Booted(1000.0, **store.boot_state()))
    state.handle(m.SubmitReceived("c1", {"program": "p1", "sources": {}, "entry": "e",
                                         "modules": {}, "argv": [], "submitted": 1000.0}))
    out = state.handle(m.ProgramFinished("p1", "c1", submit_id("p1"), {
        "program": "p1", "seq": 0, "ok": True, "route": ["n1"], "value": 7}))
    txn = next(i for i in out if isinstance(i, m.Persist)).txn
    store.commit(txn, 1000.01)
    out = state.handle(m.Committed(1000.01, *mirrors.record(store, txn, 1000.01)))
    assert [i.kind for i in out if isinstance(i, m.Send)] == ["mirror"]
    assert state.handle(m.CollectRequested("c2", ["p1"])) == []
    assert state.handle(m.ProgramsRequested("c2", ["p1"])) == []
    out = state.handle(m.MirrorAnswered("n2", 1, 1, False))
    kinds = [type(i).__name__ for i in out]
    assert "SendKept" in kinds and "AnswerPrograms" in kinds, kinds
