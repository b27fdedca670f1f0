"""One contract under every policy (docs/atomic.md): a single get, set or update of one Ref is
linearizable; `Ref.update(fn)` is an atomic read-modify-write where the value lives, under
migrate, fetch and auto alike. On three real nodes."""

import os

import pytest
from helpers import write

import swarm

COUNTER = os.path.join(os.path.dirname(__file__), "..", "bench", "programs", "counter.py")


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


@pytest.mark.parametrize("policy", ["migrate", "fetch", "auto"])
def test_the_counter_workload_keeps_every_update(cluster, policy):
    """50 programs on every node each update one counter on n2 10 times, all at once."""
    out = cluster.run_file(COUNTER, argv=["update", f"u-{policy}"], policy=policy,
                           timeout=240)
    assert out.error is None, out.traceback or out.error
    assert out.stdout.splitlines()[-1] == "update 500"


UPDATES = """
import sys
from swarm import Ref, here, move_to

r = Ref([1], at="n2")
print(r.update(lambda v: v + [2]), here())        # moves to n2 (every policy)
move_to("n1")
try:
    r.update(lambda v: v + [1 / 0])
except ZeroDivisionError as e:
    print("ZeroDivisionError", e, here())        # fn's error, raised on n2: nothing written
print(r.get())
other = Ref(0, at="n3")
try:
    r.update(lambda v: v + [other.get()])
except RuntimeError as e:
    print("RuntimeError", e)
try:
    r.update(5)
except TypeError as e:
    print("TypeError", e)
move_to("n1")
try:
    sorted([r], key=lambda x: x.update(len))        # through C code: cannot move there
except TypeError as e:
    print("TypeError", str(e).split(":")[0])
local = Ref(3)
print(sorted([local], key=lambda x: x.update(lambda v: v * 2)) == [local], local.get())
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_update_runs_fn_where_the_value_lives(cluster, tmp_path, policy):
    out = cluster.run_file(write(tmp_path, "prog.py", UPDATES), policy=policy, timeout=120)
    assert out.error is None, out.traceback or out.error
    assert out.stdout.splitlines() == [
        "[1, 2] n2",
        "ZeroDivisionError division by zero n2",
        "[1, 2]",
        "RuntimeError the function given to update() must not touch Refs or collections, "
        "nor move: it runs where the value lives, atomically",
        "TypeError update() takes a function of the old value, not 5",
        "TypeError Ref.update(fn) runs fn where the value lives (n2)",
        "True 6",
    ]
