"""Ref.relocate, spawn/Future, the auto policy and --trace, on real nodes.

Every program asserts where it runs after each operation (here()), so a test fails if a
program runs on the wrong node, not only if it computes the wrong value."""


import pytest
from helpers import failures, run_at_once, status_while_running, write

import swarm


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def run(cluster, tmp_path, source, **kw):
    out = cluster.run_file(write(tmp_path, "prog.py", source), timeout=60, **kw)
    assert out.error is None, out.traceback or out.error
    return out


RELOCATE = """
from swarm import Ref, here
r = Ref("data", at="n2")
print("created", here())
r.relocate("n3")                 # the program goes to n2 (where r is), moves the data to n3
print("relocated", here())
print(r.get(), here())           # the next access follows the data
r.relocate("n3")                 # already there: nothing moves
print("again", here())
r.set("changed")
r.relocate("n1")
print(r.get(), here())
"""


def test_relocate_moves_the_data_and_the_next_access_follows(cluster, tmp_path):
    out = run(cluster, tmp_path, RELOCATE)
    assert out.stdout == ("created n2\nrelocated n2\ndata n3\nagain n3\nchanged n1\n")


STALE = """
from swarm import Ref, here
r = Ref._handle({ref_id!r}, "n1")   # a stale hint: the Ref left n1 for n2, then n3
print(r.get(), here())
"""

MOVE_TWICE = """
from swarm import Ref, here
r = Ref("v", at="n1")
r.relocate("n2")
r.relocate("n3")
RESULT = r.id
"""


def test_stale_hints_are_forwarded(cluster, tmp_path):
    ref_id = run(cluster, tmp_path, MOVE_TWICE).value
    out = run(cluster, tmp_path, STALE.format(ref_id=ref_id))
    assert out.stdout == "v n3\n"
    assert out.route == ["n1", "n2", "n3"]  # n1 forwarded it to n2, n2 to n3


INCREMENT = """
from swarm import Ref
r = Ref._handle({ref_id!r}, "n2")
for _ in range({times}):
    r.set(r.get() + 1)
"""

MOVER = """
from swarm import Ref
r = Ref._handle({ref_id!r}, "n2")
for node in {route!r}:
    r.relocate(node)
"""


def test_no_update_is_lost_while_a_ref_is_relocated(cluster, tmp_path):
    """Ten programs increment one Ref 20 times each while another moves it around the
    cluster: every increment (a get and a set on the Ref's node, with no suspension between)
    lands exactly once."""
    ref_id = run(cluster, tmp_path, 'from swarm import Ref\nRESULT = Ref(0, at="n2").id\n'
                 ).value
    inc = write(tmp_path, "inc.py", INCREMENT.format(ref_id=ref_id, times=20))
    mover = write(tmp_path, "mover.py", MOVER.format(ref_id=ref_id,
                                                     route=["n3", "n1", "n2"] * 5))
    errors = failures(run_at_once(cluster, [(mover, [])] + [(inc, [])] * 10, timeout=120))
    assert not errors, errors[0]
    out = run(cluster, tmp_path, f'from swarm import Ref\nRESULT = Ref._handle({ref_id!r}, '
                                 '"n1").get()\n')
    assert out.value == 200


COPIES = """
from swarm import Ref, here
shared = Ref((1, 2, 3))
mutable = Ref([1, 2, 3])
x = mutable.get()
x.append(4)                          # a get() is a private copy: the Ref is unchanged
print(mutable.get(), shared.get(), here())
mutable.set(x)
print(mutable.get())
"""


def test_get_returns_a_private_copy_of_a_mutable_value(cluster, tmp_path):
    out = run(cluster, tmp_path, COPIES)
    assert out.stdout == "[1, 2, 3] (1, 2, 3) n1\n[1, 2, 3, 4]\n"


SPAWN = """
import time
from swarm import Ref, here, move_to, spawn

def where(r, k):
    print("task ran on", here())
    time.sleep(0.5)                  # still running when get() is called: get() moves
    return (r.get() * k, here())

def first(refs, k):
    return where(refs[0], k)

def other(r):
    return r.get() + 1, here()       # a task that touches a Ref elsewhere moves to it

a = Ref(10, at="n2")
b = Ref(5, at="n3")                  # (creating them took the program to n2, then n3)
move_to("n1")
f = spawn(where, a, 2)               # placed with its Ref argument: n2
print("spawned on", here(), "home", f.home)
print(f.get(), here())               # waits by moving to n2
g = spawn(first, [b, b, a], 3)       # most Refs are on n3 (one level into lists counts)
print(g.home, g.get())
h = spawn(other, a)
print(h.get())
"""


def test_spawn_places_tasks_with_their_refs_and_get_moves_to_the_result(cluster, tmp_path):
    out = run(cluster, tmp_path, SPAWN)
    lines = out.stdout.splitlines()
    # a task's output arrives as it is flushed (when it ends or moves), so the lines of the
    # program and of its tasks interleave; each one's own lines stay in order
    assert [line for line in lines if not line.startswith("task")] == [
        "spawned on n1 home n2", "(20, 'n2') n2", "n3 (15, 'n3')", "(11, 'n2')"]
    assert sorted(line for line in lines if line.startswith("task")) == [
        "task ran on n2", "task ran on n3"]


