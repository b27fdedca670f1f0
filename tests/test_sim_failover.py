"""Failover without an operator in the simulator (machine/failover.py, tests/sim/failovers.py):
the money and deposits workloads with `failover = 1` s, under the seeds' crashes (some long
enough to be taken over), partitions, lost and doubled messages and full disks; and a run
made for the dangerous case - a node cut off from its mirror (which goes on alone if another
node lets it) that then dies - where a failover without rule 3 loses acknowledged writes.
Every transfer or deposit acknowledged is kept once, the total is conserved, no program ends
NodeGone and every one has an outcome."""

import os
import random

from swarm.node import machine as m
from swarm.node.machine import failover
from tests.sim import deposits, money
from tests.sim.node import SimNode
from tests.sim.world import Faults, World

SEEDS = int(os.environ.get("SWARM_SIM_SEEDS", 400)) // 4
MIRROR = {"n1": "n2", "n2": "n3", "n3": "n1"}


def _random_faults(seed: int) -> Faults:
    faults = Faults.pick(random.Random(f"{seed}/faults"), ["n1", "n2", "n3"], 2.0, 5.0,
                         random.Random(f"{seed}/rooms"))
    faults.gone = []  # (declared gone by an operator besides: failover does it)
    return faults


def _cut_then_dead(seed: int) -> Faults:
    """A node cut off from its mirror for 6 s, that dies 2.3-4.5 s later (past the 2 s a
    write waits for the mirror before it asks to go on alone) for 3 or 30 s."""
    rng = random.Random(seed)
    node = rng.choice(["n1", "n2", "n3"])
    at = rng.uniform(0.1, 1.0)
    return Faults(crashes=[(node, at + rng.uniform(2.3, 4.5), rng.choice((3.0, 30.0)))],
                  partitions=[(node, MIRROR[node], at, 6.0)])


def _search(workload, seeds, faults) -> tuple[list[str], int]:
    found, failovers = [], 0
    for seed in seeds:
        world = workload.run_seed(seed, replicas=2, failover=1.0, faults=faults(seed))
        failovers += world.failovers
        for client in world.clients.values():
            for pid, run in client.runs.items():
                if any(error and error.startswith("NodeGone") for _, error in run.reports):
                    world.violate(f"{pid} ended NodeGone: {run.reports}")
        found += world.violations[:1]
    return found, failovers


def test_failover_loses_no_transfer_and_fails_no_program():
    found, failovers = _search(money, range(SEEDS), _random_faults)
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"
    assert failovers > SEEDS // 20, failovers


