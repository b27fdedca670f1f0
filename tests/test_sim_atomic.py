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


def _txns() -> txn_module.Txns:
    return txn_module.Txns(txn_module.Versions("n2:0"))


def test_a_prepare_written_is_loaded_again_locked_and_committed():
    """What a prepare stages is what a restart loads: the Refs locked again, and the commit
    that comes applies the writes."""
    before = _txns()
    assert before.prepare("b1", {"r": ("n2:0", 0)}, {"r": b"v", "s": b"w"}, "n1", 5.0) is None
    rows = [(kind, txn, record) for (kind, txn), record in before.take_staged().items()]
    after = _txns()
    after.restore(rows, 9.0)
    assert after.locks == {"r": "b1", "s": "b1"} and after.coordinator == {"b1": "n1"}
    assert after.stale(10.0, 2.0) == [] and after.stale(11.0, 2.0) == [("b1", "n1")]
    applied = {}
    assert after.commit("b1", applied.__setitem__, 12.0)
    assert applied == {"r": b"v", "s": b"w"} and after.locks == {}
    assert after.take_staged() == {("prepared", "b1"): None}  # (its record goes)


def test_a_late_copy_of_a_prepare_does_not_prepare_its_block_again():
    """A blind write (nothing read there to conflict) committed here: a copy of its prepare
    that comes afterwards is refused, else it would lock and be committed twice."""
    txns = _txns()
    assert txns.prepare("b1", {}, {"r": b"v"}, "n1") is None
    assert txns.commit("b1", lambda r, v: None)
    assert txns.prepare("b1", {}, {"r": b"v"}, "n1") is not None
    assert txns.locks == {} and txns.prepared == {}
    txns.forget_finished(before=1.0)
    assert txns.prepare("b1", {}, {"r": b"v"}, "n1") is None  # (forgotten: the gate's job)


def test_a_coordinator_answers_pending_commit_or_presumed_abort():
    txns = _txns()
    assert txns.outcome("b1") == "abort"  # (never heard of: presumed abort)
    txns.begin("b1")
    assert txns.outcome("b1") == "pending"
    txns.decide("b1", ["n2", "n3"])
    assert txns.outcome("b1") == "commit" and txns.staged == {("decided", "b1"): ["n2", "n3"]}
    txns.begin("b2")
    txns.abandon("b2")
    assert txns.outcome("b2") == "abort"
    restarted = _txns()
    restarted.restore([("decided", "b1", ["n2", "n3"])], 0.0)
    assert restarted.outcome("b1") == "commit"
    assert restarted.undriven() == [("b1", ["n2", "n3"])] and restarted.undriven() == []
    restarted.done_deciding("b1")
    assert restarted.outcome("b1") == "abort" and restarted.take_staged() == {
        ("decided", "b1"): None}


# ---- Sets and Lists in blocks (swarm/node/txncoll.py: tests/sim/blockcolls.py) ----------------

COLL_SEEDS = SEEDS // 20  # (100 each way in make test: about 8 s; 1,000 with SWARM_LONG)


@pytest.mark.parametrize("crashes", [False, True])
def test_lists_and_sets_in_blocks_keep_every_invariant(crashes):
    """Appenders (`n = len(l); l.append(n); s.add(n)` in a block, by txncoll.py's own code)
    among transfers, readers and plain writers: the List is 0, 1, 2... - one value per
    committed appender - and the Set holds exactly those; every other invariant too (1,000
    seeds each way once: 0 violations, 4,024 appenders committed, 1,859 PartlyDone with
    crashes)."""
    found = first_violations(range(COLL_SEEDS), colls=True, crashes=crashes)
    assert not found, f"{len(found)} of {COLL_SEEDS} seeds fail; first: {found[:5]}"
    runs = [run_seed(seed, colls=True, crashes=crashes) for seed in range(20)]
    assert sum(len(r.appended) for r in runs) > 40


def test_without_validation_appenders_add_one_value_twice(monkeypatch):
    """The commit's check switched off: two appenders read the same length and both append
    it (45 of 100 seeds)."""
    monkeypatch.setattr(txn_module.Txns, "conflict", lambda self, txn, reads, writes: None)
    found = [v for seed in range(100) for v in run_seed(seed, colls=True).violations
             if "the List is" in v]
    assert found