FAILING = """
from swarm import TaskFailed, here, spawn

def bad(x):
    return 1 / x

f = spawn(bad, 0)
for attempt in range(2):             # every get() of a failed task fails
    try:
        f.get()
    except TaskFailed as e:
        print("failed:", e, here(), "ZeroDivisionError" in e.traceback)
print(spawn(bad, 4).get())
"""


def test_a_failed_task_fails_every_get(cluster, tmp_path):
    out = run(cluster, tmp_path, FAILING)
    lines = out.stdout.splitlines()
    assert lines[0] == lines[1] and lines[0].startswith("failed: ZeroDivisionError: division")
    assert lines[0].endswith(" True") and lines[2] == "0.25"


FETCH_FUTURE = """
from swarm import Ref, here, spawn

def double(r):
    return r.get() * 2

f = spawn(double, Ref(21, at="n3"))  # (created by a fetch too)
print(f.get(), here())              # the fetch policy: the result comes here
"""


def test_future_get_under_the_fetch_policy_stays(cluster, tmp_path):
    out = run(cluster, tmp_path, FETCH_FUTURE, policy="fetch")
    assert out.stdout == "42 n1\n"


PARKED = """
import time
from swarm import Ref, here, move_to, spawn

def slow(r):
    end = time.time() + {seconds}
    while time.time() < end:      # keeps n2 busy (a program that does not touch a Ref
        pass                      # holds its node: the kernel is cooperative)
    return here()

move_to("n3")                      # (n3 gets the program's source now, from n1)
f = spawn(slow, Ref(0, at="n2"))   # placed with the Ref (whose creation took us to n2)
move_to("n3")
print("waiting from", here(), "for", f.home)
print("done", f.get(), here())
"""


def test_a_program_waiting_for_a_future_holds_nothing_where_it_was(cluster, tmp_path):
    path = write(tmp_path, "parked.py", PARKED.format(seconds=2.0))
    out, status = status_while_running(cluster, path, trace=True)  # n2, busy, will not answer
    assert out.error is None, out.traceback
    assert out.stdout.endswith("for n2\ndone n2 n2\n")
    assert ("n2", "n2", "spawn slow") in [(h["from"], h["to"], h["why"]) for h in out.trace]
    assert (out.trace[-1]["from"], out.trace[-1]["why"]) == ("n3", "Future.get")
    # while it waited at n2, the program held no greenlet on the node it came from
    left = out.trace[-1]["from"]
    assert status[left]["running"] == 0 and status[left]["parked"] == 0


AUTO = """
from swarm import Ref, here
small = Ref(1, at="n2")
big = Ref(tuple(range(200_000)), at="n3")   # created by a fetch: its value is not carried
print("small", small.get(), here())         # the continuation is bigger: fetched
print("big", len(big.get()), here())        # the value is bigger: the program moves
small.set(2)                                # a write carries its value anyway: fetched
print("set", here(), small.get())
"""


def test_the_auto_policy_moves_whichever_is_smaller(cluster, tmp_path):
    out = run(cluster, tmp_path, AUTO, policy="auto", trace=True)
    assert out.stdout == "small 1 n1\nbig 200000 n3\nset n3 2\n"
    assert [(h["from"], h["to"]) for h in out.trace] == [("n1", "n3")]
    assert out.trace[0]["why"].startswith("get ") and 0 < out.trace[0]["bytes"] < 10_000


TRACED = """
from swarm import Ref, move_to
r = Ref(1, at="n2")
move_to("n3")
print(r.get())
"""


def test_trace_lists_every_hop(cluster, tmp_path):
    out = run(cluster, tmp_path, TRACED, trace=True)
    assert [(h["from"], h["to"], h["why"].split()[0]) for h in out.trace] == [
        ("n1", "n2", "create"), ("n2", "n3", "move_to"), ("n3", "n2", "get")]
    assert all(h["bytes"] > 0 and h["us"] > 0 for h in out.trace)


LONG_ROUTE = """
from swarm import move_to
for _ in range(100):
    move_to("n2")
    move_to("n1")
"""


def test_the_route_a_program_carries_stays_bounded(cluster, tmp_path):
    out = run(cluster, tmp_path, LONG_ROUTE)
    assert len(out.route) <= 64 and out.route[:3] == ["n1", "n2", "n1"]
    assert "..." in out.route and out.route[-1] == "n1"


MODULE_LEVEL_RESULT = """
from swarm import Ref, move_to
r = Ref(list(range(100_000)))
n = len(r.get())               # the list is a dead intermediate after this line
move_to("n2")
move_to("n3")
print(n)
"""


def test_a_dead_call_result_at_module_level_does_not_travel(cluster, tmp_path):
    out = run(cluster, tmp_path, MODULE_LEVEL_RESULT, trace=True)
    assert out.stdout == "100000\n"
    assert [h["bytes"] < 5_000 for h in out.trace] == [True, True], out.trace
