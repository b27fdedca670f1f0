"""A collection's steps asked of other nodes, done once (swarm/node/collchain.py), in the
simulator: List appends and Dict updates asked as chains (tests/sim/colls.py) while their
askers and the nodes asked crash, messages are lost and duplicated, nodes are declared
gone - and the defects the simulator must find when they are put back."""

import os

from swarm.node.machine import events as ev
from tests.sim import colls

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 10_000 if os.environ.get("SWARM_LONG")
                           else 300))


def _violations(seeds) -> tuple[list[str], int]:
    found, again = [], 0
    for seed in seeds:
        world = colls.run_seed(seed)
        again += sum(n.state.stats.get("answered_again", 0)
                     for n in world.nodes.values() if n.state is not None)
        if world.violations:
            found.append(world.violations[0])
    return found, again


def test_every_append_and_update_is_done_once():
    """300 seeds (10,000 under make faults): no tag appended or added twice, every one a
    program was told ok is there once, at the index its append returned."""
    found, again = _violations(range(SEEDS))
    assert not found, found[:3]
    assert again > 0  # (the seeds reach the case: an ask asked again after a crash)


def test_it_finds_steps_asked_without_an_id(monkeypatch):
    """Asked the old way - no id, sent once - a copy duplicated on the way, or asked again
    by a program run again after its node died, appends twice."""
    def no_id(self, node, prog, i, op):
        dest, _ = colls.next_ask(op, lambda: colls.stored_location(colls._Node(node), op))
        key = node.state.next_key("fetch")
        node.waits[key] = (prog, lambda reply: self._answered(node, prog, i, reply))
        node.handle(ev.Asked(key, dest, "coll", None, colls.codec.dumps(op), node.world.now))

    monkeypatch.setattr(colls.Steps, "_ask", no_id)
    found, _ = _violations(range(60))
    assert any("done 2 times" in v for v in found), found[:3]


def test_it_finds_a_route_that_follows_the_memo(monkeypatch):
    """Ask 0 of an append sent where the asking node's memo says the tail is (as an append
    asked in the old way went): a program run again after its node died has forgotten the
    memo, asks the root, and - the tail moved on meanwhile - appends to another chunk
    again (seeds 239, 427, 461 of 1,000 found it)."""
    stored = colls.stored_location

    def by_memo(node, op):
        tail = colls.memo(node.sim).tails.get(op.root)
        if op.stage == "start" and op.kind == "list" and tail is not None:
            return op.chunk(tail).split(".", 1)[0]
        return stored(node, op)

    monkeypatch.setattr(colls, "stored_location", by_memo)
    found, _ = _violations([239, 427, 461])
    assert any("done 2 times" in v for v in found), found
