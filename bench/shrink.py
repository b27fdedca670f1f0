"""A node leaves (`swarm node remove`, docs/nodes.md "Removing a node"): a 4-node local cluster
(replicas = 2) holding N Refs spread evenly. n2 is removed while it runs (its mirror n3 takes
its store), then `swarm place --rebalance` spreads what n3 took; then n4 is SIGKILLed and
removed with `--force` (failover by hand: n1, its mirror, takes its copy). For each: how long
the command takes, and how long until a program reads one of the node's Refs from its heir.
Last, failover without an operator (`failover = 2` in the file of a 3-node cluster): n2 is
SIGKILLed, and a program reads one of its Refs as soon as it can - the time from the kill.

    python -m bench.shrink [--refs N] [--size BYTES]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import tempfile
import time

import swarm
from cluster.apply import place
from cluster.policies import rebalance
from swarm.adoption import remove
from swarm.fencing import reload_fences

FILL = """
import swarm
from swarm import Ref
RESULT = []
for node in ("n1", "n2", "n3", "n4"):  # (made where they live: no question per Ref)
    swarm.move_to(node)
    made = [Ref(bytes({size})) for _ in range({n} // 4)]
    RESULT.append([[r.id, r.hint] for r in made[:1]][0])
"""
READ = "import json, sys\nfrom swarm.refs import Ref\nRESULT = len(Ref._handle(*json.loads(sys.argv[1])).get())\n"


def _read(cluster, path: str, handle) -> float:
    t = time.perf_counter()
    out = cluster.run_file(path, argv=[json.dumps(handle)], timeout=120)
    assert out.error is None, out.traceback
    return time.perf_counter() - t


def main(refs: int = 4000, size: int = 1000) -> dict:
    directory = tempfile.mkdtemp(prefix="swarm-bench-shrink-")
    rows = {}
    try:
        with swarm.local_cluster(4, directory=directory) as cluster:
            fill, read = (os.path.join(directory, f) for f in ("fill.py", "read.py"))
            with open(fill, "w") as f:
                f.write(FILL.format(n=refs, size=size))
            with open(read, "w") as f:
                f.write(READ)
            handles = cluster.run_file(fill, timeout=600).value
            time.sleep(2.0)  # (the copies catch up)
            for name, kill in (("n2", False), ("n4", True)):
                mine = handles[int(name[1]) - 1]  # (a Ref made there)
                t = time.perf_counter()
                if kill:
                    os.kill(cluster.procs[name].pid, signal.SIGKILL)
                    cluster.procs[name].wait()
                heir = remove(cluster.config.path, name, force=kill, say=lambda text: None)
                took = time.perf_counter() - t
                reload_fences(cluster)
                served = took + _read(cluster, read, mine)
                t = time.perf_counter()
                plan = place(cluster, policy=rebalance)
                placed = time.perf_counter() - t
                rows[name] = {"heir": heir, "killed": kill, "remove_s": took,
                              "served_s": served, "place_s": placed,
                              "moves": len(plan.moves),
                              "balance_after": plan.balance_after}
                print(f"{name} {'killed, removed with --force' if kill else 'removed'} in "
                      f"{took:.2f} s ({heir} took its {refs // 4} Refs); one of them read "
                      f"{served:.2f} s after the start; rebalance {placed:.2f} s, "
                      f"{len(plan.moves)} moves, balance {plan.balance_after:.2f}", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    rows["failover"] = failover(refs, size)
    print("load:", os.getloadavg())
    return {"refs": refs, "size": size, "removals": rows}


def failover(refs: int, size: int, after: float = 2.0) -> dict:
    """A 3-node cluster with `failover = after`: n2 (a third of the Refs) SIGKILLed; the
    seconds until a program reads one of its Refs (served by n3, its heir)."""
    directory = tempfile.mkdtemp(prefix="swarm-bench-failover-")
    try:
        with swarm.local_cluster(3, directory=directory, failover=after) as cluster:
            fill, read = (os.path.join(directory, f) for f in ("fill.py", "read.py"))
            with open(fill, "w") as f:
                f.write(FILL.replace('"n4")', ')').format(n=refs * 4 // 3, size=size))
            with open(read, "w") as f:
                f.write(READ)
            handles = cluster.run_file(fill, timeout=600).value
            time.sleep(2.0)  # (the copies catch up)
            t = time.perf_counter()
            os.kill(cluster.procs["n2"].pid, signal.SIGKILL)
            cluster.procs["n2"].wait()
            served = time.perf_counter() - t + _read(cluster, read, handles[1])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"failover = {after:g}: n2 SIGKILLed holding {refs // 3} Refs; one of them read "
          f"{served:.2f} s after the kill", flush=True)
    return {"after_s": after, "served_s": served, "load": os.getloadavg()[0]}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--refs", type=int, default=4000)
    p.add_argument("--size", type=int, default=1000)
    a = p.parse_args()
    main(a.refs, a.size)
