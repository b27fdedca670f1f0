"""Gathering many futures (swarm/node/futurewait.py): a get() of a small finished result
reads ahead the finished results of the same home the program spawned; what each get()
returns is what it returned before - the task's value (a private copy), its error, or a
large result read where it is."""

from helpers import write

import swarm

GATHER = """
import time
from swarm import TaskFailed, here, spawn

def work(i):
    if i % 7 == 3:
        raise ValueError(f"bad {i}")
    if i == 50:
        return bytes(100_000)          # large: get() moves to it
    return [i, i * i]

fs = [spawn(work, i) for i in range(120)]
time.sleep(1.0)                        # (most are done: their results are read ahead)
got = []
for f in fs:
    try:
        v = f.get()
    except TaskFailed as e:
        got.append(str(e))
    else:
        got.append(len(v) if isinstance(v, bytes) else v)
again = fs[11].get()
again.append("mine")                   # a private copy: the next get() is unchanged
RESULT = (got, fs[11].get(), here())
"""

def test_gathering_many_futures_reads_ahead_and_returns_what_get_returns(tmp_path):
    expected = [f"ValueError: bad {i}" if i % 7 == 3 else 100_000 if i == 50 else [i, i * i]
                for i in range(120)]
    with swarm.local_cluster(3) as cluster:
        out = cluster.run_file(write(tmp_path, "gather.py", GATHER), timeout=180)
        assert out.error is None, out.traceback
        got, again, _ = out.value
        assert got == expected
        assert again == [11, 121]
        status = cluster.status()
        # results of other nodes' tasks came with another's answer, not one question each
        assert sum(row["read_ahead"] for row in status) > 20, status
