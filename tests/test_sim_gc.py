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
from tests.sim.clients import SimClient
from tests.sim.world import Faults, World

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

class Reader:
    """Reads n2's box by asking (a read: no id, nothing kept for it), then reads the Refs
    its answer names, where they live."""

    def run(self, node, prog, state) -> None:
        if state is None:
            node.ask(prog, "n2", "get", garbage.box("n2"), None,
                     lambda reply: garbage.read_each(
                         node, prog, garbage.codec.loads(reply["value"])), read=True)
            return
        garbage.read_each(node, prog, state)


class Clearer:
    """Empties n2's box, where it lives."""

    def run(self, node, prog, state) -> None:
        node.state.data.write(garbage.box("n2"), [])
        node.finish(prog)


def _read(node, action: str, ref: str, arg):
    assert action == "get", action
    return {}, garbage.codec.dumps(node.state.data.read(ref))


def _answer_on_its_way() -> World:
    """n1's program asks n2 for the ids in n2's box (one: a Ref on n3) while the link
    n2 -> n1 is slow (80 ms); another program empties the box; a cycle marks every node
    while the answer is on its way - n2 no longer holds the id, n1 does not yet - then the
    program goes to n3 and reads the Ref."""
    world = World(7, faults=Faults())
    ref = "n3.0badcafe.1"
    world.nodes["n3"].store.refs[ref] = garbage.codec.dumps(["in the box"])
    for n in world.names:
        world.nodes[n].store.refs[garbage.box(n)] = garbage.codec.dumps(
            [ref] if n == "n2" else [])
    world.serve = _read
    world.slow[("n2", "n1")] = 0.08
    client = SimClient(world)
    world.programs["c1-0"], world.programs["c1-1"] = Reader(), Clearer()
    world.at(world.now, client.submit, "c1-0", "n1")
    world.at(world.now + 0.01, client.submit, "c1-1", "n2")  # (after the box was read)
    coordinator = garbage.Coordinator(world, first=0.03, final=True)  # (the box is empty then)
    world.run(limit=5.0, drain=None)
    assert world.violations or (coordinator.completed == 1 and all(
        r.reports for r in client.runs.values())), (coordinator.phase, coordinator.cycles)
    return world


def test_a_ref_in_an_answer_on_its_way_is_kept():
    """A node ends a cycle only once every other node's gc-flush has come, behind what that
    node sent it before: the answer with the id is taken (and noted) first."""
    world = _answer_on_its_way()
    assert not world.violations, world.violations


def test_without_the_flush_a_ref_in_an_answer_on_its_way_is_collected(monkeypatch):
    """(Before the flush, the coordinator waited twice the replay window instead.)"""
    handle = gc.handle

    def end_at_once(state, e):
        cycle = state.gc.cycles.get(e.cycle)
        if e.phase == "end" and cycle is not None:
            cycle.flushed |= set(e.nodes)  # (waits for nobody's flush)
        handle(state, e)

    monkeypatch.setattr(gc, "handle", end_at_once)
    world = _answer_on_its_way()
    assert any("it was collected" in v for v in world.violations), world.violations


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
