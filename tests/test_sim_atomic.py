"""The commit protocol of atomic blocks (swarm/node/machine/txn.py) in the simulator
(tests/sim/atomic.py): thousands of seeded interleavings of transfers, readers and plain
writers over three nodes keep every invariant - no committed block is torn, no update lost
or applied twice, the total conserved, and the history of every attempt has no anomaly
(tests/histories/elle.py). Then the protocol's defences, taken out one at a time: the
simulator must find each missing, and the history checker on its own must find it too."""

import os
from collections import Counter

import pytest

from swarm.node.machine import txn as txn_module
from tests.sim import atomic
from tests.sim.atomic import run_seed

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 20_000 if os.environ.get("SWARM_LONG") else 2_000))
CRASH_SEEDS = SEEDS // 4  # (a run with crashes takes about twice as long)


def first_violations(seeds: range, **kw) -> list[str]:
    found = []
    for seed in seeds:
        run = run_seed(seed, **kw)
        if run.violations:
            found.append(f"seed {seed}: {run.violations[0]}")
    return found


def test_every_seed_keeps_every_invariant():
    found = first_violations(range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:5]}"


def test_runs_commit_blocks_across_nodes_and_conflict():
    """The seeds exercise what they should: blocks committed, on several nodes, and
    conflicts (else the invariants above would hold trivially)."""
    committed = readers = 0
    for seed in range(200):
        run = run_seed(seed)
        committed += len(run.committed)
        readers += len(run.sums)
    assert committed > 200 and readers > 50


def _without(monkeypatch, name: str, replacement) -> list[str]:
    monkeypatch.setattr(txn_module.Txns, name, replacement)
    found = first_violations(range(300))
    assert anomalies(range(300)), "the history checker found nothing"
    return found


def anomalies(seeds: range) -> Counter:
    """How many anomalies of each kind the history checker found in these seeds' runs."""
    return Counter(a.kind for seed in seeds for a in run_seed(seed).anomalies)


def test_the_history_records_every_attempt():
    run = run_seed(7)
    statuses = Counter(t.status for t in run.history)
    assert statuses["ok"] == len(run.committed) + len(run.sums) and statuses["fail"] > 0
    assert run.anomalies == []


def test_without_validation_the_history_checker_finds_g_single_and_lost_updates(monkeypatch):
    """The commit's check switched off (every block commits whatever it read, the locks
    still taken): readers see half of a transfer (G-single: a read that misses one of a
    transfer's appends and sees the other) and transfers overwrite one another (lost
    update)."""
    monkeypatch.setattr(txn_module.Txns, "conflict", lambda self, txn, reads, writes: None)
    found = anomalies(range(100))
    assert found["G-single"] > 0 and found["lost update"] > 0, found


def test_a_prepare_that_locks_nothing_is_found(monkeypatch):
    def prepare(self, txn, reads, writes, coordinator="", now=0.0):
        why = self.conflict(txn, reads, writes)
        if why is None:
            self.prepared[txn] = ([], dict(writes))
        return why

    assert _without(monkeypatch, "prepare", prepare)


def test_a_check_that_ignores_versions_is_found(monkeypatch):
    def conflict(self, txn, reads, writes):
        for ref_id in (*reads, *writes):
            if self.locked(ref_id, txn):
                return "locked"
        return None

    assert _without(monkeypatch, "conflict", conflict)


def test_a_check_that_ignores_locks_is_found(monkeypatch):
    def conflict(self, txn, reads, writes):
        for ref_id, seen in reads.items():
            if tuple(seen) != self.versions.version(ref_id):
                return "changed"
        return None

    assert _without(monkeypatch, "conflict", conflict)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seed_replays(seed):
    a, b = run_seed(seed), run_seed(seed)
    assert (a.committed, a.sums) == (b.committed, b.sums)


# ---- crashes and restarts between the phases (durable prepares and decisions) ----------------

def test_every_seed_keeps_every_invariant_while_nodes_crash():
    """Participants and coordinators crash and restart between (and during) the phases:
    no torn block, no lost or doubled update, the total conserved, and once every node is up
    again every lock is released and no prepare or decision is left."""
    found = first_violations(range(CRASH_SEEDS), crashes=True)
    assert not found, f"{len(found)} of {CRASH_SEEDS} seeds fail; first: {found[:5]}"


def test_crash_runs_cut_blocks_between_the_phases():
    """The crash seeds exercise what they should: nodes crash, prepared blocks are resolved
    by asking their coordinator, programs end PartlyDone after their decision was written."""
    runs = [run_seed(seed, crashes=True) for seed in range(100)]
    assert sum(r.crashed for r in runs) > 500
    assert sum(r.resolved for r in runs) > 100
    assert sum(r.partly_done for r in runs) > 20
    assert sum(len(r.committed) for r in runs) > 400


@pytest.mark.parametrize("defect", ["prepares forgotten at a restart",
                                    "decisions not written", "pending answered abort",
                                    "commit answered before its decision is on disk"])
def test_a_defect_in_durability_is_found(monkeypatch, defect):
    """Each part of the durability taken out, alone, is found in 300 crash seeds."""
    if defect == "prepares forgotten at a restart":
        restore = txn_module.Txns.restore
        monkeypatch.setattr(txn_module.Txns, "restore", lambda self, rows, now: restore(
            self, [r for r in rows if r[0] != "prepared"], now))
    elif defect == "decisions not written":
        decide = txn_module.Txns.decide

        def unwritten(self, txn, participants):
            decide(self, txn, participants)
            del self.staged["decided", txn]
        monkeypatch.setattr(txn_module.Txns, "decide", unwritten)
    elif defect == "pending answered abort":
        monkeypatch.setattr(txn_module.Txns, "outcome",
                            lambda self, txn: "commit" if txn in self.decided else "abort")
    else:
        monkeypatch.setattr(atomic, "HOLD_OUTCOME", False)
    assert any(run_seed(seed, crashes=True).violations for seed in range(300))
