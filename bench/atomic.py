"""Atomic blocks against SQLite transactions, on the same machine in the same run (issue 20).

Method (`python -m bench.atomic`): a 3-node local cluster; one program runs 300 blocks of
each kind one after another (bench/programs/blocks.py): a one-node block (`with
swarm.atomic()`: read and write a Ref on the program's node), the same as an `@atomic`
function, a two-node block (a transfer between a Ref on the program's node and one on
another: prepare, check, commit), and `Ref.update` for scale; each block timed inside the
program. Then SQLite in this process, in WAL mode with synchronous=NORMAL (as the nodes'
stores): 300 transactions `BEGIN; SELECT; UPDATE; COMMIT` on one row. Blocks per second
(one program, one after another) and p50/p99 latency.

Discussion: a node commits a block's writes with its ledger (a group commit every few ms),
and its answer waits for that write; SQLite commits each transaction itself. Both write to
the same disk.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time

import swarm

N = 300
PROGRAM = os.path.join(os.path.dirname(__file__), "programs", "blocks.py")


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"per_second": round(len(times) / sum(times), 1),
            "p50_ms": round(statistics.median(ordered) * 1e3, 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1e3, 3)}


def sqlite_transactions(n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(os.path.join(d, "bench.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)")
        db.execute("INSERT INTO t VALUES (1, 0)")
        times = []
        for _ in range(n):
            start = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            (v,) = db.execute("SELECT v FROM t WHERE k = 1").fetchone()
            db.execute("UPDATE t SET v = ? WHERE k = 1", (v + 1,))
            db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        db.close()
    return times


def main() -> dict:
    with swarm.local_cluster(3) as c:
        out = c.run_file(PROGRAM, argv=[str(N)], timeout=600)
        if out.error:
            return {"errors": [out.error]}
        result = {kind: _summary(times) for kind, times in out.value.items()}
    result["sqlite"] = _summary(sqlite_transactions(N))
    for kind, s in result.items():
        print(f"{kind:10} {s['per_second']:8.1f} /s  p50 {s['p50_ms']:8.3f} ms  "
              f"p99 {s['p99_ms']:8.3f} ms")
    return result


if __name__ == "__main__":
    main()
