"""The node's protocol in the deterministic simulator (tests/sim/): thousands of seeded runs of
the money workload over NodeStates - the node's real logic - with lost, duplicated and delayed
messages, partitions, crashes, full disks and nodes declared gone, every invariant checked
after every step and at the end of each run. A failing seed replays: `python -m tests.sim SEED`.

Then the known defects, put back on purpose: the simulator must find each of them."""

import multiprocessing
import os
from copy import copy
from functools import partial

import pytest

from swarm.continuation import codec
from swarm.node import machine as m
from swarm.node.machine import ledger as ledger_module
from swarm.node.machine import resend as resend_module
from swarm.node.machine import state as state_module
from swarm.node.machine.state import NodeState
from tests.sim import money
from tests.sim.clients import SimClient
from tests.sim.store import PAGE, SimStore
from tests.sim.world import Faults, World

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 100_000 if os.environ.get("SWARM_LONG")
                           else 4_000))

QUICK_SEEDS = SEEDS // 8


def _first_violations(seeds: range, stop: bool = False) -> list[str]:
    """The first violation of each failing seed (`stop`: of the first failing seed only)."""
    found = []
    for seed in seeds:
        world = money.run_seed(seed)
        if world.violations:
            found.append(world.violations[0])
            if stop:
                break
    return found


def search(seeds: int, start: int = 0, processes: int = 2) -> list[str]:
    """Run seeds start..start+seeds in `processes` processes: the violations found."""
    chunks = [range(start + i, start + seeds, processes) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return [v for part in pool.map(_first_violations, chunks) for v in part]


def test_every_seed_keeps_every_invariant():
    found = search(SEEDS)
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:5]}"


# ---- the hop protocol, case by case (as tests/test_node_faults.py on real processes) ----------

def run_case(faults: Faults, transfers: int = 4, seed: int = 7, pairs=None, **kw) -> World:
    world = World(seed, faults=faults, **kw)
    money.setup(world, transfers=transfers, pairs=pairs)
    world.run(drain=5.0)
    if not world.violations:
        money.check(world)
    return world


def all_told_ok(world: World) -> bool:
    return all(run.reports and run.reports[0] == (True, None)
               for c in world.clients.values() for run in c.runs.values())


def outboxes_empty(world: World) -> bool:
    return all(not n.state.ledger.outbox and not n.store.outbox
               for n in world.nodes.values() if n.up)


def test_quick_submissions_keep_every_invariant():
    """Half the transfers are quick submissions (machine/quick.py: written only with their
    first write, together with it): every invariant holds under the seeds' faults."""
    found = [w.violations[0] for w in map(lambda s: money.run_seed(s, quick=True),
                                          range(QUICK_SEEDS)) if w.violations]
    assert not found, f"{len(found)} of {QUICK_SEEDS} seeds fail; first: {found[:5]}"


def test_acknowledged_writes_survive_crashes():
    for seed in range(50):
        world = run_case(Faults(crashes=[("n1", 0.3, 0.05), ("n2", 0.5, 0.2),
                                         ("n3", 0.7, 0.01)]), seed=seed)
        assert not world.violations, world.violations
        assert all_told_ok(world)


def test_a_hop_to_a_node_that_is_down_is_taken_when_it_returns():
    for seed in range(30):  # down for twice hop_timeout: the programs wait, then go on
        world = run_case(Faults(crashes=[("n2", 0.0, 10.0)]), seed=seed)
        assert not world.violations, world.violations
        assert all_told_ok(world)


def test_acks_no_hop_takes_along_are_sent_on_their_own():
    world = run_case(Faults(), transfers=6)
    assert all_told_ok(world) and outboxes_empty(world)
    assert sum(n.store.commits for n in world.nodes.values()) > 0


def test_a_partition_longer_than_hop_timeout_fails_nothing():
    for seed in range(30):
        world = run_case(Faults(partitions=[("n1", "n2", 0.0, 12.0), ("n2", "n3", 0.0, 12.0),
                                            ("n1", "n3", 0.0, 12.0)]), seed=seed)
        assert not world.violations, world.violations
        assert all_told_ok(world) and outboxes_empty(world)


def test_a_full_disk_acknowledges_nothing_and_recovers():
    for seed in range(30):
        world = run_case(Faults(full_disks=[("n1", 0.0, 3.0), ("n2", 0.2, 2.0)]), seed=seed)
        assert not world.violations, world.violations
        assert all_told_ok(world) and outboxes_empty(world)


