"""Atomic blocks across two nodes whose nodes are SIGKILLed between the two phases of the
commit (docs/atomic.md, "Crashes between the phases"): prepares and decisions are durable,
and a block cut between its phases is committed or aborted whole - never torn, never twice.

The block's program runs on n1 (its coordinator) and appends its id to a Ref on n1 and one on
n2. The nodes run with SWARM_FAULT_TXN_PAUSE (txnserve._fault_pause): a block that every
node prepared waits 3 s before (or after) its decision, logged - the test sees it begin and
SIGKILLs a node then. Afterwards each Ref holds the block's id exactly once, and once every
node is up no lock, prepare or decision is left.
"""

import json
import shutil
import time

from helpers import node_log, wait_for, write

import swarm

SETUP = """
from swarm import Ref
RESULT = [[r.id, r.hint] for r in (Ref([], at="n1"), Ref([], at="n2"))]
"""

BLOCK = """
import sys
import swarm
from swarm import move_to
from swarm.refs import Ref
a, b = Ref._handle(sys.argv[1], sys.argv[2]), Ref._handle(sys.argv[3], sys.argv[4])
move_to("n1")                                      # the block's coordinator
with swarm.atomic(attempts=10_000):                # (conflicts while a cut block holds b)
    a.set(a.get() + [sys.argv[5]])
    b.set(b.get() + [sys.argv[5]])
RESULT = "committed"
"""

READ = """
import json, sys
from swarm.refs import Ref
RESULT = [Ref._handle(*h).get() for h in json.loads(sys.argv[1])]
"""


def run_cut(tmp_path, monkeypatch, when: str, kill: str, lose_disk: bool = False):
    """The block, with `kill` SIGKILLed while it pauses `when` its decision and started
    again (`lose_disk`: its directory deleted first; then each node is the other's mirror):
    (the program's outcome, both Refs' values, the nodes' `blocks` status)."""
    monkeypatch.setenv("SWARM_FAULT_TXN_PAUSE", f"{when}:3")
    setup, block = write(tmp_path, "setup.py", SETUP), write(tmp_path, "block.py", BLOCK)
    with swarm.local_cluster(2, directory=str(tmp_path / "c"),
                             replicas=2 if lose_disk else 1) as cluster:
        handles = cluster.run_file(setup, timeout=60).value
        program = cluster.submit(block, argv=[*handles[0], *handles[1], "b1"])
        assert wait_for(lambda: "pausing 3 s" in node_log(cluster, "n1"), 30)
        time.sleep(0.5)  # (the decision, in `after`, on disk: it is written within ms)
        cluster.kill(kill)
        if lose_disk:
            shutil.rmtree(cluster.config.nodes[kill].dir)
        cluster.restart(kill)
        cluster.wait_ready()
        outcome = cluster.results([program], timeout=90)[program]
        values = cluster.run_file(write(tmp_path, "read.py", READ),
                                  argv=[json.dumps(handles)], timeout=60).value
        assert wait_for(lambda: all(
            row["blocks"]["prepared"] == row["blocks"]["locks"] == row["blocks"]["decided"] == 0
            for row in cluster.status()), 30), cluster.status()
        return outcome, values, {row["node"]: row["blocks"] for row in cluster.status()}


def test_a_participant_killed_between_the_phases_commits_its_durable_prepare(
        tmp_path, monkeypatch):
    """n2 said yes and is killed before the commit comes: restarted, it has the prepare
    (its Ref locked again) and the commit finds it. Before, the commit failed with "block
    ... was not prepared here (n2 restarted since?): its writes there are lost" while n1
    had committed: a torn block."""
    outcome, values, _ = run_cut(tmp_path, monkeypatch, "before", "n2")
    assert outcome.error is None, outcome.traceback
    assert values == [["b1"], ["b1"]]


def test_a_participant_that_loses_its_disk_between_the_phases_gets_its_prepare_back(
        tmp_path, monkeypatch):
    """With replicas = 2 the prepare is on n2's mirror (n1) before n2 says yes: n2 killed and
    its directory deleted, it restores its store from the copy - the prepare with it - and
    the commit finds it."""
    outcome, values, _ = run_cut(tmp_path, monkeypatch, "before", "n2", lose_disk=True)
    assert outcome.error is None, outcome.traceback
    assert values == [["b1"], ["b1"]]


