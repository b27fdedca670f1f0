"""A large value fetched from a node of the same host is its store file mapped, not sent
(swarm/node/bulkmaps.py): real nodes, real files; the cross-host path in
test_multihost.py."""

import os

import numpy as np
from helpers import node_log, write

import swarm

N = 2**20  # float64s: 8 MiB, over bulkfiles.FILE_MIN (a value kept in a file)

BASES = """
def bases(a):
    '''What an array sits on, from the array down: ['ndarray', ..., 'mmap'] if mapped.'''
    out, obj = [], a
    while obj is not None and len(out) < 12:
        out.append(type(obj).__name__)
        obj = obj.obj if isinstance(obj, memoryview) else getattr(obj, "base", None)
    return out
"""

MAKE = BASES + """
import sys
import numpy as np
from swarm import Ref, here
r = Ref(np.arange(int(sys.argv[1]), dtype=np.float64), at="n2")
a = r.get()
print(here(), bases(a)[-1], a.flags.writeable, float(a.sum()), float(a[12345]))
RESULT = (r.id, r.hint)
"""

READ = BASES + """
import sys
from swarm import Ref, here
a = Ref._handle(sys.argv[1], sys.argv[2]).get()
print(here(), bases(a)[-1], float(a.sum()), float(a[-1]))
"""


def _status(cluster, name: str) -> dict:
    return {row["node"]: row for row in cluster.status()}[name]


def _files(cluster, name: str) -> set[str]:
    return set(os.listdir(os.path.join(cluster.config.nodes[name].dir, "values")))


def _run(cluster, tmp_path, name: str, source: str):
    """The program, fetching, with an array of N float64s; it must not fail."""
    out = cluster.run_file(write(tmp_path, name, source), argv=[str(N)], policy="fetch",
                           timeout=120)
    assert out.error is None, out.traceback
    return out


def test_a_fetch_on_one_host_maps_the_file_and_a_changed_file_is_refused(tmp_path):
    total = float(np.arange(N, dtype=np.float64).sum())
    with swarm.local_cluster(2) as cluster:
        out = _run(cluster, tmp_path, "make.py", MAKE)
        # read on n1, on a map of n2's file: right, read-only, no bytes sent
        assert out.stdout == f"n1 mmap False {total} 12345.0\n"
        assert _status(cluster, "n1")["mapped"] == 1
        ref_id, hint = out.value
        (name,) = _files(cluster, "n2")

        read = write(tmp_path, "read.py", READ)
        again = cluster.run_file(read, argv=[ref_id, hint], policy="fetch", timeout=120)
        assert again.stdout == f"n1 mmap {total} {float(N - 1)}\n", again.traceback

        # the file changes behind the nodes' back (its last float): n1 refuses to map it,
        # says why, and fetches the value as bytes - the value n2 holds, not the changed file
        path = os.path.join(cluster.config.nodes["n2"].dir, "values", name)
        os.chmod(path, 0o600)
        with open(path, "r+b") as f:
            f.seek(-8, os.SEEK_END)
            f.write(np.float64(-1.0).tobytes())
        changed = cluster.run_file(read, argv=[ref_id, hint], policy="fetch", timeout=120)
        assert changed.error is None, changed.traceback
        assert changed.stdout.split()[0] == "n1" and changed.stdout.split()[1] != "mmap"
        assert changed.stdout.split()[2:] == [str(total), str(float(N - 1))]
        assert _status(cluster, "n1")["maps_refused"] == 1
        logged = node_log(cluster, "n1")
        assert f"Ref({ref_id!r}): not mapping the file n2 offered" in logged
        assert f"{name} is not the file n2 sealed" in logged


SET_AGAIN = BASES + """
import os, sys
import numpy as np
from swarm import Ref, here, move_to
n = int(sys.argv[1])
r = Ref(np.arange(n, dtype=np.float64), at="n2")
a = r.get()                                   # on n2's file
r.set(np.ones(n))                             # a new file; the old one goes
b = r.get()
print(here(), bases(a)[-1], float(a.sum()), bases(b)[-1], float(b.sum()))
copy = Ref(a, at="n3")                        # a mapped array stored again, elsewhere
move_to("n3")                                 # carried in the program: its bytes travel
print(here(), float(a.sum()), float(copy.get().sum()))
"""


def test_a_mapped_value_outlives_its_file_is_stored_again_and_travels(tmp_path):
    total = float(np.arange(N, dtype=np.float64).sum())
    with swarm.local_cluster(3) as cluster:
        out = _run(cluster, tmp_path, "again.py", SET_AGAIN)
        assert out.stdout == (f"n1 mmap {total} mmap {float(N)}\n"
                              f"n3 {total} {total}\n")
        assert out.route == ["n1", "n3"]
        assert _status(cluster, "n1")["mapped"] == 2
        assert len(_files(cluster, "n2")) == 1  # the first file went when set replaced it
