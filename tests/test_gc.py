"""Garbage collection of Refs on real nodes (`swarm gc`, Cluster.gc; docs/gc.md): Refs nothing
reaches are deleted, and nothing a collection, a named Ref, a kept result or a running,
hopping or parked program holds is - while programs run.

A cycle takes well under a second: after the marks, each node flushes its links to the others
(machine/gc.py) - no wait for the replay window."""

import os
import time

import pytest
from helpers import swarm_cli, write

from bench.gc import stored
from swarm.embedded import LocalCluster
from swarm.garbage import CollectionStopped, collect

MAKE = """
from swarm import Ref, Dict
keep = Dict("keep")
keep["plain"] = Ref("in a dict")
inner = Ref("inner value")
keep["nested"] = Ref(["holds", inner])
box = Ref.named("box")
box.set([Ref("held by a named Ref"), Ref(("deeper", Ref("two down")))])
for i in range(N):
    Ref({"temporary": i})           # dropped at once: garbage
result_ref = Ref("returned")
RESULT = result_ref                 # the program's result keeps it (kept for its client)
print("made")
"""

CHECK = """
from swarm import Ref, Dict
keep = Dict("keep")
assert keep["plain"].get() == "in a dict"
label, inner = keep["nested"].get()
assert (label, inner.get()) == ("holds", "inner value")
first, second = Ref.named("box").get()
word, deeper = second.get()
assert (first.get(), word, deeper.get()) == ("held by a named Ref", "deeper", "two down")
assert Ref.open(RID).get() == "returned"
print("all there")
"""


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(3) as c:
        yield c


def _stored(cluster) -> tuple[int, int]:
    s = stored(cluster)
    return s["refs"], s["bytes"]


def test_unreachable_refs_go_and_reachable_ones_stay(cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "make.py", MAKE.replace("N", "120")))
    assert out.error is None, out.traceback
    result_id = out.value.id
    before = _stored(cluster)
    dry = cluster.gc(dry_run=True)
    assert dry.garbage_count == 120, dry.summary()
    assert dry.reachable == 9, dry.summary()  # 2 Refs in the Dict and its 2 elements, inner,
    # 3 in the box, the result
    assert _stored(cluster) == before  # a dry run deletes nothing
    report = cluster.gc()
    assert sum(c for c, _ in report.deleted.values()) == 120, report.summary()
    after = _stored(cluster)
    assert after[0] == before[0] - 120
    assert after[1] < before[1]
    check = cluster.run_file(write(tmp_path, "check.py", CHECK.replace("RID",
                                                                          repr(result_id))))
    assert check.error is None, check.traceback
    assert check.stdout == "all there\n"
    again = cluster.gc(dry_run=True)
    assert again.garbage_count == 0, again.summary()


FUTURES = """
from swarm import Dict, Ref, spawn

def task(i):
    return Ref(("from task", i))          # held by the future's result

futures = [spawn(task, i) for i in range(30)]
assert [f.get().get() for f in futures] == [("from task", i) for i in range(30)]
keep = Dict("futures")
for i in range(0, 30, 3):
    keep[i] = futures[i]                  # 10 kept in a collection
RESULT = futures[1]                       # one kept as the program's result
"""

CHECK_FUTURES = """
from swarm import Dict
keep = Dict("futures")
for i in range(0, 30, 3):
    assert keep[i].get().get() == ("from task", i), i
assert FUTURE.get().get() == ("from task", 1)
print("all there")
"""


def test_futures_results_nothing_holds_are_collected(cluster, tmp_path):
    """A future's result is kept under the future's id on its home node: it goes once no
    root holds the future (with the Refs only it held); futures in a collection, or in a
    kept result, stay and can still be read."""
    before = cluster.gc(dry_run=True).garbage_count
    out = cluster.run_file(write(tmp_path, "futures.py", FUTURES))
    assert out.error is None, out.traceback
    dry = cluster.gc(dry_run=True)
    assert dry.garbage_count - before == 2 * 19, dry.summary()  # 19 results, their Refs
    report = cluster.gc()
    assert sum(c for c, _ in report.deleted.values()) >= 2 * 19, report.summary()
    check = cluster.run_file(write(tmp_path, "check.py", "from swarm import Future\n"
                                   f"FUTURE = Future({out.value.id!r}, {out.value.home!r})\n"
                                   + CHECK_FUTURES))
    assert check.error is None, check.traceback
    assert check.stdout == "all there\n"