def test_failover_loses_no_deposit_and_makes_none_twice():
    found, failovers = _search(deposits, range(SEEDS // 2), _random_faults)
    assert not found, f"{len(found)} of {SEEDS // 2} seeds fail; first: {found[:3]}"
    assert failovers


def test_a_node_cut_off_from_its_mirror_then_dead_loses_nothing():
    found, failovers = _search(money, range(SEEDS // 2), _cut_then_dead)
    assert not found, f"{len(found)} seeds fail; first: {found[:3]}"
    assert failovers  # (those whose node went on alone are not failed over: rule 3)


def _dead_mid_transfers(seed: int) -> Faults:
    """A node killed for good (30 s) while transfers go between the nodes: some of its hops
    to its mirror - its heir - are on the mirror's copy of its outbox and not yet taken
    there (the real test_failover.py found it: 1 run in 6)."""
    rng = random.Random(f"{seed}/dead")
    return Faults(crashes=[(rng.choice(["n1", "n2", "n3"]), rng.uniform(0.2, 1.5), 30.0)],
                  loss=rng.choice((0.0, 0.0, 0.05)))


def test_hops_a_dead_node_sent_its_heir_are_taken_there():
    """The heir sends again the outbox of the store it took: the hops addressed to itself
    it takes (fences.reroute), once. Before, the real node's network dropped them (a node
    takes no hop from itself: shell._loop_back) and their programs waited for ever - the
    simulator's network now refuses such a message as the node does."""
    found, itself = [], 0
    for seed in range(SEEDS):
        world = money.run_seed(seed, replicas=2, failover=1.0, faults=_dead_mid_transfers(seed))
        itself += sum(n.state.stats.get("hops_to_itself", 0) for n in world.nodes.values()
                      if n.state is not None)
        found += world.violations[:1]
    assert not found, f"{len(found)} of {SEEDS} seeds fail; first: {found[:3]}"
    assert itself, "no seed had a dead node's hop to its heir in flight"


def test_going_on_alone_without_leave_is_found(monkeypatch):
    """Put back: a node whose mirror does not answer goes on alone at once (rule 3 out):
    its heir, voted for, takes a copy without the writes it acknowledged."""
    monkeypatch.setattr(failover, "may_go_alone", lambda state, now: True)
    found, _ = _search(money, range(SEEDS // 2), _cut_then_dead)
    assert any("acknowledged write was lost" in f for f in found), found[:3]


def test_a_voter_forgetting_its_leave_is_found(monkeypatch):
    """Put back: a node that let another go on alone votes it out all the same."""
    received = failover.received

    def forgetful(state, sender, fields):
        received(state, sender, fields)
        state.failover.let_alone.clear()
    monkeypatch.setattr(failover, "received", forgetful)
    found, _ = _search(money, range(SEEDS // 2), _cut_then_dead)
    assert any("acknowledged write was lost" in f for f in found), found[:3]


def test_five_nodes_lose_nothing_and_two_silent_at_once_stall_nothing():
    """Five nodes: two may crash at once - no failover then (every other node must answer
    the vote), and none stalls half-way (before, both removals waited for ever for the
    other dead node)."""
    names = ["n1", "n2", "n3", "n4", "n5"]
    found = []
    for seed in range(SEEDS // 4):
        faults = Faults.pick(random.Random(f"{seed}/faults"), names, 2.0, 5.0,
                             random.Random(f"{seed}/rooms"))
        faults.gone = []
        world = money.run_seed(seed, n=5, replicas=2, failover=1.0, faults=faults)
        found += world.violations[:1]
    assert not found, found[:3]


def test_joins_removals_and_failovers_together_lose_nothing():
    """Nodes join, one is removed by hand, others crash and are failed over - in one run:
    members differ from node to node for a while (settling, views, the heir named by the
    file). Found on the way: a node told phase 2 of a removal it joined after; a join
    changing the heir of a removal under way (now refused); votes of nodes that did not
    know of a join."""
    found = []
    for seed in range(SEEDS // 4):
        rng = random.Random(f"{seed}/combo")
        at = rng.uniform(0.0, 1.5)
        joins = [("n4", at)] + ([("n5", at + rng.uniform(0, 1.0))] if rng.random() < 0.4
                                else [])
        removals = [(rng.choice(["n1", "n2", "n3"]), rng.uniform(0.0, 2.0),
                     rng.uniform(0.05, 2.0))] if rng.random() < 0.5 else []
        world = money.run_seed(seed, replicas=2, failover=1.0, faults=_random_faults(seed),
                               joins=joins, removals=removals)
        found += world.violations[:1]
    assert not found, found[:3]


def _failover_join_failover(seed: int):
    """A node crashes for good and is taken over; n4 joins once that removal started, and
    is refused until it ends (before it starts, n4 would be the heir - without a copy: the
    limit docs/nodes.md states); later another node - n4 too - crashes for good: it must be
    taken over as well. Lost and doubled messages, no partition and no second crash at once
    (each of those may rightly stop a failover); each crash once every node it needs is
    up (a node never heard from since a peer started is not taken over)."""
    rng = random.Random(f"{seed}/fjf")
    first = rng.choice(["n1", "n2", "n3"])
    second = rng.choice([n for n in ("n1", "n2", "n3", "n4") if n != first])
    t1, gap = rng.uniform(0.5, 1.5), rng.uniform(6.0, 20.0)
    faults = Faults(loss=rng.choice((0.0, 0.01, 0.05, 0.2)),
                    duplicate=rng.choice((0.0, 0.02, 0.1)))
    world = World(seed, replicas=2, failover=1.0, faults=faults,
                  joins=[("n4", t1 + rng.uniform(0.5, 4.0), lambda w: w.failovers)])
    crashed = {}

    def crash(node: str, needed: list[str], then=None) -> None:
        up = 1.0 if then else 6.0  # (heard from by its peers since; n4: its copy made)
        if any(world.nodes[n].state is None or world.now - world.nodes[n].state.booted_at < up
               for n in needed):
            world.at(world.now + 0.25, crash, node, needed, then)
            return
        crashed[node] = world.now - world.start
        world.nodes[node].crash()
        world.at(world.now + 60.0, world.nodes[node].boot)  # (unless taken over: lost)
        if then:
            then()
    world.at(world.start + t1, crash, first, ["n1", "n2", "n3"],
             lambda: world.at(world.now + gap, crash, second,
                              [n for n in ("n1", "n2", "n3", "n4") if n != first]))
    world.submitting_until = t1 + gap + 65.0  # (the run goes on past both crashes)
    money.setup(world, transfers=8, within=t1 + gap + 3.0)
    world.run()
    if not world.violations:
        money.check(world)
    if not world.violations and world.failovers < 2:
        world.violate(f"{second}, silent from t={crashed.get(second, -1):.1f} s for 60 s, "
                      f"was not taken over after {first} was and n4 joined")
    return world


def test_failover_then_join_then_failover():
    """Finding 3 of the trial of 2026-12-07 (real nodes: n2 killed and taken over by n3, n4
    added, n3 killed: nothing happened for 10 minutes). The node that joined did not count
    the first removed node as fenced (a start reads the fences of its own store, and a new
    node's holds none): its member view differed from the others', their votes did not
    count, and it waited for a vote from the dead node."""
    seeds = SEEDS // 8  # (make test's time; without the fix 34 of 40 seeds fail, and with
    # it 0 of 300: docs/nodes.md)
    found, failovers = [], 0
    for seed in range(seeds):
        world = _failover_join_failover(seed)
        failovers += world.failovers
        found += world.violations[:1]
    assert not found, f"{len(found)} of {seeds} seeds fail; first: {found[:3]}"
    assert failovers == 2 * seeds


def test_a_joined_node_without_the_file_fences_is_found_and_the_heir_says_why(monkeypatch):
    """Put back: a node starts with its store's fences alone. The second failover never
    comes - and the heir's log says why, once for each reason (not every tick): the
    voters hold other members."""
    monkeypatch.setattr(SimNode, "file_fences", lambda node: set())
    found = said = 0
    for seed in range(8):
        world = _failover_join_failover(seed)
        if not any("was not taken over" in v for v in world.violations):
            continue
        found += 1
        stuck = [text for node in world.nodes.values() for _, _, text in node.logs
                 if "not failed over" in text]
        said += any("the same members" in text for text in stuck)
        assert len(stuck) == len(set(t.split(":", 1)[1].split(" - ")[0] for t in stuck)), \
            stuck  # (each reason once, not every tick)
    assert found >= 4, found
    assert said >= found // 2, (said, found)  # (where the heir knows it is: a node that
    # took the removed one for a member may take another node for the heir, which waits
    # for nothing)


def _machine():
    """n1 of a 3-node world with failover = 1 s, started; the world is not run on (nothing
    more is delivered: its peers never answer)."""
    world = World(1, n=3, replicas=2, failover=1.0, faults=Faults())
    world.run(limit=0.5)
    assert world.nodes["n1"].state is not None
    return world.nodes["n1"]


def test_a_failover_that_cannot_go_on_says_why_once():
    """n3 (whose mirror n1 is) silent, n2 heard but never answering the vote: the heir's log
    says so once, not every tick."""
    n1 = _machine()
    t0 = n1.world.now
    for k in range(1, 40):
        n1.handle(m.Tick(t0 + 0.5 * k, heard={"n3": t0 + 0.1, "n2": t0 + 0.5 * k}))
    stuck = [text for _, _, text in n1.logs if "not failed over" in text]
    assert len(stuck) == 1, stuck
    assert "n3 has been silent for" in stuck[0] and "n2 did not answer the vote" in stuck[0]


def test_a_node_waiting_for_leave_tells_a_hops_sender_why():
    """n1's write waits for its silent mirror n2 and n1 asks to go on alone: a hop sent
    again is answered `refused` with the cause (its client says it, not `swarm node gone`
    of a live n1: trial of 2026-12-07, finding 6); nothing is said while the mirror is
    only slow."""
    n1 = _machine()
    st, t0 = n1.state, n1.world.now
    st.mirror.waiting = (st.mirror.seq + 1, t0 + 2.0)
    st.out = []
    failover.tell_held(st, "n3", "h1")
    assert not st.out  # (not late yet)
    n1.handle(m.Tick(t0 + 2.5))  # (late: no leave yet - it asks n3)
    assert st.failover.leave_asked_at > 0
    failover.tell_held(st, "n3", "h1")
    refused = [i for i in st.out if type(i) is m.Send and i.kind == "refused"]
    assert refused and "its writes wait for its mirror n2" in refused[0].fields["reason"]
