"""Baselines for one migration hop: what a bare message round trip costs on this machine.

- `zmq_rtt`: raw pyzmq DEALER -> ROUTER echo between two OS processes on loopback;
- `ray_pingpong`: the same ping-pong between two Ray actors (benchmark-only; Ray is never a
  runtime dependency of swarm).

Both return timings in microseconds; `summarize` is shared and uses only the standard library,
so `ray_pingpong` runs in an interpreter that has Ray but not swarm's dependencies.
"""

from __future__ import annotations

import math

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
