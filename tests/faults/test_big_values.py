"""Values of every size on real nodes: created, read by migrating and by fetching, kept across
a restart, sent in chunks; a value over the cluster's limit refused where it is made.

`make test` runs it with a 256 MiB numpy array; `make faults` (SWARM_LONG=1) with 1 GiB and
4 GiB. Each program checks every element it reads (by slices, against numpy's arange), not
only a sum.
"""

import pytest
from conftest import LONG
from helpers import write

import swarm

SIZES_MIB = [1024, 4096] if LONG else [256]

MAKE = """
import sys
import numpy as np
from swarm import Ref, here, move_to
n = int(sys.argv[1]) * 2**20 // 8
move_to("n2")
a = np.arange(n, dtype=np.float64)
r = Ref(a)              # made on n2: the array is copied once into the Ref's value
del a
move_to("n1")
RESULT = (r.id, r.hint)
"""

READ = """
import sys
import numpy as np
from swarm import Ref, here
n = int(sys.argv[3]) * 2**20 // 8
r = Ref._handle(sys.argv[1], sys.argv[2])
v = r.get()
step = 1 << 24
same = v.shape == (n,) and v.dtype == np.float64 and all(
    (v[i:i + step] == np.arange(i, min(i + step, n), dtype=np.float64)).all()
    for i in range(0, n, step))
RESULT = (here(), same, bool(v.flags.writeable))
"""


@pytest.mark.parametrize("mib", SIZES_MIB)
def test_a_large_array_is_made_read_by_migrating_and_fetching_and_survives_a_restart(
        tmp_path, mib):
    make, read = write(tmp_path, "make.py", MAKE), write(tmp_path, "read.py", READ)
    with swarm.local_cluster(2) as cluster:
        made = cluster.run_file(make, argv=[str(mib)], timeout=900)
        assert made.error is None, made.traceback
        ref_id, hint = made.value
        argv = [ref_id, hint, str(mib)]
        for policy, where in (("migrate", "n2"), ("fetch", "n1")):
            out = cluster.run_file(read, argv=argv, policy=policy, timeout=900)
            assert out.error is None, out.traceback
            assert out.value == (where, True, False), (policy, out.value)
        cluster.kill("n2")
        cluster.restart("n2")
        cluster.wait_ready()
        for policy, where in (("fetch", "n1"), ("migrate", "n2")):
            out = cluster.run_file(read, argv=argv, policy=policy, timeout=900)
            assert out.error is None, out.traceback
            assert out.value == (where, True, False), (policy, out.value)
        stored = {row["node"]: row for row in cluster.status()}["n2"]["bytes"]
        assert stored >= mib * 2**20


CARRY = """
import numpy as np
from swarm import Ref, here, move_to
big = np.arange(3 * 2**20, dtype=np.int64)          # 24 MiB in a local: the hop carries it
r = Ref(big[::3], at="n2")                           # a view, created on n2
move_to("n3")
v = r.get()                                          # back on n2
print(here(), v.base is not None, v.shape, int(v[-1]), int(big[-1]), v.flags.writeable)
"""


def test_messages_over_the_cap_go_in_chunks_never_dropped(tmp_path):
    """max_message_bytes of 1 MiB: every hop here carries 24 MiB and more (in chunks of
    512 KiB); under the fetch policy the Ref is made and read with 8 MiB messages."""
    with swarm.local_cluster(3, max_message_bytes=1 << 20, hop_timeout=30) as cluster:
        path = write(tmp_path, "carry.py", CARRY)
        out = cluster.run_file(path, timeout=120)
        assert out.error is None, out.traceback
        assert out.stdout == "n2 True (1048576,) 3145725 3145727 False\n"
        fetched = cluster.run_file(path, policy="fetch", timeout=120)
        assert fetched.error is None, fetched.traceback
        assert fetched.stdout == "n3 True (1048576,) 3145725 3145727 False\n"  # (move_to moves)
        refused = sum(row["refused"] for row in cluster.status())
        assert refused == 0


OVER = """
import numpy as np
from swarm import Ref
small = Ref(np.zeros(1000), at="{at}")
try:
    Ref(np.zeros(2 * 2**20), at="{at}")             # 16 MiB
except ValueError as e:
    print(type(e).__name__, "at", e.__traceback__.tb_lineno, "|", e)
try:
    small.set(bytes(20 * 2**20))
except ValueError as e:
    print(type(e).__name__, "at", e.__traceback__.tb_lineno, "|", e)
try:
    Ref([str(i) for i in range(2_000_000)])          # not a buffer: measured as encoded
except ValueError as e:
    print(type(e).__name__, "at", e.__traceback__.tb_lineno, "|", e)
print(small.get().shape)
"""


@pytest.mark.parametrize("at", ["n1", "n2"])
def test_a_value_over_the_limit_is_refused_where_it_is_made(tmp_path, at):
    with swarm.local_cluster(2, max_value_bytes=8 << 20) as cluster:
        out = cluster.run_file(write(tmp_path, "over.py", OVER.format(at=at)), timeout=60)
        assert out.error is None, out.traceback
        lines = out.stdout.splitlines()
        assert lines[-1] == "(1000,)"
        for line, lineno, size in zip(lines[:3], (6, 10, 14), ("16.0 MiB", "20.0 MiB", "MiB"),
                                      strict=True):
            assert line.startswith(f"ValueTooLarge at {lineno} | the value is"), line
            assert size in line and "over the cluster's max_value_bytes of 8.0 MiB" in line


HOLDS = """
from swarm import Ref, move_to
big = bytes(12 * 2**20)
move_to("n2")                                        # the continuation holds 12 MiB
print("never")
"""


def test_a_continuation_over_the_limit_fails_its_program_clearly(tmp_path):
    with swarm.local_cluster(2, max_value_bytes=8 << 20) as cluster:
        out = cluster.run_file(write(tmp_path, "holds.py", HOLDS), timeout=60)
        assert out.stdout == ""
        assert out.error.startswith("ValueTooLarge: the program's continuation at `move_to`")
        assert "over the cluster's max_value_bytes of 8.0 MiB" in out.error
