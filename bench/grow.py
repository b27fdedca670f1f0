"""A cluster that grows (`swarm node add`, docs/nodes.md "Growing a cluster"): a 3-node local
cluster (replicas = 2) holding N Refs, two nodes added one after the other, each followed by
`swarm place --rebalance` (what `swarm node add --place` runs): how long the join takes, how long placement takes, what it moves, and the
balance (max/mean bytes) before and after.

    python -m bench.grow [--refs N] [--size BYTES]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import swarm
from cluster.apply import place
from cluster.policies import rebalance
from swarm.membership import add_local

FILL = """
from swarm import Ref
RESULT = len([Ref(bytes({size}), at=f"n{{i % 3 + 1}}") for i in range({n})])
"""


def main(refs: int = 3000, size: int = 1000) -> dict:
    directory = tempfile.mkdtemp(prefix="swarm-bench-grow-")
    rows = []
    try:
        with swarm.local_cluster(3, directory=directory) as cluster:
            path = os.path.join(directory, "fill.py")
            with open(path, "w") as f:
                f.write(FILL.format(n=refs, size=size))
            out = cluster.run_file(path, timeout=600)
            assert out.error is None, out.traceback
            for _ in range(2):
                t = time.perf_counter()
                name = add_local(cluster)
                joined = time.perf_counter() - t
                t = time.perf_counter()
                plan = place(cluster, policy=rebalance)
                placed = time.perf_counter() - t
                row = {"node": name, "join_s": joined, "place_s": placed,
                       "moves": len(plan.moves), "bytes_moved": plan.bytes_moved,
                       "balance_before": plan.balance_before,
                       "balance_after": plan.balance_after}
                rows.append(row)
                print(f"{name} joined in {joined:.2f} s; placement {placed:.2f} s, "
                      f"{len(plan.moves)} Refs moved ({plan.bytes_moved / 1e6:.1f} MB), "
                      f"balance {plan.balance_before:.2f} -> {plan.balance_after:.2f}",
                      flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("load:", os.getloadavg())
    return {"refs": refs, "size": size, "joins": rows}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--refs", type=int, default=3000)
    p.add_argument("--size", type=int, default=1000)
    a = p.parse_args()
    main(a.refs, a.size)