def test_reads_while_a_write_fails_see_that_write():
    """A node's disk is full while transfers between its own two accounts keep coming: each
    reads what the one before wrote (in memory, its write waiting for the disk), so none is
    lost when the disk has room again."""
    pairs = [(money.account("n1", 0), money.account("n1", 1)),
             (money.account("n1", 1), money.account("n1", 0))]
    for seed in range(30):
        world = run_case(Faults(full_disks=[("n1", 0.0, 2.5)]), seed=seed, transfers=8,
                         pairs=pairs)
        assert not world.violations, world.violations
        assert all_told_ok(world) and outboxes_empty(world)


def note_outcomes(told: dict, world: World) -> None:
    """(a check run after every step) when each program was first told its outcome"""
    for pid, run in world.clients["c1"].runs.items():
        if run.reports and pid not in told:
            told[pid] = world.now - world.start


def test_a_nearly_full_disk_keeps_the_writes_that_fit():
    """n1's disk takes only 3,000 more bytes for 3 s while 16 transfers between its own
    accounts arrive together (a write of many units, larger than that): a write that fails
    is tried again in smaller parts, in order, so the disk fills up to the first unit that
    does not fit - programs whose writes fit end while the disk is nearly full, the others
    wait for room - and every invariant holds."""
    pairs = [(money.account("n1", 0), money.account("n1", 1)),
             (money.account("n1", 1), money.account("n1", 0))]
    early = total = refused = 0
    for seed in range(20):
        world = World(seed, faults=Faults(full_disks=[("n1", 0.0, 3.0, 3000)]))
        money.setup(world, transfers=16, pairs=pairs, within=0.002)
        n1, told, left = world.nodes["n1"], {}, []
        world.checks.append(partial(note_outcomes, told))
        world.at(world.now + 2.99, lambda node, seen: seen.append(
            (node.store.room, node.state.ledger.writing, copy(node.state.ledger.failed))),
            n1, left)
        world.run(drain=5.0)
        if not world.violations:
            money.check(world)
        assert not world.violations, world.violations
        assert all_told_ok(world) and outboxes_empty(world)
        refused += n1.store.failures > 0
        room, writing, failed = left[0]
        if len(told) < 16 or max(told.values()) > 3.0:  # some waited for room
            # ... with the disk filled up to them: a unit of this workload (a transfer's
            # end: two values, its output, its result; a submission) takes under 300 bytes
            assert room < 300, (seed, room)
            if writing is None:  # precisely: the first unit that waits does not fit
                first = failed[0]
                assert room < PAGE + SimStore.size_of(first, set(first.finished)), (seed, room)
        early += sum(1 for t in told.values() if t < 3.0)
        total += len(told)
    assert refused >= 15  # (the disk refused writes: the case is exercised)
    assert early > total // 4, (early, total)  # (all wait if a write fails whole)


def test_programs_of_a_node_declared_gone_are_lost_and_nothing_else():
    """n2 is lost at once and declared gone after 3 s: programs it held are reported lost
    (NodeGone); every other one completes; a zombie n2 that comes back later changes
    nothing (its messages are refused)."""
    told = {"lost": 0, "ok": 0}
    for seed in range(40):
        world = run_case(Faults(gone=[("n2", 0.3, 3.0, 2.0 if seed % 2 else None)]),
                         seed=seed, transfers=6)
        assert not world.violations, world.violations
        for run in world.clients["c1"].runs.values():
            ok, error = run.reports[0]
            told["ok" if ok else "lost"] += 1
            assert ok or error.startswith("NodeGone")
    assert told["lost"] and told["ok"]


# ---- seeds that once failed: run whatever SWARM_SIM_SEEDS says ------------------------------

@pytest.mark.parametrize("seed", [
    25028,  # a fence's answer held for "the next write" while a write was under way, and
    # nothing else to write: no write came, and every later message waited behind it
])
def test_a_seed_that_once_failed(seed):
    world = money.run_seed(seed)
    assert not world.violations, world.violations


