"""Many programs at once on real nodes: all parked together, all complete, nobody waits for
a slow reader. (The 10,000-program version: tests/faults/test_load_long.py, SWARM_LONG=1.)"""

import os
import secrets

import pytest
from helpers import write

import swarm
from bench.load import RELEASE, Gated, run_load, wait_parked
from swarm.client import Cluster

LONG = os.environ.get("SWARM_LONG") == "1"  # (make faults)


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def test_1500_programs_parked_at_once_all_complete(cluster):
    """Submitted without waiting (Cluster.submit), every program parks at its node's gate;
    the status counters see all 1,500 parked at once; released, each gives its own answer."""
    report = run_load(cluster, 1500, timeout=300)
    assert report["peak_awaiting"] == report["peak_parked"] == {"n1": 500, "n2": 500, "n3": 500}
    assert report["completed"] == 1500 and report["wrong"] == 0, report["first_wrong"]
    assert report["parked_after"] == {"n1": 0, "n2": 0, "n3": 0}
    assert report["continuation_bytes"] > 0  # the traced hop to the gate


def test_results_keeps_outcomes_of_programs_not_asked_for(cluster, tmp_path):
    """Outcomes arriving while the client waits for other programs (or asks for status) are
    kept for a later results() call, in any order."""
    path = write(tmp_path, "square.py", "import sys\nprint(sys.argv[1])\n"
                 "RESULT = int(sys.argv[1]) ** 2\n")
    ids = [cluster.submit(path, [str(i)], node=f"n{i % 3 + 1}") for i in range(30)]
    assert len(cluster.status()) == 3
    late = cluster.results(ids[15:], timeout=60)
    early = cluster.results(ids[:15], timeout=60)
    outcomes = [(early | late)[p] for p in ids]
    assert [o.value for o in outcomes] == [i * i for i in range(30)]
    assert [o.stdout for o in outcomes] == [f"{i}\n" for i in range(30)]


LOUD = """
import sys
from swarm.futures import Future
Future(sys.argv[1], "n1").get()      # parks at the gate on n1
print("y" * 20000)
RESULT = 1
"""


def test_5000_programs_that_answer_while_their_client_still_submits(tmp_path):
    """The README's `Cluster.submit` example with programs that end at once: their outputs
    and results pour back while the client is still submitting, and the nodes' answers
    pile up unread. Before (a limit on what a socket holds unread): ZeroMQ stopped reading,
    missed the heartbeats, reconnected, and libzmq aborted the client - or a node - with
    "Assertion failed: _input_stopped", or the client hung (swarm/wire/liveness.py)."""
    path = write(tmp_path, "square.py", "import sys\nn = int(sys.argv[1])\nprint(n * n)\n"
                 "RESULT = n * n\n")
    with swarm.local_cluster(3) as c:
        ids = [c.submit(path, [str(i)], node="n2") for i in range(5000)]
        outcomes = c.results(ids, timeout=240)
        assert [outcomes[p].value for p in ids] == [i * i for i in range(5000)]
        assert [outcomes[p].stdout for p in ids[:3]] == ["0\n", "1\n", "4\n"]
        assert len(c.status()) == 3  # (every node still up)


def test_a_client_that_does_not_read_does_not_stop_its_node(cluster, tmp_path):
    """2,500 programs parked on n1 are released by another client, and print 20 KB each to
    their own client, which reads nothing yet: more than the queues toward it hold. n1 keeps
    serving others; then the client gets everything. (Before: n1 blocked in its send to that
    client, and answered no one.)"""
    gate = f"gate-{secrets.token_hex(4)}"
    path = write(tmp_path, "loud.py", LOUD)
    ids = [cluster.submit(path, [gate]) for _ in range(2500)]
    wait_parked(cluster, 2500, timeout=120)
    other = Cluster(cluster.config)
    try:
        release = write(tmp_path, "release.py", RELEASE)
        assert other.run_file(release, argv=[gate, "n1"], timeout=60).value == "released"
        assert other.ping(["n1"], timeout=60) == {"n1"}
    finally:
        other.close()
    outcomes = cluster.results(ids, timeout=120)
    assert all(o.error is None and o.stdout == "y" * 20000 + "\n" for o in outcomes.values())


CROSS = """
import sys
from swarm import Ref, move_to, spawn


def measure(ref, blob):
    return len(blob)


def main(there, here, n):
    anchor = Ref(0, at=there)     # a task goes where its Ref argument lives: to `there`
    move_to(here)
    blob = b"z" * 20000
    futures = []
    for i in range(n):
        futures.append(spawn(measure, anchor, blob))
    total = 0
    for f in futures:
        total += f.get()
    return total


RESULT = main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""


def test_two_nodes_spawning_thousands_of_tasks_on_each_other(cluster, tmp_path):
    """A program on n1 spawns 1,200 tasks on n2 while one on n2 spawns 1,200 on n1, each
    carrying 20 KB: more than the queues between them hold (1,000 messages; 3,000 each
    under make faults). (Before: each node blocked in its send to the other, neither read,
    both hung for ever.)"""
    n = 3000 if LONG else 1200
    path = write(tmp_path, "cross.py", CROSS)
    a = cluster.submit(path, ["n2", "n1", str(n)], node="n1")
    b = cluster.submit(path, ["n1", "n2", str(n)], node="n2")
    outcomes = cluster.results([a, b], timeout=300)
    assert [(o.value, o.error) for o in outcomes.values()] == [(n * 20000, None)] * 2


def test_a_node_killed_with_parked_programs_resumes_them_from_its_inbox(tmp_path):
    """600 programs parked, 200 of them on n2, which is SIGKILLed and restarted: its parked
    programs come back (from its SQLite inbox; or resent by n1, for hops it had not written
    yet), park again, and all 600 complete."""
    with swarm.local_cluster(3) as c:
        load = Gated(c, str(tmp_path))
        load.submit(600)
        wait_parked(c, 600, timeout=120)
        c.kill("n2")
        c.restart("n2")
        c.wait_ready()
        again = wait_parked(c, 600, timeout=120)
        assert {name: (row["awaiting"], row["parked"]) for name, row in again.items()} == \
            {"n1": (200, 200), "n2": (200, 200), "n3": (200, 200)}
        load.release(timeout=60)
        outcomes, wrong = load.collect(timeout=120)
        assert len(outcomes) == 600 and wrong == []


TASKS = """
import helper
from swarm import Ref, spawn


def square(anchor, i):
    return helper.square(i)


anchor = Ref(0, at="n2")              # made from n1 (fetch policy): the tasks go there
futures = [spawn(square, anchor, i) for i in range(300)]
RESULT = sum(f.get() for f in futures)
"""


def test_tasks_that_arrive_together_ask_for_a_source_once(tmp_path):
    """300 tasks reach n2 together, which has never seen their program's two modules: n2
    asks n1 for each source once, not once per task (before: about 600 requests)."""
    (tmp_path / "helper.py").write_text("def square(i):\n    return i * i\n")
    with swarm.local_cluster(3) as c:
        out = c.run_file(write(tmp_path, "tasks.py", TASKS), timeout=120, policy="fetch")
        assert (out.value, out.error) == (sum(i * i for i in range(300)), None)
        sent = {row["node"]: row["sources_sent"] for row in c.status()}
    assert sent == {"n1": 2, "n2": 0, "n3": 0}