CARRY = """
import sys, time
from swarm import Dict, Ref, move_to, nodes, spawn

def made_by_a_task(i):
    return Ref(("task", i))              # the task's result holds it: a future's result

me, names = int(sys.argv[1]), nodes()
stop = Ref.named("stop")
mine = [Ref(("value", me, k), at=names[k % 3]) for k in range(3)]  # held only in locals
stash = Dict("stash")                    # Refs handed over through a collection
tasks, steps = [], 0
while not stop.get():                    # (hops to stop's home, and back)
    steps += 1
    move_to(names[(me + steps) % 3])
    time.sleep(0.1)                      # parked: the node runs others meanwhile
    k = steps % 3
    assert mine[k].get() == ("value", me, k), (mine[k], k)
    if steps % 3 == 0:
        stash[(me, steps)] = Ref(("stashed", me, steps))
    if steps % 5 == 0:
        tasks.append((steps, spawn(made_by_a_task, steps)))
for s in range(3, steps + 1, 3):
    assert stash[(me, s)].get() == ("stashed", me, s), s
for s, f in tasks:
    assert f.get().get() == ("task", s), s
print("kept", me, steps > 3)
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_refs_held_by_running_and_hopping_programs_are_kept(cluster, tmp_path, policy):
    """Programs keep hopping - holding Refs in their locals, handing them through a Dict,
    getting them from tasks - until three collections have run; every Ref is there."""
    assert cluster.run_file(write(tmp_path, "go.py", "from swarm import Ref\n"
                                  "Ref.named('stop').set(False)\n")).error is None
    path = write(tmp_path, "carry.py", CARRY)
    programs = [cluster.submit(path, argv=[str(i)], node=cluster.config.names[i % 3],
                               policy=policy) for i in range(6)]
    time.sleep(2)  # (they made their Refs)
    reports = [cluster_gc(cluster) for _ in range(3)]
    assert cluster.run_file(write(tmp_path, "stop.py", "from swarm import Ref\n"
                                  "Ref.named('stop').set(True)\n")).error is None
    outcomes = cluster.results(programs, timeout=240)
    bad = [(o.error, o.traceback) for o in outcomes.values() if o.error]
    assert not bad, bad[:2]
    assert sorted(o.stdout for o in outcomes.values()) == sorted(f"kept {i} True\n"
                                                                 for i in range(6))
    assert all(r.reachable >= 18 for r in reports), [r.summary() for r in reports]


PARKED = """
import time
from swarm import Ref
r = Ref("made, then held while parked")   # in this program's frame only: no hop carries it
time.sleep(SECONDS)                        # parked through a whole collection
print(r.get())
"""


def test_a_ref_held_only_by_a_parked_program_is_kept(cluster, tmp_path):
    program = cluster.submit(write(tmp_path, "parked.py", PARKED.replace("SECONDS", "9")))
    time.sleep(1.5)
    report = cluster.gc()
    assert report.reachable >= 1, report.summary()
    out = cluster.results([program], timeout=60)[program]
    assert out.error is None, out.traceback
    assert out.stdout == "made, then held while parked\n"


def cluster_gc(cluster):
    """A cycle from a client of its own (sockets are per thread)."""
    from swarm.client import Cluster

    with Cluster(cluster.config) as c:
        return c.gc()


def test_a_node_restarted_during_a_cycle_stops_it(tmp_path):
    with LocalCluster(3, directory=str(tmp_path / "c")) as c:
        out = c.run_file(write(tmp_path, "make.py", MAKE.replace("N", "30")))
        assert out.error is None, out.traceback
        before = _stored(c)

        def restart_n2(text: str) -> None:  # (said once every node has marked)
            c.kill("n2")
            c.restart("n2")
            c.wait_ready()

        with pytest.raises(CollectionStopped) as stopped:
            collect(c, say=restart_n2)
        assert "n2" in str(stopped.value) and "nothing was collected" in str(stopped.value)
        c.wait_ready()
        assert _stored(c) == before
        assert sum(n for n, _ in c.gc().deleted.values()) == 30


def test_named_and_opened_refs(cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "named.py", """
from swarm import Ref
r = Ref.named("never set")
try:
    r.get()
except KeyError as e:
    print("KeyError", "never set" in str(e))
a = Ref.named("shared")
a.set(41)
b = Ref.named("shared")
print(a == b, b.get(), Ref.open(a.id).get())
try:
    Ref.open("no dot")
except ValueError as e:
    print("ValueError")
"""))
    assert out.error is None, out.traceback
    assert out.stdout == "KeyError True\nTrue 41 41\nValueError\n"


def test_the_command(tmp_path):
    with LocalCluster(3, directory=str(tmp_path / "c")) as c:
        out = c.run_file(write(tmp_path, "make.py", MAKE.replace("N", "7")))
        assert out.error is None, out.traceback
        path = c.config.path
        dry = swarm_cli("gc", "--dry-run", "--cluster", path)
        assert dry.returncode == 0, dry.stderr
        assert "7 unreachable" in dry.stdout and "dry run: nothing deleted" in dry.stdout, \
            dry.stdout
        real = swarm_cli("gc", "--cluster", path)
        assert real.returncode == 0, real.stderr
        assert "deleted 7 Refs" in real.stdout, real.stdout
    missing = swarm_cli("gc", "--cluster", str(tmp_path / "nothing.toml"))
    assert missing.returncode == 1 and "no cluster file" in missing.stderr


def test_temporary_refs_of_many_programs_are_collected(tmp_path):
    """(The long version: tests/faults/test_gc_long.py, 10,000 programs.)"""
    from bench.gc import report

    with LocalCluster(3) as c:
        r = report(c, str(tmp_path), 1000)
    assert r["after_programs"]["refs"] == r["start"]["refs"] + 5000, r
    assert r["deleted"] == 5000, r
    assert r["after_gc"] == r["start"], r


def test_the_first_node_collects_on_its_own(tmp_path):
    """`auto_gc = SECONDS` in the cluster file (`swarm up --auto-gc`): the first node runs
    `swarm gc` that often, and its log says what went."""
    with LocalCluster(3, directory=str(tmp_path / "c"), auto_gc=1.0) as c:
        out = c.run_file(write(tmp_path, "make.py", MAKE.replace("N", "40")))
        assert out.error is None, out.traceback
        deadline = time.monotonic() + 60

        def said() -> str:  # (the node logs a round once its `swarm gc` has exited: a
            return open(os.path.join(c.directory, "n1.log")).read()  # little after the
            # Refs are gone - reading the log as soon as they were failed the test at times)
        while "deleted 40 Refs" not in said() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = said()
        assert "auto-gc: " in log and "deleted 40 Refs" in log, log[-2000:]
        check = c.run_file(write(tmp_path, "check.py", CHECK.replace("RID", repr(out.value.id))))
        assert check.error is None, check.traceback