def test_what_waits_for_the_next_write_gets_one_while_a_write_is_under_way():
    """A node answers an operator's fence once it is written ("the next write", whatever
    it holds). Phase 2 arrives while phase 1's write is under way, with nothing else to
    write: a write still follows, and the answer goes (it used to wait for ever, and every
    message after it, since messages leave in order; tests/sim: seed 25028). The same
    while the disk refuses writes: the answer waits for the write that holds its unit."""
    for fail_first in (False, True):
        store = SimStore()
        state = m.NodeState("n1", ["n1", "n2", "n3"], m.RefData(store, codec.dumps,
                                                                codec.loads), {})
        state.handle(m.Booted(0.0, [], []))
        out = state.handle(m.FenceRequested("op", "n3", 1))
        (persist,) = [i for i in out if isinstance(i, m.Persist)]
        out = state.handle(m.FenceRequested("op", "n3", 2))  # its write still under way
        assert not [i for i in out if isinstance(i, (m.Persist, m.Reply))]
        answers, now = [], 0.0
        for _ in range(10):  # the shell: carry out each write, tick
            now += 0.01
            if fail_first:
                store.room, fail_first = 0, False
                out = state.handle(m.CommitFailed("database or disk is full", now))
                store.room = None
            else:
                store.commit(persist.txn, now)
                out = state.handle(m.Committed(now))
            out += state.handle(m.Tick(now + 2.0))
            answers += [i.fields["phase"] for i in out if isinstance(i, m.Reply)]
            persist = next((i for i in out if isinstance(i, m.Persist)), None)
            if persist is None:
                break
        assert answers == [1, 2]
        assert "n3" in store.fenced


def test_a_program_that_was_running_when_the_node_died_runs_again_once_that_is_written():
    """At a start after a death, the program that was running is counted (quarantine after
    QUARANTINE_DEATHS) and run again - only once the count is on disk: run at once, under
    load it killed the node again before the count's write, and the node logged "died while
    program ... ran (1 time)" at every start, never quarantining it (CI, 2026-12-07)."""
    from swarm.wire.control import encode

    store = SimStore()
    state = m.NodeState("n2", ["n1", "n2", "n3"], m.RefData(store, codec.dumps, codec.loads),
                        {})
    meta = {"program": "c1-ab-1", "client": "c1", "seq": 0, "route": ["n1"]}
    out = state.handle(m.Booted(0.0, [("h1", "c1-ab-1", encode(meta), b"frames")], [],
                                died_running="c1-ab-1"))
    (persist,) = [i for i in out if isinstance(i, m.Persist)]  # (the count, at once)
    assert persist.txn.deaths == {"c1-ab-1": 1}
    assert not [i for i in out if isinstance(i, (m.Start, m.Resume))], out
    assert not [i for i in state.handle(m.Tick(1.0)) if isinstance(i, (m.Start, m.Resume))]
    store.commit(persist.txn, 1.0)
    out = state.handle(m.Committed(1.0))
    (resume,) = [i for i in out if isinstance(i, m.Resume)]
    assert resume.hop_id == "h1" and resume.again


def test_a_ref_moved_away_is_followed_before_its_write_is_on_disk():
    """A relocation's end (the value gone here, a forward to the new node) is cut into a
    unit at the end of its event, and waits for the next write: meanwhile a program here
    that looks for the Ref follows the forward (it used to be told the Ref was deleted)."""
    store = SimStore()
    ref_id = "n2.acct.0"
    store.refs[ref_id] = codec.dumps((100, []))
    state = m.NodeState("n2", ["n1", "n2", "n3"], m.RefData(store, codec.dumps, codec.loads),
                        {})
    state.handle(m.Booted(0.0, [], []))
    assert state.locate(ref_id, "n2") == "n2"
    state.data.moved_out(ref_id, "n3")
    out = state.handle(m.Tick(0.0))  # (the unit is cut; its write is not due yet)
    assert not [i for i in out if isinstance(i, m.Persist)] and state.data.pending
    assert state.locate(ref_id, "n2") == "n3" and not state.data.has(ref_id)


# ---- the known defects, put back: the simulator finds each ------------------------------------

