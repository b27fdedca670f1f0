"""A question whose program stopped waiting (Unasked: machine/questions.py), on one node's
machine - the simulator's node (tests/sim/world.py) as the harness, its world not run: what
the node still asks, and what a late answer does; and a hop that carries its sender's cancel."""

import msgpack

from swarm.node import machine as m
from swarm.node.machine.questions import READS
from tests.sim.world import Faults, World


def node():
    """n1 of a 2-node world without faults, booted (nothing delivered: the world does not
    run)."""
    return World(1, n=2, faults=Faults()).nodes["n1"]


def test_a_question_unasked_is_not_asked_again_and_its_late_answer_wakes_nobody():
    n1 = node()
    now = n1.world.now
    assert "get" in READS  # (asked again until answered)
    n1.handle(m.Asked("k1", "n2", "get", "n2.x.1", b"", now))
    n1.handle(m.Asked("k2", "n2", "set", "n2.x.2", b"", now, op="q1.d", segment="h1"))
    assert set(n1.state.asks) == {"k1", "k2"}
    n1.handle(m.Tick(now + 1.5))
    assert n1.state.stats["asked_again"] == 2
    n1.handle(m.Unasked("k1"))
    n1.handle(m.Unasked("k2"))
    n1.handle(m.Unasked("k3"))  # (a key that asks nothing: nothing happens)
    assert not n1.state.asks
    n1.handle(m.Tick(now + 3.0))
    assert n1.state.stats["asked_again"] == 2  # not sent again
    woken = []
    n1.execute = woken.append  # (what the late answer makes the node do)
    n1.handle(m.FetchAnswered("n2", "k2", {"value": None}))
    assert not [i for i in woken if isinstance(i, m.Wake)]


def test_a_source_is_asked_for_as_long_as_a_program_waits_for_it():
    n1 = node()
    now = n1.world.now
    n1.handle(m.SourceWanted("k1", "n2", "d" * 64, now))
    n1.handle(m.SourceWanted("k2", "n2", "d" * 64, now))  # (asked once for both)
    assert len(n1.state.source_asks) == 1
    n1.handle(m.Unasked("k1"))
    assert n1.state.asking == {"d" * 64: ["k2"]} and len(n1.state.source_asks) == 1
    n1.handle(m.Unasked("k2"))
    assert not n1.state.asking and not n1.state.source_asks
    n1.handle(m.Tick(now + 1.5))
    assert n1.state.stats.get("asked_again", 0) == 0


def test_a_hop_that_carries_its_senders_cancel_is_resumed_with_the_interrupt():
    """A resent hop of a program its sender cancelled carries the cancel (resend.py): the
    cancel message before it may have been refused unread by this node as it restarted.
    Taken, the program is cancelled here before it runs; without the field, it runs."""
    for carried in (True, False):
        n1 = node()
        meta = {"program": "c1-x-1", "client": "c1", "modules": {}, "argv": ["p.py"],
                "hop_checkpoints": False, "seq": 1, "route": ["n2", "n1"],
                "hop_id": "h1"}
        extra = {"again": True, "cancelled": True} if carried else {"again": True}
        done = []
        n1.execute = done.append
        n1.handle(m.HopReceived("n2", meta, msgpack.packb(meta), extra, b"", n1.world.now))
        resumes = [i for i in done if isinstance(i, m.Resume)]
        assert [r.interrupt for r in resumes] == [carried]
        assert ("c1-x-1" in n1.state.cancelled) is carried
