"""Summing a 100 MiB Ref that lives on another node: migrating to it against fetching it.

`python -m bench.bigdata [MiB] [runs]` (default 100 MiB, 5 runs of each policy). On one
`swarm.local_cluster(2)`:

1. a setup program makes the value on n2 itself (it moves there, creates the Ref - a tuple of
   MiB * 2**20 / 8 floats - and comes back with the handle only), once;
2. another program, run on n1 with each policy in turn (migrate, fetch, auto, migrate, ...
   after one untimed warm-up of each), times `ref.get()` and the sum of what it returns itself
   and returns the times as its RESULT.

What each figure includes:
- program ms: from just before `ref.get()` on n1 to the end of the sum (get ms: to the
  return of `get()`, the rest is the sum itself). Migrate: capture,
  encode, one SQLite commit, the hop to n2, decode, resume, a read of the value n2 already
  holds decoded in memory (data.RefData), the sum on n2. Fetch: the request, n2 pickling the
  value into its reply, signing, sending, n1 checking the signature, unpickling 13 million
  floats, the sum on n1. Auto: it asks n2 the value's size (one small round trip), then
  migrates. (Both ends read time.perf_counter, CLOCK_MONOTONIC: one clock for every process
  on one machine.)
- client ms: run_file from submission to the result, as a user waits for it (adds starting
  the program on n1 and sending its result; the same for every policy).
- bytes: the continuation of each hop (run_file(trace=True), a separate untimed run), and
  for a fetch the reply, which carries the value as pickled (its size in the n2 store,
  `swarm status` column `bytes`). Hops and fetches per run are counted from the nodes'
  status rows over the timed runs.

Target (nodes issue): migrating at least 8x faster than fetching (program ms, medians).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

SETUP = """
import sys
from swarm import Ref, move_to
count = int(sys.argv[1])
move_to("n2")
data = Ref(tuple(map(float, range(count))))  # made on n2: the value never travels
move_to("n1")
RESULT = (data.id, data.hint)
"""

# Ref._handle: the benchmark names the Ref made by SETUP (a program would keep the Ref)
SUM = """
import sys
import time
from swarm import Ref, here
data = Ref._handle(sys.argv[1], sys.argv[2])
start = time.perf_counter()
values = data.get()
got = time.perf_counter()
total = sum(values)
RESULT = (got - start, time.perf_counter() - start, total, here())
"""

POLICIES = ("migrate", "fetch", "auto")
TARGET = 8.0


def _counters(cluster) -> dict:
    return {row["node"]: row for row in cluster.status()}


def measure(mib: int = 100, runs: int = 5) -> dict:
    import swarm

    count = mib * 2**20 // 8
    expected = float(count * (count - 1) // 2)
    out: dict = {"mib": mib, "floats": count, "runs": runs, "policies": {}}
    # the fetch reply carries the whole value: allow it (and more) on the wire
    limit = max(256 * 2**20, 4 * mib * 2**20)
    with tempfile.TemporaryDirectory() as tmp, \
            swarm.local_cluster(2, max_message_bytes=limit) as cluster:
        setup, program = os.path.join(tmp, "setup.py"), os.path.join(tmp, "sum.py")
        with open(setup, "w") as f:
            f.write(SETUP)
        with open(program, "w") as f:
            f.write(SUM)
        before = _counters(cluster)["n2"]["bytes"]
        t0 = time.perf_counter()
        made = cluster.run_file(setup, argv=[str(count)], timeout=600)
        if made.error:
            raise RuntimeError(f"setup failed: {made.traceback or made.error}")
        out["setup_s"] = round(time.perf_counter() - t0, 2)
        ref_id, hint = made.value
        out["value_bytes"] = _counters(cluster)["n2"]["bytes"] - before  # pickled, in the store
        argv = [ref_id, hint]

        def once(policy: str, trace: bool = False):
            t = time.perf_counter()
            res = cluster.run_file(program, argv=argv, policy=policy, trace=trace, timeout=600)
            client = time.perf_counter() - t
            if res.error:
                raise RuntimeError(f"{policy}: {res.traceback or res.error}")
            got, took, total, where = res.value
            if total != expected:
                raise RuntimeError(f"{policy}: sum {total}, expected {expected}")
            return got, took, client, where, res

        for policy in POLICIES:  # warm-up: sources reach n2, modules compiled, caches filled
            _, _, _, where, traced = once(policy, trace=True)
            out["policies"][policy] = {
                "summed_on": where,
                "hops": [(h["from"], h["to"], h["bytes"], h["why"]) for h in traced.trace],
                "continuation_bytes": sum(h["bytes"] for h in traced.trace),
                "get_ms": [], "program_ms": [], "client_ms": []}
        start_counts = _counters(cluster)
        for _ in range(runs):
            for policy in POLICIES:
                got, took, client, _, _ = once(policy)
                out["policies"][policy]["get_ms"].append(round(got * 1e3, 2))
                out["policies"][policy]["program_ms"].append(round(took * 1e3, 2))
                out["policies"][policy]["client_ms"].append(round(client * 1e3, 2))
        end_counts = _counters(cluster)
    for name in ("n1", "n2"):  # over all timed runs of the three policies
        out[f"{name}_timed"] = {k: end_counts[name][k] - start_counts[name][k]
                                for k in ("hops_in", "hops_out", "fetches")}
    for res in out["policies"].values():
        res["get_median_ms"] = round(statistics.median(res["get_ms"]), 1)
        res["program_median_ms"] = round(statistics.median(res["program_ms"]), 1)
        res["client_median_ms"] = round(statistics.median(res["client_ms"]), 1)
    pol = out["policies"]
    out["fetch_reply_bytes"] = out["value_bytes"]  # plus a few bytes of framing
    out["ratio"] = round(pol["fetch"]["program_median_ms"] / pol["migrate"]["program_median_ms"],
                         1)
    out["client_ratio"] = round(pol["fetch"]["client_median_ms"]
                                / pol["migrate"]["client_median_ms"], 1)
    out["target"] = TARGET
    out["target_met"] = out["ratio"] >= TARGET
    return out


def print_table(r: dict) -> None:
    pol = r["policies"]
    print(f"\nsumming a {r['mib']} MiB Ref ({r['floats']} floats, {r['value_bytes']} bytes "
          f"pickled) on n2 from a program on n1; median of {r['runs']} runs each, alternating")
    print("| policy | summed on | get ms | get + sum ms | client ms (run_file) | moved |")
    print("|---|---|---:|---:|---:|---|")
    for name in POLICIES:
        p = pol[name]
        moved = " + ".join(f"{a}->{b} hop {n} B" for a, b, n, _ in p["hops"]) or \
            f"fetch reply {r['fetch_reply_bytes']} B"
        print(f"| {name} | {p['summed_on']} | {p['get_median_ms']:.1f} | "
              f"{p['program_median_ms']:.1f} | "
              f"{p['client_median_ms']:.1f} | {moved} |")
    print(f"fetch / migrate: {r['ratio']}x (program), {r['client_ratio']}x (client); target "
          f"{r['target']:g}x: {'met' if r['target_met'] else 'NOT met'}")
    print(f"making the value on n2 (setup program): {r['setup_s']} s; counted over the timed "
          f"runs: n1 {r['n1_timed']}, n2 {r['n2_timed']}")


def main(mib: int = 100, runs: int = 5) -> dict:
    result = measure(mib, runs)
    print_table(result)
    return result


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