def test_it_finds_an_outcome_reported_and_then_changed(monkeypatch):
    """The old rule: a hop not acknowledged within hop_timeout failed its program - which the
    receiver may have been running all along."""
    resend = resend_module.unacknowledged

    def give_up(self, now, seconds):
        for hop_id, (dest, meta_bytes, _, sent_at, program) in list(
                self.ledger.outbox.items()):
            if now - sent_at > self.hop_timeout:
                self.ledger.acknowledged([hop_id])
                meta = state_module.stored_meta(meta_bytes)
                self._finished(state_module.ev.ProgramFinished(program, meta["client"], None, {
                    "program": program, "seq": meta["seq"], "ok": False,
                    "error": f"HopTimeout: node {dest} did not accept the program",
                    "traceback": "", "route": meta["route"], "value": None}))
        resend(self, now, seconds)

    monkeypatch.setattr(resend_module, "unacknowledged", give_up)
    found = _first_violations(range(3000), stop=True)
    assert any("HopTimeout" in v for v in found), found[:3]


def test_it_finds_a_write_acknowledged_and_lost(monkeypatch):
    """Send everything at once, before the Ref writes it could show are on disk."""
    monkeypatch.setattr(NodeState, "_send", lambda self, i, hold=False: self.out.append(i))
    found = _first_violations(range(3000), stop=True)
    assert any("acknowledged write was lost" in v for v in found), found[:3]


def test_it_finds_a_hop_taken_twice(monkeypatch):
    """Forget which hops were taken: a resent hop runs again."""
    monkeypatch.setattr(ledger_module.HopLedger, "seen", lambda self, hop_id: False)
    found = _first_violations(range(3000), stop=True)
    assert any("applied 2 times" in v for v in found), found[:3]


# ---- a segment cut mid-way (ledger.py): switched out after its write, the node going on ------

def _cut_mid_way(seeds: range, stop: bool = False) -> tuple[list[str], int]:
    """Transfers switched out after their debit half the time: (violations, PartlyDone
    outcomes); `stop`: at the first violation."""
    found, partly = [], 0
    for seed in seeds:
        world = money.run_seed(seed, pauses=0.5)
        found += world.violations[:1]
        if found and stop:
            break
        _, made, client = world.money
        partly += sum(1 for pid, _ in made if client.runs.get(pid) and client.runs[pid].reports
                      and (client.runs[pid].reports[0][1] or "").startswith("PartlyDone"))
    return found, partly


def test_a_segment_cut_mid_way_is_never_run_twice():
    """2,000 seeds (25,000 once: 0 violations, 164 transfers ended PartlyDone): no debit
    twice, no program told two outcomes, PartlyDone only for a switched-out transfer."""
    found, partly = _cut_mid_way(range(2000))
    assert not found, found[:3]
    assert partly > 0  # (the seeds do reach the case: a crash while one is switched out)


def test_it_finds_a_segment_cut_mid_way_run_again(monkeypatch):
    """A node that forgets its `partial` hops at a restart runs them again: debited twice."""
    boot_state = SimStore.boot_state
    monkeypatch.setattr(SimStore, "boot_state", lambda self: {**boot_state(self), "partial": {}})
    found, _ = _cut_mid_way(range(3000), stop=True)
    assert any("applied 2 times" in v for v in found), found[:3]


def test_it_finds_the_end_of_a_cut_segment_sent_before_it_is_written(monkeypatch):
    """Sent at once, as other hops: the program goes on where it went, and also ends with
    PartlyDone on the node that died before writing the segment's end."""

    class Never(set):
        def __contains__(self, hop_id) -> bool:
            return False

    init = ledger_module.HopLedger.__init__

    def without_hold(self, data) -> None:
        init(self, data)
        self.cut_mid_way = Never()

    monkeypatch.setattr(ledger_module.HopLedger, "__init__", without_hold)
    found, _ = _cut_mid_way(range(3000), stop=True)
    assert any("told (True, None), then (False, 'PartlyDone" in v for v in found), found[:3]


@pytest.mark.parametrize("seed", [3, 17, 42])
def test_a_seed_replays_the_same_run(seed):
    a, b = money.run_seed(seed), money.run_seed(seed)
    assert a.log == b.log and a.steps == b.steps and a.violations == b.violations
    assert a.steps > 0 and isinstance(a.clients["c1"], SimClient)


def test_hops_leave_done_once_their_senders_forgot_them():
    """`done` is pruned (a sender's `forget`, then FORGET_AFTER: ledger.py's Discussion) in
    the runs of these seeds - and no hop is taken twice for it (the invariants)."""
    forgotten = 0
    for seed in range(300):
        world = money.run_seed(seed)
        assert not world.violations, (seed, world.violations[0])
        forgotten += sum(node.store.forgotten for node in world.nodes.values())
    assert forgotten > 0