def test_a_coordinator_killed_before_its_decision_is_aborted_then_run_again_once(
        tmp_path, monkeypatch):
    """n1 dies with both nodes prepared and no decision: n2 asks n1 (restarted: no
    decision, not deciding) and aborts - presumed abort - releasing its lock; the program,
    run again from its last hop, commits the block once. Before, n2 kept the block's locks
    until it restarted, and the block run again conflicted with them for ever."""
    outcome, values, blocks = run_cut(tmp_path, monkeypatch, "before", "n1")
    assert outcome.error is None, outcome.traceback
    assert values == [["b1"], ["b1"]]
    assert blocks["n2"]["resolved"] >= 1  # (n2 asked n1, and aborted the cut block)


def test_a_coordinator_killed_after_its_decision_commits_the_block_once(
        tmp_path, monkeypatch):
    """n1 dies once its decision to commit is written, before any commit leaves: restarted,
    it sends the commits again (and n2 asks it anyway); the block is committed everywhere,
    once. The program is not run again - it would commit the block a second time: it ends
    with PartlyDone, naming the block."""
    outcome, values, blocks = run_cut(tmp_path, monkeypatch, "after", "n1")
    assert values == [["b1"], ["b1"]]
    assert outcome.error is not None and "PartlyDone" in outcome.error, outcome
    assert "atomic-block:" in outcome.error  # (the block it committed)
    assert blocks["n1"]["driven"] + blocks["n2"]["resolved"] >= 1


def run_cut_for_good(tmp_path, monkeypatch, when: str):
    """The block on three nodes with `failover = 2`, its coordinator n1 SIGKILLed for good
    while it pauses `when` its decision: n2 - n1's mirror, and the block's other node -
    takes n1 over (docs/nodes.md, "Failover") and answers for it as the coordinator."""
    monkeypatch.setenv("SWARM_FAULT_TXN_PAUSE", f"{when}:3")
    setup, block = write(tmp_path, "setup.py", SETUP), write(tmp_path, "block.py", BLOCK)
    with swarm.local_cluster(3, directory=str(tmp_path / "c"), failover=2.0) as cluster:
        handles = cluster.run_file(setup, timeout=60).value
        program = cluster.submit(block, argv=[*handles[0], *handles[1], "b1"], node="n3")
        assert wait_for(lambda: "pausing 3 s" in node_log(cluster, "n1"), 30)
        time.sleep(0.5)  # (the decision, in `after`, on disk: it is written within ms)
        cluster.kill("n1")
        outcome = cluster.results([program], timeout=90)[program]
        values = cluster.run_file(write(tmp_path, "read.py", READ),
                                  argv=[json.dumps(handles)], timeout=60, node="n3").value
        assert wait_for(lambda: all(
            row["blocks"]["prepared"] == row["blocks"]["locks"] == row["blocks"]["decided"] == 0
            for row in cluster.status()), 30), cluster.status()
        return outcome, values


def test_a_coordinator_dead_for_good_before_its_decision_is_taken_over(tmp_path, monkeypatch):
    """No decision written: the heir has n1's store, the block's program runs again there
    from its last hop and commits the block once; the prepare held on n2 is resolved (presumed
    abort) - no lock held for ever by a coordinator that never comes back."""
    outcome, values = run_cut_for_good(tmp_path, monkeypatch, "before")
    assert outcome.error is None, outcome.traceback
    assert values == [["b1"], ["b1"]]


def test_a_coordinator_dead_for_good_after_its_decision_is_taken_over(tmp_path, monkeypatch):
    """The decision to commit written (and on n1's mirror, n2, before it counts): the heir
    sends its commits, as n1 restarted would; the block is in both Refs once."""
    outcome, values = run_cut_for_good(tmp_path, monkeypatch, "after")
    assert values == [["b1"], ["b1"]]
    assert outcome.error is None or "PartlyDone" in outcome.error, outcome
