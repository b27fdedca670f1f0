"""Values as programs use them: a numpy array on another node, values of gigabytes, and the
memory of many small values.

`python -m bench.bigdata [--runs N] [--tuples MiB,MiB] [--sizes MiB,MiB] [--small N]`
(defaults: 5 runs, tuples of 90,100,200 MiB, 1024,4096 MiB - or SWARM_BENCH_BIG=MiB,MiB - and
100,000 small values). Four parts, each on its own `swarm.local_cluster(2)`:

0. **examples/big_data.py's value: a tuple of floats (README), at 90, 100 and 200 MiB.** A
   setup program moves to n2 and makes `Ref(tuple(map(float, range(n))))` there; a program
   on n1 then times `sum(ref.get())` by migrating (it hops to n2 and sums the value n2 holds
   decoded in its value cache), after one untimed run. Medians, per MiB, beside the same sum
   of the same tuple in this process; and n2's value cache (`status?`: reads that decoded
   the value, values too large to keep) - the time per MiB must not jump between sizes
   (it did, from 0.8 ms at 90 MiB to 15 ms at 100: the value was decoded at every read).

1. **100 MiB of float64 on n2, summed from n1.** A setup program moves to n2 and makes the
   Ref there (`Ref(np.arange(...))`), so the value never crosses the wire. A program on n1
   then times `ref.get()` and `.sum()` of what it returns, by migrating (it hops to n2, where
   the array is a read-only view of memory n2 holds) and by fetching (n2 sends the array's
   buffer out of band, in chunks; n1 makes the array on the received memory), alternating,
   after one untimed run of each. Medians. For scale, the same sum by numpy in this process
   (the least any system can take) - Ray's figures, for the ratio the issue names, come
   from the peers' bench.
2. **1 GiB and 4 GiB.** Create (a program on n2 makes `np.arange` and the Ref - the Ref
   copies the array once - timed around `Ref(...)`, and until its write is on disk:
   client time of the program), read by migrating and by fetching (get + a check of every
   element by slices), then SIGKILL n2 and restart it: time until it answers, then the
   first read by migrating (the value is mapped from its store file).
3. **Many small values.** One program creates N Refs on n2 (ints, short strings, small
   dicts, in turn); n2's resident memory (/proc/PID/status VmRSS) before and after, per
   value; and after reading them all once (the cache fills).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

MAKE = """
import sys, time
import numpy as np
from swarm import Ref, move_to
n = int(sys.argv[1]) * 2**20 // 8
move_to("n2")
a = np.arange(n, dtype=np.float64)
t = time.perf_counter()
r = Ref(a)
made = time.perf_counter() - t
del a
move_to("n1")
RESULT = (r.id, r.hint, made)
"""

TUPLE_MAKE = """
import sys
from swarm import Ref, move_to
count = int(sys.argv[1]) * 2**20 // 8
move_to("n2")
data = Ref(tuple(map(float, range(count))))  # made on n2, as examples/big_data.py does
move_to("n1")
RESULT = (data.id, data.hint)
"""

TUPLE_SUM = """
import sys, time
from swarm import Ref, here
data = Ref._handle(sys.argv[1], sys.argv[2])
t = time.perf_counter()
total = sum(data.get())
RESULT = (time.perf_counter() - t, total, here())
"""

SUM = """
import sys, time
from swarm import Ref, here
r = Ref._handle(sys.argv[1], sys.argv[2])
t = time.perf_counter()
v = r.get()
got = time.perf_counter()
total = float(v.sum())
RESULT = (got - t, time.perf_counter() - t, total, here())
"""

CHECK = """
import sys, time
import numpy as np
from swarm import Ref, here
n = int(sys.argv[3]) * 2**20 // 8
r = Ref._handle(sys.argv[1], sys.argv[2])
t = time.perf_counter()
v = r.get()
got = time.perf_counter() - t
step = 1 << 24
same = v.shape == (n,) and all((v[i:i + step] == np.arange(i, min(i + step, n))).all()
                               for i in range(0, n, step))
RESULT = (got, time.perf_counter() - t, same, here())
"""

SMALL = """
import sys
from swarm import Ref, move_to
n = int(sys.argv[1])
move_to("n2")
kinds = (lambda i: i, lambda i: f"value {i}", lambda i: {"id": i, "name": f"n{i}"})
refs = [Ref(kinds[i % 3](i)) for i in range(n)]
move_to("n1")
RESULT = [(r.id, r.hint) for r in refs]
"""

READ_ALL = """
import sys
from swarm import Ref
ids = sys.argv[1:]
total = 0
for i in range(0, len(ids), 2):
    v = Ref._handle(ids[i], ids[i + 1]).get()
    total += 1
