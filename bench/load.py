"""Load: many programs parked at once on a 3-node cluster, and what a parked one costs.

`python -m bench.load [N [DEEP]]` (default 10,000 and 3,000) starts a local 3-node cluster
and
- submits N programs to n1 without waiting for any (Cluster.submit); program i moves to the
  gate of node i mod 3 - a Future that nothing resolves yet - and parks there;
- asks every node's status until all N wait at their gates (`awaiting`; then `parked`, all
  the programs parked on the node, must be as many: the peak), and reads each node's resident
  memory (VmRSS in /proc) then, against a reading taken before the programs came;
- submits a release program that resolves the three gates, and collects all N outcomes
  (Cluster.results), each checked against the answer program i must give.

Memory per parked program, per node: (RSS at the peak - RSS before) / programs parked there.
The pickled continuation of a parked program is the hop that took it to its gate (a traced
warm-up program). Then the same with DEEP programs that park 50 calls deeper, on a fresh
cluster: what each frame adds. tests/test_load.py and tests/faults/test_load_long.py run the same
`run_load` with fewer or as many programs and assert on its report.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time

#: program i: argv = gate id, the gate's node, i, depth. It parks at the gate `depth` calls
#: deep, then answers.
WAIT = '''
import sys
from swarm import here
from swarm.futures import Future


def wait_at(gate, i, depth):
    if depth:
        return wait_at(gate, i, depth - 1)
    mine = [i, i * i]
    opened = gate.get()        # moves to the gate's node and parks there until released
    return mine + [opened, here()]


RESULT = wait_at(Future(sys.argv[1], sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
'''

#: argv = gate id, then the nodes whose gate to open: resolving a future wakes its waiters.
RELEASE = '''
import sys
from swarm.futures import Future, finish_task

for home in sys.argv[2:]:
    finish_task(Future(sys.argv[1], home), "open", None)   # moves to `home` to resolve it
RESULT = "released"
'''


def rss_kib(pid: int) -> int:
    """A process's resident memory (VmRSS), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError(f"no VmRSS for pid {pid}")


def expected(i: int, nodes: list[str]) -> list:
    """What program i answers."""
    return [i, i * i, "open", nodes[i % len(nodes)]]


class Gated:
    """Programs that park at gates (one per node) until a release program opens them."""

    def __init__(self, cluster, directory: str) -> None:
        self.cluster, self.nodes = cluster, cluster.config.names
        self.wait = os.path.join(directory, "wait.py")
        self.release_path = os.path.join(directory, "release.py")
        for path, text in ((self.wait, WAIT), (self.release_path, RELEASE)):
            with open(path, "w") as f:
                f.write(text)
        self.gate = f"gate-{secrets.token_hex(4)}"  # new gates: nothing waits there yet
        self.ids: list[str] = []

    def submit(self, n: int, depth: int = 0, **options) -> list[str]:
        """Submit programs i = 0..n-1 (to n1, without waiting): i parks at node i mod 3,
        `depth` calls deeper than its first function."""
        self.ids = [self.cluster.submit(self.wait, [self.gate, self.nodes[i % len(self.nodes)],
                                                    str(i), str(depth)], **options)
                    for i in range(n)]
        return self.ids

    def release(self, timeout: float) -> None:
        out = self.cluster.run_file(self.release_path, argv=[self.gate, *self.nodes],
                                    timeout=timeout)
        if out.value != "released":
            raise RuntimeError(f"the release program failed: {out.error}")

    def collect(self, timeout: float) -> tuple[dict, list]:
        """The outcomes by program id, and the wrong ones: (i, value, error)."""
        outcomes = self.cluster.results(self.ids, timeout)
        wrong = [(i, o.value, o.error) for i, o in enumerate(outcomes[p] for p in self.ids)
                 if o.error is not None or o.value != expected(i, self.nodes)]
        return outcomes, wrong


