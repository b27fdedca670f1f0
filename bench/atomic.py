"""Atomic blocks against SQLite transactions, on the same machine in the same run (issue 20).

Method (`python -m bench.atomic`): a 3-node local cluster; one program runs 300 blocks of
each kind one after another (bench/programs/blocks.py): a one-node block (`with
swarm.atomic()`: read and write a Ref on the program's node), the same as an `@atomic`
function, a two-node block (a transfer between a Ref on the program's node and one on
another: prepare, check, commit), and `Ref.update` for scale; each block timed inside the
program. Then SQLite in this process, in WAL mode with synchronous=NORMAL (as the nodes'
stores): 300 transactions `BEGIN; SELECT; UPDATE; COMMIT` on one row. Blocks per second
(one program, one after another) and p50/p99 latency.

The cost of a conflict (`conflict_cost`): K programs at once, each running N two-node
`@atomic` transfers of 1 from a Ref on n1 to one on n2 - first each between Refs of its own
(no conflict), then all between the same two Refs (blocks that overlap conflict and run
again after their pause). (One-node blocks of programs on one node do not overlap: a block
that waits for nothing runs to its commit before the node switches programs.) The wall
time of the whole batch each way, the conflicts the nodes counted (`swarm status`
"blocks"), and the extra time over the conflicts: what a conflict costs the batch. Every
transfer must be kept (K x N).

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
PROGRAMS = os.path.join(os.path.dirname(__file__), "programs")
PROGRAM = os.path.join(PROGRAMS, "blocks.py")
CONTEND, COUNTERS = os.path.join(PROGRAMS, "contend.py"), os.path.join(PROGRAMS, "counters.py")
READ = os.path.join(PROGRAMS, "sum_refs.py")


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


def _batch(c, pairs: list[tuple[str, str]], n: int) -> tuple[float, int, int]:
    """Run one contend.py program per pair of Ref ids (all at once); their wall time, the
    nodes' conflicts meanwhile, and the sum of the receiving Refs' values after."""
    def conflicts() -> int:
        return sum(row["blocks"]["conflicts"] for row in c.status())

    before = conflicts()
    start = time.perf_counter()
    programs = [c.submit(CONTEND, argv=[str(n), a, b]) for a, b in pairs]
    outcomes = c.results(programs, timeout=600)
    seconds = time.perf_counter() - start
    errors = [o.error for o in outcomes.values() if o.error]
    if errors:
        raise RuntimeError(f"contend.py failed: {errors[0]}")
    total = c.run_file(READ, argv=list(dict.fromkeys(b for _, b in pairs)), timeout=60).value
    return seconds, conflicts() - before, total


def conflict_cost(c, k: int = 4, n: int = 100) -> dict:
    """What a conflict costs (see the module's docstring): K programs x N blocks."""
    def pairs(count: int) -> list[tuple[str, str]]:
        return list(zip(c.run_file(COUNTERS, argv=[str(count), "n1"], timeout=60).value,
                        c.run_file(COUNTERS, argv=[str(count), "n2"], timeout=60).value, strict=True))

    own, shared = pairs(k), pairs(1) * k
    apart, apart_conflicts, apart_total = _batch(c, own, n)
    together, conflicts, together_total = _batch(c, shared, n)
    if apart_total != k * n or together_total != k * n:
        raise RuntimeError(f"transfers lost: {apart_total} and {together_total} of {k * n}")
    result = {"programs": k, "blocks_each": n, "apart_s": round(apart, 3),
              "apart_conflicts": apart_conflicts, "together_s": round(together, 3),
              "conflicts": conflicts,
              "attempts_per_commit": round((k * n + conflicts) / (k * n), 2),
              "ms_per_conflict": round((together - apart) / conflicts * 1e3, 3)
              if conflicts else None}
    print(f"conflicts  {k} programs x {n} blocks: {apart:.2f} s on Refs of their own "
          f"({apart_conflicts} conflicts), {together:.2f} s on one Ref ({conflicts} "
          f"conflicts, {result['attempts_per_commit']} attempts a commit): "
          f"{result['ms_per_conflict']} ms a conflict")
    return result


def main() -> dict:
    with swarm.local_cluster(3) as c:
        out = c.run_file(PROGRAM, argv=[str(N)], timeout=600)
        if out.error:
            return {"errors": [out.error]}
        result = {kind: _summary(times) for kind, times in out.value.items()}
        conflicts = conflict_cost(c)
    result["sqlite"] = _summary(sqlite_transactions(N))
    for kind, s in result.items():
        print(f"{kind:10} {s['per_second']:8.1f} /s  p50 {s['p50_ms']:8.3f} ms  "
              f"p99 {s['p99_ms']:8.3f} ms")
    result["conflicts"] = conflicts
    return result


if __name__ == "__main__":
    main()