RESULT = total
"""


def _rss(cluster, node: str) -> int:
    with open(f"/proc/{cluster.procs[node].pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _run(cluster, path: str, argv: list, **kw):
    t = time.perf_counter()
    out = cluster.run_file(path, argv=[str(a) for a in argv], timeout=1800, **kw)
    if out.error:
        raise RuntimeError(f"{os.path.basename(path)}: {out.traceback or out.error}")
    return out.value, time.perf_counter() - t


def _write(tmp: str, name: str, text: str) -> str:
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def tuple_sum(tmp: str, runs: int, mib: int) -> dict:
    """Part 0 (see the module's docstring) at one size."""
    import swarm

    n = mib * 2**20 // 8
    local = tuple(map(float, range(n)))
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        sum(local)
        times.append(time.perf_counter() - t)
    del local
    out: dict = {"mib": mib, "python_local_ms": round(statistics.median(times[1:]) * 1e3, 1)}
    make, summing = _write(tmp, "tmake.py", TUPLE_MAKE), _write(tmp, "tsum.py", TUPLE_SUM)
    with swarm.local_cluster(2) as cluster:
        (ref_id, hint), out["make_s"] = _run(cluster, make, [mib])
        took = []
        for _ in range(runs + 1):
            (get_sum, total, where), _ = _run(cluster, summing, [ref_id, hint])
            if total != float(n * (n - 1) // 2) or where != "n2":
                raise RuntimeError(f"{mib} MiB: sum {total} on {where}")
            took.append(get_sum)
        out["get_sum_ms"] = round(statistics.median(took[1:]) * 1e3, 1)
        out["ms_per_mib"] = round(out["get_sum_ms"] / mib, 2)
        out["n2_rss_mib"] = _rss(cluster, "n2") >> 20
        cache = {row["node"]: row for row in cluster.status()}["n2"].get("cache", {})
        out["decoded"], out["too_large"] = cache.get("decoded", "-"), cache.get("too_large", "-")
    return out


def numpy_sum(tmp: str, runs: int, mib: int = 100) -> dict:
    import numpy as np

    import swarm

    out: dict = {}
    n = mib * 2**20 // 8
    local = np.arange(n, dtype=np.float64)
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        local.sum()
        times.append(time.perf_counter() - t)
    out["numpy_local_ms"] = round(statistics.median(times[1:]) * 1e3, 2)
    expected = float(local.sum())
    del local
    make, summing = _write(tmp, "make.py", MAKE), _write(tmp, "sum.py", SUM)
    with swarm.local_cluster(2) as cluster:
        (ref_id, hint, _), _ = _run(cluster, make, [mib])
        for policy in ("migrate", "fetch"):
            res = out[policy] = {"get_ms": [], "get_sum_ms": [], "client_ms": []}
            for i in range(runs + 1):
                (got, took, total, where), client = _run(cluster, summing, [ref_id, hint],
                                                         policy=policy)
                if total != expected:
                    raise RuntimeError(f"{policy}: sum {total}, expected {expected}")
                if i:
                    res["get_ms"].append(got * 1e3)
                    res["get_sum_ms"].append(took * 1e3)
                    res["client_ms"].append(client * 1e3)
                res["summed_on"] = where
            for key in ("get_ms", "get_sum_ms", "client_ms"):
                res[key] = round(statistics.median(res[key]), 2)
    out["fetch_over_migrate"] = round(out["fetch"]["get_sum_ms"] / out["migrate"]["get_sum_ms"],
                                      1)
    out["migrate_over_numpy"] = round(out["migrate"]["get_sum_ms"] / out["numpy_local_ms"], 2)
    return out


def big(tmp: str, mib: int) -> dict:
    import swarm

    make, check = _write(tmp, "make.py", MAKE), _write(tmp, "check.py", CHECK)
    out: dict = {"mib": mib}
    with swarm.local_cluster(2) as cluster:
        (ref_id, hint, made), client = _run(cluster, make, [mib])
        out["create_ref_s"], out["create_program_s"] = round(made, 2), round(client, 2)
        out["n2_rss_after_create_mib"] = _rss(cluster, "n2") >> 20
        argv = [ref_id, hint, mib]
        for policy in ("migrate", "fetch"):
            (got, took, same, where), client = _run(cluster, check, argv, policy=policy)
            if not same:
                raise RuntimeError(f"{mib} MiB, {policy}: the value read back differs")
            out[policy] = {"get_s": round(got, 3), "get_check_s": round(took, 2),
                           "client_s": round(client, 2), "on": where}
        out["n1_rss_after_fetch_mib"] = _rss(cluster, "n1") >> 20
        cluster.kill("n2")
        t = time.perf_counter()
        cluster.restart("n2")
        cluster.wait_ready(timeout=600)
        out["restart_s"] = round(time.perf_counter() - t, 2)
        (got, took, same, where), client = _run(cluster, check, argv, policy="migrate")
        if not same:
            raise RuntimeError(f"{mib} MiB after a restart: the value read back differs")
        out["after_restart"] = {"get_s": round(got, 3), "get_check_s": round(took, 2),
                                "client_s": round(client, 2)}
    return out


def small(tmp: str, n: int) -> dict:
    import swarm

    make, read = _write(tmp, "small.py", SMALL), _write(tmp, "read.py", READ_ALL)
    with swarm.local_cluster(2) as cluster:
        _run(cluster, _write(tmp, "warm.py", "from swarm import Ref, move_to\n"
                                             "move_to('n2')\nRef(1)\n"), [])
        before = _rss(cluster, "n2")
        handles, client = _run(cluster, make, [n])
        time.sleep(0.5)
        made = _rss(cluster, "n2")
        flat = [x for h in handles[:min(n, 20_000)] for x in h]
        _run(cluster, read, flat)
        after = _rss(cluster, "n2")
        refs = {row["node"]: row for row in cluster.status()}["n2"]
    return {"values": n, "create_s": round(client, 2),
            "rss_per_value_bytes": round((made - before) / n),
            "read": min(n, 20_000), "rss_per_value_after_reads": round((after - before) / n),
            "stored_bytes_per_value": round(refs["bytes"] / max(refs["refs"], 1))}


def measure(runs: int = 5, sizes=(1024, 4096), n_small: int = 100_000,
            tuples=(90, 100, 200)) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = {"tuples": [tuple_sum(tmp, runs, mib) for mib in tuples],
               "numpy_100mib": numpy_sum(tmp, runs),
               "big": [big(tmp, mib) for mib in sizes],
               "small": small(tmp, n_small) if n_small else None}
    return out


def print_table(r: dict) -> None:
    if r["tuples"]:
        print(f"\nexamples/big_data.py's value: a tuple of floats on n2, sum(get()) from n1 by "
              f"migrating (medians of {r.get('runs', 5)} runs)")
        print("| size | get + sum ms | ms per MiB | sum in one process ms | ratio | n2 reads "
              "that decoded it | too large to keep | n2 RSS MiB | made in s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for t in r["tuples"]:
            ratio = t["get_sum_ms"] / max(t["python_local_ms"], 0.1)
            print(f"| {t['mib']} MiB | {t['get_sum_ms']} | {t['ms_per_mib']} | "
                  f"{t['python_local_ms']} | {ratio:.1f}x | {t['decoded']} | "
                  f"{t['too_large']} | {t['n2_rss_mib']} | {t['make_s']:.1f} |")
    if "numpy_100mib" not in r:
        return
    a = r["numpy_100mib"]
    print("\n100 MiB float64 numpy array on n2, get + sum from a program on n1 (medians)")
    print("| how | summed on | get ms | get + sum ms | client ms |")
    print("|---|---|---:|---:|---:|")
    for policy in ("migrate", "fetch"):
        p = a[policy]
        print(f"| {policy} | {p['summed_on']} | {p['get_ms']:.2f} | {p['get_sum_ms']:.2f} | "
              f"{p['client_ms']:.1f} |")
    print(f"| numpy's own sum, in one process | - | - | {a['numpy_local_ms']:.2f} | - |")
    print(f"fetch / migrate {a['fetch_over_migrate']}x; migrate / numpy alone "
          f"{a['migrate_over_numpy']}x")
    if r["big"]:
        print("\nlarge values (s): create = Ref(array) on n2 (program: until written); read = "
              "get (+ check every element)")
        print("| size | create | create (program) | migrate get (+check) | fetch get (+check) | "
              "restart | migrate after restart |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for b in r["big"]:
            print(f"| {b['mib']} MiB | {b['create_ref_s']} | {b['create_program_s']} | "
                  f"{b['migrate']['get_s']} ({b['migrate']['get_check_s']}) | "
                  f"{b['fetch']['get_s']} ({b['fetch']['get_check_s']}) | {b['restart_s']} | "
                  f"{b['after_restart']['get_s']} ({b['after_restart']['get_check_s']}) |")
    s = r["small"]
    if s:
        print(f"\n{s['values']} small values on n2: {s['rss_per_value_bytes']} B of RSS each "
              f"({s['rss_per_value_after_reads']} B after reading {s['read']} of them), "
              f"{s['stored_bytes_per_value']} B stored each; made in {s['create_s']} s")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bigdata")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default=os.environ.get("SWARM_BENCH_BIG", "1024,4096"),
                        help="MiB of the large values, comma-separated ('' for none)")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--tuples", default="90,100,200",
                        help="MiB of examples/big_data.py's tuples, comma-separated ('' for none)")
    parser.add_argument("--only-tuples", action="store_true", help="part 0 alone")
    args = parser.parse_args(argv if argv is not None else [])
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    tuples = [int(s) for s in args.tuples.split(",") if s.strip()]
    if args.only_tuples:
        with tempfile.TemporaryDirectory() as tmp:
            result = {"runs": args.runs,
                      "tuples": [tuple_sum(tmp, args.runs, mib) for mib in tuples]}
        print_table(result)
        return result
    result = measure(args.runs, sizes, args.small, tuples)
    result["runs"] = args.runs
    print_table(result)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
