"""The long load tests: 10,000 programs parked at once on a 3-node cluster (the fast versions
are in tests/test_load.py). Run with SWARM_LONG=1 (`make faults`); skipped otherwise."""

import os

import pytest

import swarm
from bench.load import Gated, run_load, wait_parked

pytestmark = pytest.mark.skipif(os.environ.get("SWARM_LONG") != "1",
                                reason="long: run with SWARM_LONG=1 (make faults)")

N = 10_000


def test_10000_programs_parked_at_once_all_complete():
    with swarm.local_cluster(3) as cluster:
        report = run_load(cluster, N, timeout=900)
    print(report)
    assert report["peak_awaiting"] == report["peak_parked"] == \
        {"n1": 3334, "n2": 3333, "n3": 3333}
    assert report["completed"] == N and report["wrong"] == 0, report["first_wrong"]
    assert report["parked_after"] == {"n1": 0, "n2": 0, "n3": 0}


def test_a_node_killed_with_3333_parked_programs_resumes_them(tmp_path):
    """n2 holds a third of 10,000 parked programs when it is SIGKILLed; restarted, it resumes
    them (its inbox, or n1's resends), and all 10,000 complete."""
    with swarm.local_cluster(3) as cluster:
        load = Gated(cluster, str(tmp_path))
        load.submit(N)
        wait_parked(cluster, N, timeout=600)
        cluster.kill("n2")
        cluster.restart("n2")
        cluster.wait_ready()
        again = wait_parked(cluster, N, timeout=600)
        assert {name: (row["awaiting"], row["parked"]) for name, row in again.items()} == \
            {"n1": (3334, 3334), "n2": (3333, 3333), "n3": (3333, 3333)}
        load.release(timeout=300)
        outcomes, wrong = load.collect(timeout=900)
        assert len(outcomes) == N and wrong[:5] == []


SPAWNER = """
import sys
from swarm import nodes, spawn
from swarm.futures import Future


def task(gate_id, home, i):
    Future(gate_id, home).get()       # parks at the gate of its own node
    return i * i


def main(gate_id, n):
    futures = []
    for i in range(n):
        futures.append(spawn(task, gate_id, nodes()[i % 3], i))
    total = 0
    for home in nodes():              # one hop per node, not one per future
        for f in futures:
            if f.home == home:
                total += f.get()
    return total


RESULT = main(sys.argv[1], int(sys.argv[2]))
"""


def test_a_program_spawning_10000_tasks_that_all_park(tmp_path):
    """One program spawns 10,000 tasks; each parks at a gate (the spawner then parks on the
    first future); once all are parked they are released, and the spawner sums them."""
    from helpers import write

    with swarm.local_cluster(3) as cluster:
        gates = Gated(cluster, str(tmp_path))
        main = cluster.submit(write(tmp_path, "spawner.py", SPAWNER), [gates.gate, str(N)])
        peak = wait_parked(cluster, N + 1, timeout=600)
        assert sum(row["awaiting"] for row in peak.values()) == \
            sum(row["parked"] for row in peak.values()) == N + 1
        gates.release(timeout=300)
        out = cluster.results([main], timeout=900)[main]
    assert (out.value, out.error) == (sum(i * i for i in range(N)), None)


def test_two_nodes_spawning_10000_tasks_on_each_other(tmp_path):
    """The fast test's cross spawn (tests/test_load.py) with 10,000 tasks of 20 KB each way."""
    from helpers import write
    from test_load import CROSS

    with swarm.local_cluster(3) as cluster:
        path = write(tmp_path, "cross.py", CROSS)
        a = cluster.submit(path, ["n2", "n1", str(N)], node="n1")
        b = cluster.submit(path, ["n1", "n2", str(N)], node="n2")
        outcomes = cluster.results([a, b], timeout=900)
    assert [(o.value, o.error) for o in outcomes.values()] == [(N * 20000, None)] * 2
