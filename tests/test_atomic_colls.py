"""Sets and Lists inside atomic blocks (swarm/node/txncoll.py) on three real nodes: what
each operation does in a block, and blocks of several programs at once that are
serializable only if every read of a List's length, a member, a chunk is checked at
commit."""

import pytest
from helpers import write

import swarm


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c

OPERATIONS = """
import swarm
from swarm import List, Set, move_to

s, l = Set("ac.s", shards=3), List("ac.l", chunk=2)
move_to("n1")
with swarm.atomic():
    s.add("a")
    s.add("b")
    s.discard("b")
    print("in", "a" in s, "b" in s, len(s))
    print("appended", l.append("x"), l.append("y"), l.append("z"))  # chunk 1: the tail moves
    l[0] = "X"
    print("list", l[0], l.get(-1), len(l))
print("after", "a" in s, "b" in s, len(s), list(l), len(l))
try:
    with swarm.atomic():
        l.append("lost")
        s.add("lost")
        raise ValueError("no")
except ValueError:
    print("nothing of it", "lost" in s, len(l))
for bad in ("remove", "index", "slice", "kind"):
    try:
        with swarm.atomic():
            if bad == "remove":
                s.remove("nobody")
            elif bad == "index":
                l[7]
            elif bad == "slice":
                l[0:2]
            else:
                List("ac.s").append(1)
    except (KeyError, IndexError, RuntimeError, TypeError) as e:
        print(type(e).__name__, str(e).split(":")[0])
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_set_and_list_operations_in_a_block(cluster, tmp_path, policy):
    source = OPERATIONS.replace("ac.", f"ac{policy}.")
    out = cluster.run_file(write(tmp_path, "p.py", source), timeout=120, policy=policy)
    assert out.error is None, out.traceback
    assert out.stdout.splitlines() == [
        "in True False 1",
        "appended 0 1 2",
        "list X z 3",
        "after True False 1 ['X', 'y', 'z'] 3",
        "nothing of it False 3",
        "KeyError 'nobody'",
        "IndexError swarm.List index out of range",
        "RuntimeError a slice of a swarm.List is not allowed inside swarm.atomic()",
        f"TypeError 'ac{policy}.s' is a swarm.Set, not a swarm.List",
    ]


NUMBERS = """
import sys
import swarm
from swarm import List, Set, move_to, nodes

i, blocks, atomic = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "atomic"
l, s = List(sys.argv[4], chunk=4), Set(sys.argv[4] + ".s", shards=3)
move_to(nodes()[i % len(nodes())])
for _ in range(blocks):
    if atomic:
        with swarm.atomic():
            n = len(l)           # the List's length, read in the block
            l.append(n)          # ... so each value is its own index
            if n not in s:
                s.add(n)
    else:
        n = len(l)
        l.append(n)
        s.add(n)
"""

COUNT = """
import sys
from swarm import List, Set
RESULT = [list(List(sys.argv[1])), len(Set(sys.argv[1] + ".s"))]
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_blocks_of_lists_and_sets_at_once_are_serializable(cluster, tmp_path, policy):
    """8 programs on every node, 8 blocks each, all at once: `n = len(l); l.append(n)` in a
    block gives every value its own index (0..63, each once), and the Set gets each once.
    Without blocks the same programs append repeated numbers (checked: the test would
    fail)."""
    results = {}
    for mode in ("atomic", "plain"):
        name = f"n.{policy}.{mode}"
        prog = write(tmp_path, "n.py", NUMBERS)
        ids = [cluster.submit(prog, argv=[str(i), "8", mode, name], policy=policy)
               for i in range(8)]
        for out in cluster.results(ids, timeout=300).values():
            assert out.error is None, out.traceback
        count = cluster.run_file(write(tmp_path, "c.py", COUNT), argv=[name], timeout=60)
        assert count.error is None, count.traceback
        results[mode] = count.value
    values, members = results["atomic"]
    assert values == list(range(64)) and members == 64, results["atomic"]
    plain, _ = results["plain"]
    assert len(plain) == 64 and len(set(plain)) < 64, plain  # (the workload races)
