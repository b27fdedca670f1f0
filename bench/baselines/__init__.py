"""Baselines: the same work done by bare ZeroMQ, Ray or Dask.

- `zmq_rtt`: raw pyzmq DEALER -> ROUTER echo between two OS processes on loopback;
- `ray_pingpong`: the same ping-pong between two Ray actors;
- `ray_fib`, `dask_fib`: fib(n) with a task per call (Ray remote tasks, Dask futures);
- `metis`: the partition METIS finds for an access graph (pymetis), to compare the placer's
  cut against;
- `web_peer`, `flask_ping`: small round trips to Redis and to Flask on gunicorn;
- `twitter_flask`: the Twitter example's JSON API on Flask + SQLite (bench/web.py serves it
  with gunicorn beside the example).

Ray, Dask and pymetis are benchmark-only, never runtime dependencies of swarm. This module uses only the
standard library, so the baselines run in an interpreter that has Ray or Dask but not swarm's
dependencies (`run_in`).
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def run_in(python: str, module: str, *args: str, timeout: float = 120) -> dict:
    """Run `python -m module --json args...` from the repo root and read the JSON of its last
    line of output (or say why there is none)."""
    try:
        proc = subprocess.run([python, "-m", module, "--json", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"available": False, "why": f"{python}: {type(exc).__name__}: {exc}"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"available": False, "why": f"{python} exited {proc.returncode}: {' | '.join(tail)}"}
    res = json.loads(lines[-1])
    res["python"] = python
    return res

SIZES = (64, 1024, 16384)


def summarize(samples_ns: list[int]) -> dict:
    """Median, p90 (nearest rank), min and mean of round-trip times given in ns, in us."""
    s = sorted(samples_ns)
    n = len(s)
    if n == 0:
        return {"n": 0}
    mid = n // 2
    median = s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2
    p90 = s[max(0, math.ceil(0.9 * n) - 1)]
    return {
        "n": n,
        "median_us": round(median / 1e3, 2),
        "p90_us": round(p90 / 1e3, 2),
        "min_us": round(s[0] / 1e3, 2),
        "mean_us": round(sum(s) / n / 1e3, 2),
    }


def size_label(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


def print_sizes(res: dict) -> None:
    """One line per payload size: median and p90 round trip."""
    for size, r in res["sizes"].items():
        print(f"  {size_label(int(size)):>7}: median {r['median_us']:8.1f} us   "
              f"p90 {r['p90_us']:8.1f} us")


def time_fib(call, n: int, runs: int) -> dict:
    """Time `call()` (returning fib(n) and the task count) `runs` times after one warm-up;
    the fields every fib baseline reports."""
    value, tasks = call()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        v, t = call()
        times.append(time.perf_counter() - t0)
        if (v, t) != (value, tasks):
            raise RuntimeError(f"fib({n}) gave {(v, t)}, then {(value, tasks)}")
    total = statistics.median(times)
    return {"n": n, "value": value, "tasks": tasks, "runs_s": [round(x, 3) for x in times],
            "total_s": round(total, 3), "tasks_per_s": round(tasks / total, 1)}


def fib_cli(measure, label: str, argv: list[str], default_n: int) -> dict:
    """The command line of a fib baseline: `--json [n]` prints the measurement as JSON (for
    run_in), else one line for a person."""
    ns = [int(a) for a in argv if a.isdigit()]
    if "--json" in argv:
        res = measure(*ns)
        print(json.dumps(res))
        return res
    n = ns[0] if ns else default_n
    res = measure(n)
    if res["available"]:
        print(f"  {label} {res[label]}: fib({n}) = {res['value']} in {res['tasks']} tasks, "
              f"{res['total_s']} s (median of {len(res['runs_s'])}), {res['tasks_per_s']} tasks/s")
    else:
        print(f"  {label}: not available: {res['why']}")
    return res
