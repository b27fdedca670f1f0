"""Isolation under each policy (issue 20, docs/atomic.md), on a real 3-node local cluster.

Method (`python -m bench.isolation`):
- the counter workload (bench/programs/counter.py): 50 programs, started on every node in
  turn, each add 1 to one counter on n2 10 times, all at once - with `r.set(r.get() + 1)`,
  `d[k] = d.get(k, 0) + 1`, `r.update(fn)`, and `r.set(r.get() + 1)` inside
  `with swarm.atomic()`; the figure is how many of the 500 additions the counter kept;
- the money workload (bench/programs/money.py): 10 programs move money 10 times each
  between an account on n1 and one on n2 while 10 readers check the sum 10 times each,
  without blocks and inside blocks: torn reads, and the total left of 2000;
- under --policy migrate, fetch and auto; wall time of each run (its client's view).
"""

from __future__ import annotations

import os
import time

import swarm

PROGRAMS = os.path.join(os.path.dirname(__file__), "programs")
POLICIES = ("migrate", "fetch", "auto")
COUNTER_MODES = ("ref", "dict", "update", "atomic")
MONEY_MODES = ("plain", "atomic")


def main() -> dict:
    result: dict = {"counter": {}, "money": {}}
    with swarm.local_cluster(3) as c:
        for policy in POLICIES:
            for mode in COUNTER_MODES:
                start = time.perf_counter()
                out = c.run_file(os.path.join(PROGRAMS, "counter.py"),
                                 argv=[mode, f"{policy}-{mode}"], policy=policy, timeout=600)
                kept = out.value if out.error is None else out.error
                result["counter"][f"{policy} {mode}"] = {
                    "kept": kept, "seconds": round(time.perf_counter() - start, 2)}
                print(f"counter {policy:8} {mode:7} kept {kept} of 500 "
                      f"({time.perf_counter() - start:.1f} s)")
            for mode in MONEY_MODES:
                start = time.perf_counter()
                out = c.run_file(os.path.join(PROGRAMS, "money.py"), argv=[mode],
                                 policy=policy, timeout=600)
                torn, total, _ = out.value if out.error is None else (out.error, None, None)
                result["money"][f"{policy} {mode}"] = {
                    "torn_of_100": torn, "total": total,
                    "seconds": round(time.perf_counter() - start, 2)}
                print(f"money   {policy:8} {mode:7} torn reads {torn} of 100, total {total} "
                      f"of 2000 ({time.perf_counter() - start:.1f} s)")
    return result


if __name__ == "__main__":
    main()
