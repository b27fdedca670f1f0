"""Node memory: what a node keeps of the programs that ran on it.

`python -m bench.node_memory [N [RUNS]]` (default 10,000 and 10) starts a local 2-node cluster
and reads n2's resident memory (VmRSS in /proc) while
- N programs, 100 at a time, each hop from n1 to n2 and back, carrying a global of ~20 KB
  (RSS growth per 10,000 programs, after a warm-up of N/5);
- a program whose global is a list of 1.2 million ints (about 45 MB in memory, 10 MB
  pickled) runs RUNS times, hopping to n2 and back (RSS growth per run, after 2 runs).
It prints the readings, the rows of the `done` and `kept` tables of each node, and the RSS
growth. tests/test_node_memory.py and tests/faults/test_memory_long.py run the same
functions with fewer or more programs and assert on their report.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time

#: program i carries a global of ~20 KB to n2 and back; its answer depends on i
HOP = '''
import sys
from swarm import move_to

i = int(sys.argv[1])
CARRIED = [f"{i}-{k}" for k in range(1000)]
move_to("n2")
total = sum(len(s) for s in CARRIED)
move_to("n1")
RESULT = (i, total)
'''

#: a global of 1.2 million ints: ~45 MB in memory on each node it runs on
BIG = '''
from swarm import move_to

BIG = list(range(1_200_000))
move_to("n2")
n = sum(BIG)
move_to("n1")
RESULT = n
'''


def answer(i: int) -> tuple[int, int]:
    """What HOP program i returns."""
    return i, sum(len(f"{i}-{k}") for k in range(1000))


def rss_kb(pid: int) -> int:
    """A process's VmRSS, in KB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError(f"no VmRSS for process {pid}")


def table_rows(cluster, name: str) -> dict[str, int]:
    """Rows of a node's `done` and `kept` tables (its store, read-only, beside the node)."""
    path = os.path.join(cluster.config.nodes[name].dir, "store.sqlite")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("done", "kept")}
    finally:
        db.close()


def run_programs(cluster, path: str, first: int, count: int, width: int = 100,
                 timeout: float = 300) -> None:
    """Programs first..first+count-1 of `path`, `width` at a time; each checked."""
    for start in range(first, first + count, width):
        ids = {cluster.submit(path, [str(i)]): i
               for i in range(start, min(start + width, first + count))}
        outcomes = cluster.results(list(ids), timeout=timeout)
        for program, i in ids.items():
            o = outcomes[program]
            if o.error is not None:
                raise AssertionError(f"program {i} failed: {o.error}\n{o.traceback}")
            if path.endswith("hop.py") and tuple(o.value) != answer(i):
                raise AssertionError(f"program {i} answered {o.value}, not {answer(i)}")


def programs_report(cluster, directory: str, n: int, steps: int = 5,
                    warm: int | None = None) -> dict:
    """n HOP programs after a warm-up of `warm` (n/5 unless given): n2's RSS after the
    warm-up, after each step and 1.5 s after the last; the tables' rows at the end."""
    path = os.path.join(directory, "hop.py")
    with open(path, "w") as f:
        f.write(HOP)
    pid = cluster.procs["n2"].pid
    warm = max(1, n // 5) if warm is None else warm
    run_programs(cluster, path, 0, warm)
    readings = [rss_kb(pid)]
    t0, done = time.time(), warm
    for _ in range(steps):
        count = n // steps
        run_programs(cluster, path, done, count)
        done += count
        readings.append(rss_kb(pid))
    seconds = time.time() - t0
    time.sleep(1.5)  # (a node collects what its last programs left at its next tick)
    readings.append(rss_kb(pid))
    return {"programs": n, "warm_kb": readings[0], "readings_kb": readings,
            "growth_kb_per_10000": (readings[-1] - readings[0]) * 10000 / n,
            "seconds": seconds, "tables": {name: table_rows(cluster, name)
                                           for name in ("n1", "n2")}}


def big_report(cluster, directory: str, runs: int) -> dict:
    """The BIG program run 2 times (warm-up), then `runs` times: n2's RSS a second after
    each."""
    path = os.path.join(directory, "big.py")
    with open(path, "w") as f:
        f.write(BIG)
    pid = cluster.procs["n2"].pid
    run_programs(cluster, path, 0, 2, width=1)
    readings = [rss_kb(pid)]
    for i in range(runs):
        run_programs(cluster, path, i, 1, width=1)
        time.sleep(1.0)  # (n2 may still be collecting: its hop reached n1 before that)
        readings.append(rss_kb(pid))
    return {"runs": runs, "warm_kb": readings[0], "readings_kb": readings,
            "growth_kb_per_run": (readings[-1] - readings[0]) / runs}


def main(argv: list[str]) -> None:
    import swarm

    n = int(argv[0]) if argv else 10_000
    runs = int(argv[1]) if len(argv) > 1 else 10
    with tempfile.TemporaryDirectory() as d, swarm.local_cluster(2) as cluster:
        report = programs_report(cluster, d, n)
        print(f"{n} programs hopping n1 -> n2 -> n1 ({report['seconds']:.0f} s): n2 RSS "
              f"{report['warm_kb']} KB after the warm-up, readings {report['readings_kb']}; "
              f"growth {report['growth_kb_per_10000']:.0f} KB per 10,000 programs; "
              f"tables {report['tables']}")
        big = big_report(cluster, d, runs)
        print(f"{runs} runs of a program with a 45 MB global: n2 RSS {big['readings_kb']}; "
              f"growth {big['growth_kb_per_run']:.0f} KB per run")


if __name__ == "__main__":
    main(sys.argv[1:])
