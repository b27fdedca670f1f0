"""The cost of copies of stores (docs/nodes.md, "Copies of a node's store"), side by side in
one run: the same programs on a 3-node local cluster with `replicas = 1` and `replicas = 2`,
alternating, `--repeat` times.

    python -m bench.replication [--rounds N] [--repeat R]

- two hops: a program moving n1 -> n2 -> n1 (each hop is a write on the node it reaches,
  acknowledged once written: with a mirror, once the copy has it too), median round trip;
- write: `r.set(i)` of a Ref on the program's own node followed by a hop (the hop waits for
  the write), median;
- restore: the time a node with its directory deleted takes to start again from its
  mirror's copy holding N Refs (replicas = 2 only).
Prints a table of microseconds; BENCHMARKS.md has the figures with the machine and load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import swarm

TWO_HOPS = """
import time
from swarm import move_to
out = []
for i in range({warm} + {rounds}):
    t = time.perf_counter_ns()
    move_to("n2")
    move_to("n1")
    out.append(time.perf_counter_ns() - t)
RESULT = out[{warm}:]
"""

WRITE = """
import time
from swarm import Ref, move_to
r = Ref(0)
out = []
for i in range({warm} + {rounds}):
    t = time.perf_counter_ns()
    r.set(i)
    move_to("n2")
    move_to("n1")
    out.append(time.perf_counter_ns() - t)
RESULT = out[{warm}:]
"""

FILL = """
from swarm import Ref
RESULT = [Ref(b"x" * 100, at="n2").id for _ in range({n})]
"""


def _run(cluster, source: str, **fmt) -> list:
    path = os.path.join(cluster.directory, "p.py")
    with open(path, "w") as f:
        f.write(source.format(**fmt))
    out = cluster.run_file(path, timeout=600)
    assert out.error is None, out.traceback
    return out.value


def measure(replicas: int, rounds: int, restore_refs: int) -> dict:
    directory = tempfile.mkdtemp(prefix="swarm-bench-repl-")
    try:
        with swarm.local_cluster(3, directory=directory, replicas=replicas) as cluster:
            hops = _run(cluster, TWO_HOPS, warm=50, rounds=rounds)
            writes = _run(cluster, WRITE, warm=50, rounds=rounds)
            row = {"two_hops_us": statistics.median(hops) / 1e3,
                   "write_and_hops_us": statistics.median(writes) / 1e3}
            if replicas == 2 and restore_refs:
                ids = _run(cluster, FILL, n=restore_refs)
                time.sleep(3)  # (the copy whole: the next check of the mirror)
                cluster.kill("n2")
                shutil.rmtree(cluster.config.nodes["n2"].dir)
                t = time.perf_counter()
                cluster.restart("n2")
                cluster.wait_ready()
                row["restore_s"] = time.perf_counter() - t
                row["restored_refs"] = len(ids)
            return row
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=500)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--restore-refs", type=int, default=10_000)
    a = p.parse_args()
    rows = []
    for _ in range(a.repeat):
        for k in (1, 2):
            row = measure(k, a.rounds, a.restore_refs)
            rows.append((k, row))
            print(f"replicas={k}: " + ", ".join(f"{n} {v:,.1f}" for n, v in row.items()),
                  flush=True)
    for k in (1, 2):
        mine = [r for kk, r in rows if kk == k]
        print(f"replicas={k} median of runs: two hops "
              f"{statistics.median(r['two_hops_us'] for r in mine):,.0f} us, write + two "
              f"hops {statistics.median(r['write_and_hops_us'] for r in mine):,.0f} us")
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
