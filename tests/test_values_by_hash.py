"""Large values cross to each node once (issue 15 item 16): real nodes, ZeroMQ, SQLite.

A large module global or local (64 KiB pickled) that is the same at a program's next hop
goes by hash; a node that lacks it asks the node the hop came from, once, and keeps it
(program._encode, docs/nodes.md). Before, nodes sent every such value inside every hop: a
program with a 16 MiB global moving 12 times among 3 nodes sent 12 x 16 MiB."""

import time

import pytest
from helpers import write

import swarm

MIB16 = 16 * 1024 * 1024

BIG_GLOBAL = """
from swarm import Ref, nodes
BLOB = bytes(range(256)) * (1 << 16)   # a 16 MiB module global, never changed
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
total = 0
for i in range(12):
    total += refs[i % 3].get() + BLOB[i]
print("total", total, len(BLOB))
"""

GROWING = """
from swarm import Ref, nodes
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
big = list(range(100_000))              # a large local that changes at every hop
for i in range(9):
    big.append(refs[i % 3].get())
print(len(big), sum(big[-9:]))
"""

BIG_LOCAL = """
from swarm import Ref, nodes

def work():
    names = nodes()
    refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
    table = {i: str(i) * 40 for i in range(20_000)}   # a large local, the same throughout
    seen = []
    for i in range(9):
        seen.append(refs[i % 3].get() + len(table[i * 7]))
    return seen, len(table)

print(work())
"""


@pytest.fixture
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def _values(cluster) -> dict:
    rows = cluster.status()
    return {k: sum(r["values"][k] for r in rows) for k in ("by_hash", "sent", "held",
                                                             "held_bytes")}


def test_a_16_mib_global_moving_12_times_among_3_nodes_crosses_to_each_node_once(
        cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "big.py", BIG_GLOBAL), trace=True, timeout=120)
    assert out.error is None, out.traceback
    assert out.stdout == f"total {sum(i % 3 + i for i in range(12))} {MIB16}\n"
    hops = out.trace
    assert len(hops) >= 12
    # the first hop carries it (new to the program); every later one names it by hash
    assert hops[0]["bytes"] > MIB16
    assert all(h["bytes"] < 64 * 1024 for h in hops[1:]), [h["bytes"] for h in hops]
    v = _values(cluster)
    # two nodes asked for it (the one it first went to had it inside that hop): 16 MiB in
    # the first hop + 2 x 16 MiB asked for, under 64 MiB in all (12 x 16 MiB before)
    assert v["sent"] == 2, v
    assert v["by_hash"] >= len(hops) - 1, v
    assert v["held"] == 3 and v["held_bytes"] > 3 * MIB16, v   # kept on each node once


def test_a_large_value_that_changes_at_every_hop_travels_inside_the_hop_and_is_not_kept(
        cluster, tmp_path):
    before = _values(cluster)
    out = cluster.run_file(write(tmp_path, "grow.py", GROWING), trace=True, timeout=120)
    assert out.error is None, out.traceback
    assert out.stdout == f"100009 {sum(i % 3 for i in range(9))}\n"
    after = _values(cluster)
    assert after == before, (before, after)   # nothing named by hash, nothing stored
    gets = [h["bytes"] for h in out.trace if h["why"].startswith("get")]
    assert len(gets) >= 6 and all(b > 100_000 for b in gets), out.trace


def test_a_large_local_the_same_at_each_hop_goes_by_hash_and_resumes_right(
        cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "local.py", BIG_LOCAL), trace=True, timeout=120)
    assert out.error is None, out.traceback
    expected = ([i % 3 + len(str(i * 7) * 40) for i in range(9)], 20_000)
    assert out.stdout == f"{expected}\n"
    sizes = [h["bytes"] for h in out.trace]
    first = next(i for i, size in enumerate(sizes) if size > 1 << 20)  # the table made
    assert len(sizes) - first >= 8 and max(sizes[first + 1:]) < 64 * 1024, sizes
    assert _values(cluster)["held"] >= 2


def test_held_values_are_kept_in_the_store_across_a_restart(tmp_path):
    """A node's held values are written with its sources: a hop taken before a restart
    that names one by hash still finds it after (here: the counts a restarted cluster
    reports)."""
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as c:
        out = c.run_file(write(tmp_path, "big.py", BIG_GLOBAL), timeout=120)
        assert out.error is None, out.traceback
        held = _values(c)["held"]
    assert held == 3
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as c:
        assert _values(c)["held"] == 3


