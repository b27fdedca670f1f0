"""Garbage collection's protocol in the simulator (tests/sim/garbage.py): thousands of seeded
runs of collection cycles while programs make Refs, carry them in their continuations, stash
them in named Refs and take them out again, under lost, duplicated and delayed messages,
partitions, crashes, full disks and nodes declared gone. No program ever finds a Ref it holds
collected; at the end every dropped Ref is gone. A failing seed replays with
`python -c "from tests.sim import garbage; print(garbage.run_seed(SEED).violations)"`.

Then the rules put out of action one by one: the simulator must find each missing."""

import os

from swarm.node.machine import gc
from swarm.node.machine.gcscan import IdFinder
from swarm.wire import values
from tests.sim import garbage

SEEDS = int(os.environ.get("SWARM_SIM_GC_SEEDS", 10_000 if os.environ.get("SWARM_LONG")
                           else 1000))


def _failing(seeds) -> list[str]:
    return [w.violations[0] for w in map(garbage.run_seed, seeds) if w.violations]


def test_no_program_finds_a_ref_it_holds_collected():
    found = _failing(range(SEEDS))
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"


def test_collections_do_delete():
    deleted = sum(garbage.run_seed(seed).operators["gc"].deleted for seed in range(50))
    assert deleted > 100


def _first_failure(limit: int = 1500) -> str | None:
    for seed in range(limit):
        world = garbage.run_seed(seed)
        if world.violations:
            return world.violations[0]
    return None


def test_without_noting_what_goes_by_a_held_ref_is_collected(monkeypatch):
    monkeypatch.setattr(gc.Collector, "saw", lambda self, state, event: None)
    found = _first_failure()
    assert found is not None and "collected" in found, found


def test_without_the_hops_in_flight_as_roots_a_held_ref_is_collected(monkeypatch):
    real_mark = gc.mark

    def mark_without_hops(state, memory):
        outbox, state.ledger.outbox = state.ledger.outbox, {}
        reader = state.data.reader
        reader.held_blobs = lambda: []  # (an attribute of this store only, put back below)
        try:
            return real_mark(state, memory)
        finally:
            state.ledger.outbox = outbox
            del reader.held_blobs

    monkeypatch.setattr(gc, "mark", mark_without_hops)
    found = _first_failure()
    assert found is not None and "collected" in found, found


def test_without_values_edges_a_stashed_ref_is_collected(monkeypatch):
    real_mark = gc.mark

    def mark_without_root_values(state, memory):
        answer = real_mark(state, memory)
        answer["roots"] = [r for r in answer["roots"] if r in memory]
        return answer

    monkeypatch.setattr(gc, "mark", mark_without_root_values)
    found = _first_failure()
    assert found is not None and "collected" in found, found


# ---- finding ids in bytes ---------------------------------------------------------------------

def test_ids_are_found_in_pickles_exactly():
    import pickle

    from swarm.refs import Ref as R

    finder = IdFinder(["n1", "n2", "n10"])
    blob = pickle.dumps([R._handle("n1.0123abcd.12", "n1"), R._handle("n10.0123abcd.7", "n10"),
                         "n2.ffffffff.3 in a string"], protocol=5)
    assert finder.ids_in(blob) == {"n1.0123abcd.12", "n10.0123abcd.7", "n2.ffffffff.3"}
    assert finder.collectable("n1.0123abcd.12")
    assert not finder.collectable("n1.named.box") and not finder.collectable("n1.root.d")
    # bytes not a pickled str: every id the digits may end at
    assert finder.ids_in(b"xx n2.0123abcd.45\x31") == {"n2.0123abcd.4", "n2.0123abcd.45",
                                                         "n2.0123abcd.451"}


def test_buffers_out_of_band_are_not_read():
    import numpy as np  # (the test extra: make test installs it)

    finder = IdFinder(["n1"])
    array = np.frombuffer(b"n1.0123abcd.9 " * 10_000, dtype=np.uint8)
    assert finder.ids_in(values.encode(array)) == set()
    assert finder.ids_in(values.encode(("n1.0123abcd.9", array))) == {"n1.0123abcd.9"}
