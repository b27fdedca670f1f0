"""One migration hop against its baselines: what a bare round trip costs on this machine.

`python -m bench.hops` runs
- the raw pyzmq DEALER/ROUTER echo between two processes (`bench.baselines.zmq_rtt`), always;
- the same ping-pong between two Ray actors (`bench.baselines.ray_pingpong`) if Ray is
  importable here, or in the interpreter given by `--ray-python PATH` / SWARM_BENCH_RAY_PYTHON
  (Ray is a benchmark-only extra, never a runtime dependency; a setup.cfg extra `bench` will
  list it);
- `swarm_hop`, one real hop between swarm nodes: not written yet (see below).

All figures are round-trip times in microseconds, median and p90 over `rounds` trips after a
warm-up, for payloads of 64 B, 1 KiB and 16 KiB.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.baselines import SIZES, size_label, zmq_rtt

ROOT = Path(__file__).resolve().parent.parent
RAY_HINT = (
    "Ray is not importable in this interpreter. To measure it: "
    "python3 -m venv /tmp/rayvenv && /tmp/rayvenv/bin/pip install ray, then "
    "python -m bench.hops --ray-python /tmp/rayvenv/bin/python "
    "(or SWARM_BENCH_RAY_PYTHON=/tmp/rayvenv/bin/python); once setup.cfg has the `bench` "
    "extra: pip install -e '.[bench]'."
)


# --------------------------------------------------------------------------------------------
# TODO(lead): fill in once swarm nodes exist.
def swarm_hop(sizes=SIZES, rounds: int = 2000) -> dict:
    """One migration hop between two `swarm-node` processes on loopback.

    Intended shape, to compare with the baselines: start two nodes, run a program whose state
    carries a payload of each size, migrate it A -> B -> A, and report median/p90 per size
    in the same form as `zmq_rtt.measure` ({"available": True, "sizes": {"64": {...}}}).
    """
    raise NotImplementedError("needs swarm nodes")


# --------------------------------------------------------------------------------------------


def _ray_in(python: str) -> dict:
    """Run the Ray baseline in another interpreter (one that has Ray) and read its JSON."""
    try:
        proc = subprocess.run(
            [python, "-m", "bench.baselines.ray_pingpong", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"available": False, "why": f"{python}: {type(exc).__name__}: {exc}"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"available": False, "why": f"{python} exited {proc.returncode}: {' | '.join(tail)}"}
    res = json.loads(lines[-1])
    res["python"] = python
    return res


def ray_baseline(ray_python: str | None = None) -> dict:
    ray_python = ray_python or os.environ.get("SWARM_BENCH_RAY_PYTHON")
    if ray_python:
        return _ray_in(ray_python)
    if importlib.util.find_spec("ray") is None:
        return {"available": False, "why": RAY_HINT}
    from bench.baselines import ray_pingpong

    return ray_pingpong.measure()


def _cell(res: dict, size: int, key: str) -> str:
    r = res.get("sizes", {}).get(str(size)) if res.get("available") else None
    return f"{r[key]:.1f}" if r else "-"


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
    results: dict = {"zmq": zmq_rtt.measure()}
    results["ray"] = ray_baseline(ray_python)
    try:
        results["swarm"] = swarm_hop()
    except NotImplementedError as exc:
        results["swarm"] = {"available": False, "why": str(exc)}
    print_table(results)
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    rp = None
    if "--ray-python" in args:
        i = args.index("--ray-python")
        rp = args[i + 1] if i + 1 < len(args) else sys.exit("--ray-python needs a path")
    main(rp)