def test_a_value_over_a_quarter_of_the_largest_message_travels_inside_every_hop(tmp_path):
    """A held value is a row of the store, copied to the mirror in one message: one over a
    quarter of max_message_bytes (here 8 MiB: 2 MiB) is never held, and goes inside the
    hops as before (in chunks)."""
    with swarm.local_cluster(3, max_message_bytes=8 << 20) as c:
        out = c.run_file(write(tmp_path, "big.py", BIG_GLOBAL), trace=True, timeout=180)
        assert out.error is None, out.traceback
        assert out.stdout == f"total {sum(i % 3 + i for i in range(12))} {MIB16}\n"
        assert all(h["bytes"] > MIB16 for h in out.trace), [h["bytes"] for h in out.trace]
        assert _values(c) == {"by_hash": 0, "sent": 0, "held": 0, "held_bytes": 0}


KEEPS_GOING = """
import time
from swarm import Ref, nodes
TABLE = bytes(range(256)) * 4096          # 1 MiB, the same throughout
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
total = 0
for step in range(30):
    total += refs[step % 3].get() + TABLE[step]
    time.sleep(0.05)
print("total", total, len(TABLE))
"""


def test_a_node_killed_while_programs_name_its_values_by_hash_loses_none(tmp_path):
    """n2 SIGKILLed while programs carrying a held value go round the nodes, and started
    again: the values it holds and named are on its disk (and the hops naming them are
    sent again), so every program ends with its total."""
    path = write(tmp_path, "going.py", KEEPS_GOING)
    expected = f"total {sum(s % 3 + s for s in range(30))} {1 << 20}\n"
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as c:
        programs = [c.submit(path, node=f"n{k % 3 + 1}") for k in range(3)]
        time.sleep(1.0)
        c.kill("n2")
        time.sleep(0.5)
        c.restart("n2")
        out = c.results(programs, timeout=180)
        for p in programs:
            assert out[p].error is None, out[p].traceback
            assert out[p].stdout == expected
        assert _values(c)["by_hash"] > 0


TWO_VALUES = """
from swarm import Ref, nodes
BLOB = bytes(range(256)) * (1 << 16)   # 16 MiB
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
total = 0
for i in range(12):
    if i == 6:
        EXTRA = bytes(2 << 20)          # 2 MiB, new when the nodes hold BLOB already
    total += refs[i % 3].get() + BLOB[i]
print("total", total)
"""


def test_a_node_holding_its_share_of_values_names_no_new_one_by_hash(tmp_path):
    """held_values_bytes bounds what a node keeps: past it, a new value travels inside the
    hops (as before), while what a node holds already is still named by hash."""
    with swarm.local_cluster(3, held_values_bytes=8 << 20) as c:  # (BLOB: past it)
        out = c.run_file(write(tmp_path, "two.py", TWO_VALUES), trace=True, timeout=180)
        assert out.error is None, out.traceback
        assert out.stdout == f"total {sum(i % 3 + i for i in range(12))}\n"
        sizes = [h["bytes"] for h in out.trace]
        assert sizes[0] > MIB16 and max(sizes[1:]) < MIB16, sizes  # BLOB by hash
        assert sum(size > 2 << 20 for size in sizes) >= 5, sizes  # EXTRA inside them
        v = _values(c)
        assert v["held"] == 3 and v["held_bytes"] < 3 * (MIB16 + (1 << 20)), v


SHARED = """
from swarm import Ref, nodes
import numpy as np
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
rows = [[i] * 3 for i in range(20_000)]                     # a table of lists...
row = rows[7]                                               # ...one of which a global names
base = np.arange(100_000, dtype=np.float64)                 # an array and a view of it
view = base[::2]
for i in range(6):
    refs[i % 3].get()
    row.append(i)
    base[0] += 1
print(len(rows[7]), rows[7] is row, np.shares_memory(base, view), view[0])
"""


def test_values_sharing_objects_with_the_rest_stay_shared_across_hops(cluster, tmp_path):
    """A large value that holds what another variable names (a table of lists, one of them
    also a global) or whose memory a view shares goes inside the hop, not by hash: pickled
    alone it would come back as a copy (before: `row` was no longer the table's row after
    a hop, and a numpy view no longer shared its base - a silent wrong result)."""
    out = cluster.run_file(write(tmp_path, "shared.py", SHARED), timeout=120)
    assert out.error is None, out.traceback
    assert out.stdout == "9 True True 6.0\n"