def run_load(cluster, n: int, depth: int = 0, timeout: float = 600.0) -> dict:
    """Park `n` programs at once on `cluster` (a LocalCluster: its node processes are read
    in /proc), `depth` calls deep, release them, collect them. The report: programs, peak
    parked per node,
    seconds, RSS (KiB) before and at the peak per node, outcomes that were wrong (with the
    first few), continuation bytes, hops resent."""
    nodes = cluster.config.names
    with tempfile.TemporaryDirectory(prefix="swarm-load-") as tmp:
        # warm-up: every node has run the program once (imports, compiled code, the store)
        warm = Gated(cluster, tmp)
        warm.submit(len(nodes), depth, trace=True)
        wait_parked(cluster, len(nodes), timeout)
        warm.release(timeout)
        outcomes, _ = warm.collect(timeout)
        hops = [h for o in outcomes.values() for h in o.trace if h["why"] == "Future.get"]
        continuation_bytes = max(h["bytes"] for h in hops) if hops else None

        before = {name: rss_kib(p.pid) for name, p in cluster.procs.items()}
        resent = sum(row["resent"] for row in cluster.status())
        load = Gated(cluster, tmp)
        start = time.perf_counter()
        load.submit(n, depth)
        submitted = time.perf_counter() - start
        peak = wait_parked(cluster, n, timeout)
        parked_at = time.perf_counter() - start
        at_peak = {name: rss_kib(p.pid) for name, p in cluster.procs.items()}
        load.release(timeout)
        outcomes, wrong = load.collect(timeout)
        seconds = time.perf_counter() - start
        after = {row["node"]: row for row in cluster.status()}

    return {
        "programs": n, "depth": depth, "completed": n - len(wrong), "wrong": len(wrong),
        "first_wrong": wrong[:5],
        "peak_awaiting": {name: peak[name]["awaiting"] for name in nodes},
        "peak_parked": {name: peak[name]["parked"] for name in nodes},
        "peak_running": {name: peak[name]["running"] for name in nodes},
        "parked_after": {name: after[name]["parked"] for name in nodes if name in after},
        "resent": sum(row["resent"] for row in after.values()) - resent,
        "submit_seconds": round(submitted, 2), "parked_seconds": round(parked_at, 2),
        "seconds": round(seconds, 2), "programs_per_second": round(n / seconds, 1),
        "rss_before_kib": before, "rss_peak_kib": at_peak,
        "rss_per_parked_kib": {name: round((at_peak[name] - before[name])
                                           / max(1, peak[name]["parked"]), 2)
                               for name in nodes},
        "continuation_bytes": continuation_bytes,
    }


def wait_parked(cluster, n: int, timeout: float) -> dict:
    """Ask the nodes' status until `n` programs wait for futures (at the gates) in all; the
    status rows of that moment."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {row["node"]: row for row in cluster.status()}
        if len(rows) == len(cluster.config.names) and \
                sum(row["awaiting"] for row in rows.values()) >= n:
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} programs were not parked in {timeout}s: {rows}")
        time.sleep(0.1)


def main(n: int = 10_000, deep: int = 3_000, depth: int = 50) -> dict:
    """`n` programs parked 2 calls deep (module level, wait_at), then `deep` programs parked
    `depth` calls deeper, each on a fresh 3-node cluster."""
    import swarm

    report = {}
    for count, calls in ((n, 0), (deep, depth)):
        print(f"\n{count:,} programs parked at once on 3 nodes, {calls + 2} frames deep, "
              "then released")
        with swarm.local_cluster(3) as cluster:
            r = report[f"depth {calls}"] = run_load(cluster, count, calls)
        print(f"programs {r['programs']:,}, completed correctly {r['completed']:,}, "
              f"wrong {r['wrong']} {r['first_wrong']}")
        print(f"peak parked: {r['peak_parked']} (of {sum(r['peak_parked'].values()):,}); "
              f"waiting at the gates: {r['peak_awaiting']}; running: {r['peak_running']}")
        print(f"seconds: {r['seconds']} (all submitted at {r['submit_seconds']} s, all parked "
              f"at {r['parked_seconds']} s); {r['programs_per_second']} programs/s")
        for name in r["peak_parked"]:
            print(f"  {name}: RSS {r['rss_before_kib'][name] / 1024:.1f} -> "
                  f"{r['rss_peak_kib'][name] / 1024:.1f} MiB, "
                  f"{r['rss_per_parked_kib'][name]:.1f} KiB per parked program")
        print(f"pickled continuation of a parked program: {r['continuation_bytes']} bytes")
        print(f"hops resent (unacknowledged after 1 s): {r['resent']}")
        r["errors"] = r["wrong"] + (r["peak_parked"] != r["peak_awaiting"])
    report["errors"] = sum(r["errors"] for r in report.values())
    return report


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
