"""Skywriting on a three-node cluster: where spawn puts a task, where `*` parks, and what the
node a script left still holds (DESIGN.md §6; the language itself: the conformance suite)."""

import time
from collections import defaultdict

import pytest
from helpers import status_while_running, write

import swarm
from swarm.node.tasks import LOAD_SECONDS


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


DEPENDENT = """
function input(i) { return i + 100; }
function plus1(f) { return *f + 1; }
results = [];
for (i in range(6)) {
    a = spawn(input, [i]);          // placed on the least loaded node
    b = spawn(plus1, [a]);          // placed where a's value will appear
    results += *b;
}
return results;
"""


def test_a_task_whose_input_future_lives_on_n2_runs_on_n2(cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "dependent.sw", DEPENDENT), trace=True,
                           timeout=60)
    assert out.error is None, out.error
    assert out.value == [i + 101 for i in range(6)]
    hops = defaultdict(list)  # program -> its hops, in time order
    for hop in out.trace:
        hops[hop["program"]].append(hop)
    spawns = [hop for hop in out.trace if hop["why"].startswith("spawn")]
    assert len(spawns) == 12
    inputs, dependents = spawns[0::2], spawns[1::2]
    assert {hop["to"] for hop in inputs} - {"n1"}, "every input stayed on n1: nothing proved"
    for a, b in zip(inputs, dependents, strict=True):
        assert b["to"] == a["to"], (a, b)
        # it started where its input was, so waiting for it took no hop
        assert [h["why"] for h in hops[b["program"]]] == [b["why"]]


PARKED = """
slow = spawn_exec("stdinout", {"command_line": ["sh", "-c", "sleep 2; echo 42"],
                            "inputs": []}, 1)[0];
print("waiting");
x = *slow;                          // parks where slow's value will appear
print("got " + str(x));
return x;
"""


def test_a_parked_script_holds_nothing_on_the_node_it_left(cluster, tmp_path):
    time.sleep(LOAD_SECONDS)  # n1 forgets the loads the previous test's hops told it
    path = write(tmp_path, "parked.sw", PARKED)
    out, status = status_while_running(cluster, path, trace=True)
    assert out.error is None, out.error
    assert out.stdout == "waiting\ngot 42\n" and out.value == 42
    (spawned,) = [h for h in out.trace if h["why"].startswith("spawn")]
    home = spawned["to"]
    assert home != "n1", "the executor ran where the script was: nothing proved"
    (wait,) = [h for h in out.trace if h["why"] == "Future.get"]
    assert (wait["from"], wait["to"]) == ("n1", home)
    # while the command ran, the script was parked on the executor's node (which went on
    # serving: the command runs in a thread) and held nothing on n1
    assert status["n1"]["running"] == 0 and status["n1"]["parked"] == 0, status["n1"]
    assert status[home]["parked"] == 2, status[home]  # the script and the executor's task
