"""One migration hop against its baselines: what a bare round trip costs on this machine.

`python -m bench.hops` runs
- the raw pyzmq DEALER/ROUTER echo between two processes (`bench.baselines.zmq_rtt`), always;
- the same ping-pong between two Ray actors (`bench.baselines.ray_pingpong`) if Ray is
  importable here, or in the interpreter given by `--ray-python PATH` / SWARM_BENCH_RAY_PYTHON
  (Ray is a benchmark-only extra, never a runtime dependency; a setup.cfg extra `bench` will
  list it);
- `swarm_hop`: a program ping-ponging between two swarm nodes (mean round trip).

All figures are round-trip times in microseconds, median and p90 over `rounds` trips after a
warm-up, for payloads of 64 B, 1 KiB and 16 KiB.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from bench.baselines import SIZES, run_in, size_label, zmq_rtt

RAY_HINT = (
    "Ray is not importable in this interpreter. To measure it: "
    "python3 -m venv /tmp/rayvenv && /tmp/rayvenv/bin/pip install ray, then "
    "python -m bench.hops --ray-python /tmp/rayvenv/bin/python "
    "(or SWARM_BENCH_RAY_PYTHON=/tmp/rayvenv/bin/python); once setup.cfg has the `bench` "
    "extra: pip install -e '.[bench]'."
)


PING_PONG = """
import time
from swarm import move_to
payload = b"x" * {size}          # state the program carries on every hop
for _ in range({warm}):
    move_to("n2")
    move_to("n1")
start = time.perf_counter_ns()
for _ in range({rounds}):
    move_to("n2")
    move_to("n1")
RESULT = (time.perf_counter_ns() - start) / {rounds}
"""


def swarm_hop(sizes=SIZES, rounds: int = 500) -> dict:
    """A program ping-ponging between two swarm nodes (n1 -> n2 -> n1 is one round trip: two
    hops, each signed, persisted, acknowledged and resumed), carrying a payload of each size.
    The program times itself; the figure is the mean round trip (a median would need the
    samples carried along, which would grow the continuation being measured)."""
    import tempfile

    import swarm

    out: dict = {"available": True, "sizes": {}, "statistic": "mean"}
    with tempfile.TemporaryDirectory() as tmp, swarm.local_cluster(2) as cluster:
        for size in sizes:
            path = os.path.join(tmp, f"pingpong_{size}.py")
            with open(path, "w") as f:
                f.write(PING_PONG.format(size=size, warm=50, rounds=rounds))
            result = cluster.run_file(path, timeout=300)
            if result.error:
                return {"available": False, "why": result.error}
            mean_us = round(result.value / 1e3, 2)
            out["sizes"][str(size)] = {"n": rounds, "median_us": mean_us, "p90_us": None,
                                       "mean_us": mean_us}
    return out


def ray_baseline(ray_python: str | None = None) -> dict:
    ray_python = ray_python or os.environ.get("SWARM_BENCH_RAY_PYTHON")
    if ray_python:
        return run_in(ray_python, "bench.baselines.ray_pingpong")
    if importlib.util.find_spec("ray") is None:
        return {"available": False, "why": RAY_HINT}
    from bench.baselines import ray_pingpong

    return ray_pingpong.measure()


def _cell(res: dict, size: int, key: str) -> str:
    r = res.get("sizes", {}).get(str(size)) if res.get("available") else None
    return f"{r[key]:.1f}" if r and r.get(key) is not None else "-"


def print_table(results: dict) -> None:
    cols = [(name, res) for name, res in results.items()]
    head = "| payload | " + " | ".join(f"{n} median us | {n} p90 us" for n, _ in cols) + " |"
    print(head)
    print("|---|" + "---:|---:|" * len(cols))
    for size in SIZES:
        cells = " | ".join(
            f"{_cell(res, size, 'median_us')} | {_cell(res, size, 'p90_us')}" for _, res in cols
        )
        print(f"| {size_label(size)} | {cells} |")
    for name, res in cols:
        if not res.get("available"):
            print(f"{name}: not measured: {res.get('why')}")


def main(ray_python: str | None = None) -> dict:
    print("\none hop round trip (n1 -> n2 -> n1) against a raw ZeroMQ round trip, in us")
    results: dict = {"zmq": zmq_rtt.measure()}
    results["ray"] = ray_baseline(ray_python or os.environ.get("SWARM_BENCH_RAY_PYTHON"))
    results["swarm"] = swarm_hop()
    print_table(results)
    if results["swarm"].get("available"):
        for size in SIZES:
            z = results["zmq"]["sizes"][str(size)]["median_us"]
            w = results["swarm"]["sizes"][str(size)]["mean_us"]
            print(f"  {size_label(size)}: swarm round trip / zmq round trip = {w / z:.1f}x; "
                  f"one hop (half a round trip) / zmq round trip = {w / 2 / z:.1f}x "
                  "(target: 3x)")
            results["swarm"]["sizes"][str(size)]["hop_over_zmq_rtt"] = round(w / 2 / z, 2)
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    rp = None
    if "--ray-python" in args:
        i = args.index("--ray-python")
        rp = args[i + 1] if i + 1 < len(args) else sys.exit("--ray-python needs a path")
    main(rp)
