"""Garbage collection (`swarm gc`): programs that each make temporary Refs, then a collection -
how much of the stores it gives back, and what a cycle costs.

    python -m bench.gc [PROGRAMS]     (default 2,000; tests/faults/test_gc_long.py: 10,000)

What it reports: Refs and bytes stored on all nodes before the programs (a Dict of 200
entries and a named Ref: data that stays), after them, and after one collection; the time of
a cycle without its wait for messages in flight (marks, ends and sweeps over every node),
and of a dry run's marks alone; the SQLite files' sizes (SQLite keeps the pages it freed
for its next writes: the file does not shrink, later writes reuse them)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import swarm

SETUP = """
from swarm import Ref, Dict
d = Dict("stays")
for i in range(200):
    d[i] = ("an entry that stays", i)
Ref.named("stays").set([Ref("held by a named Ref") for _ in range(10)])
"""

TEMPORARY = """
import sys
from swarm import Ref, move_to, nodes
i = int(sys.argv[1])
here = [Ref(("scratch", i, k)) for k in range(3)]
move_to(nodes()[i % len(nodes())])
there = [Ref(("more scratch", i, k)) for k in range(2)]
RESULT = sum(len(r.get()) for r in here + there)      # (the last read moves it back)
"""


def stored(cluster) -> dict:
    rows = cluster.status()
    return {"refs": sum(r["refs"] for r in rows), "bytes": sum(r["bytes"] for r in rows)}


def files_bytes(cluster) -> int:
    total = 0
    for spec in cluster.config.nodes.values():
        for name in os.listdir(spec.dir):
            if name.startswith("store.sqlite"):
                total += os.path.getsize(os.path.join(spec.dir, name))
    return total


def report(cluster, directory: str, programs: int, width: int = 100) -> dict:
    setup = os.path.join(directory, "setup.py")
    temporary = os.path.join(directory, "temporary.py")
    for path, text in ((setup, SETUP), (temporary, TEMPORARY)):
        with open(path, "w") as f:
            f.write(text)
    out = cluster.run_file(setup, timeout=300)
    if out.error:
        raise AssertionError(out.traceback)
    start = stored(cluster)
    t0 = time.time()
    for first in range(0, programs, width):
        ids = [cluster.submit(temporary, [str(i)])
               for i in range(first, min(first + width, programs))]
        for program, o in cluster.results(ids, timeout=600).items():
            if o.error is not None or o.value != 15:
                raise AssertionError(f"{program}: {o.error or o.value}\n{o.traceback}")
    ran = time.time() - t0
    full = stored(cluster)
    files_full = files_bytes(cluster)
    t0 = time.time()
    dry = cluster.gc(dry_run=True)
    dry_seconds = time.time() - t0
    t0 = time.time()
    done = cluster.gc()
    gc_seconds = time.time() - t0
    after = stored(cluster)
    return {"programs": programs, "programs_seconds": round(ran, 1), "start": start,
            "after_programs": full, "after_gc": after,
            "unreachable_found": dry.garbage_count, "reachable": done.reachable,
            "deleted": sum(c for c, _ in done.deleted.values()),
            "dry_run_seconds": round(dry_seconds, 2), "gc_seconds": round(gc_seconds, 2),
            "flush_seconds": round(done.waited, 3),
            "sqlite_bytes_after_programs": files_full, "sqlite_bytes_after_gc": files_bytes(cluster)}


def main(programs: int = 2000) -> dict:
    with tempfile.TemporaryDirectory(prefix="swarm-bench-gc-") as d, \
            swarm.local_cluster(3) as cluster:
        r = report(cluster, d, programs)
    s, f, a = r["start"], r["after_programs"], r["after_gc"]
    print(f"{programs} programs, 5 temporary Refs each ({r['programs_seconds']} s): stored "
          f"{s['refs']} Refs / {s['bytes']} bytes before, {f['refs']} / {f['bytes']} after, "
          f"{a['refs']} / {a['bytes']} after one collection")
    print(f"a cycle: {r['gc_seconds']} s, {r['flush_seconds']} s of it the flush (a dry "
          f"run's: {r['dry_run_seconds']} s); {r['deleted']} deleted, {r['reachable']} "
          f"reachable")
    return r


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
