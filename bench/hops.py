"""One migration hop against its baselines: what a bare round trip costs on this machine.

`python -m bench.hops` runs
- the raw pyzmq DEALER/ROUTER echo between two processes (`bench.baselines.zmq_rtt`), always;
- the same ping-pong between two Ray actors (`bench.baselines.ray_pingpong`) if Ray is
  importable here, or in the interpreter given by `--ray-python PATH` / SWARM_BENCH_RAY_PYTHON
  (Ray is a benchmark-only extra, never a runtime dependency; a setup.cfg extra `bench` will
  list it);
- `swarm_hop`: a program ping-ponging between two swarm nodes (mean round trip).

`python -m bench.hops --cpu [--rounds N] [--runs K]` measures instead what a loaded, shared
machine cannot hide: each node's main thread's CPU time per round trip (and its time waiting
for a CPU), read from /proc/PID/task/PID/schedstat before and after the measured round trips
of a 64 B ping-pong (`swarm_cpu`), with the raw ZeroMQ round trip of the same moment.

All figures are round-trip times in microseconds, median and p90 over `rounds` trips after a
warm-up, for payloads of 64 B, 1 KiB and 16 KiB.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

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


CPU_PING_PONG = """
import time
from swarm import move_to
payload = b"x" * 64
for _ in range({warm}):
    move_to("n2")
    move_to("n1")
open({mark!r}, "w").close()      # the measured round trips start: the bench reads schedstat
while not __import__("os").path.exists({go!r}):
    time.sleep(0.01)
start = time.perf_counter_ns()
for _ in range({rounds}):
    move_to("n2")
    move_to("n1")
RESULT = (time.perf_counter_ns() - start) / {rounds}
"""


def _schedstat(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns waiting on a run queue) of the process's main thread."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def swarm_cpu(rounds: int = 2000, warm: int = 250) -> dict:
    """One 64 B ping-pong on a fresh local_cluster(2): each node's main thread's CPU and
    run-queue wait per round trip over `rounds` round trips after `warm` of warm-up (the
    program tells the bench when its warm-up ends and waits for it to read schedstat), and
    the program's own mean round trip."""
    import tempfile
    import threading

    import swarm

    with tempfile.TemporaryDirectory() as tmp, swarm.local_cluster(2) as cluster:
        mark, go = os.path.join(tmp, "warm"), os.path.join(tmp, "go")
        path = os.path.join(tmp, "cpu_pingpong.py")
        with open(path, "w") as f:
            f.write(CPU_PING_PONG.format(warm=warm, rounds=rounds, mark=mark, go=go))
        pids = {n: cluster.procs[n].pid for n in ("n1", "n2")}
        box: dict = {}
        runner = threading.Thread(
            target=lambda: box.update(r=cluster.run_file(path, timeout=600)))
        runner.start()
        while not os.path.exists(mark):
            if not runner.is_alive():
                break
            time.sleep(0.01)
        before = {n: _schedstat(p) for n, p in pids.items()}
        load0 = os.getloadavg()[0]
        open(go, "w").close()
        runner.join()
        after = {n: _schedstat(p) for n, p in pids.items()}
        result = box["r"]
        if result.error:
            return {"available": False, "why": result.error}
        out = {"available": True, "rounds": rounds, "round_trip_us": round(result.value / 1e3, 1),
               "load": round((load0 + os.getloadavg()[0]) / 2, 1), "nodes": {}}
        for n in pids:
            out["nodes"][n] = {
                "cpu_us": round((after[n][0] - before[n][0]) / rounds / 1e3, 1),
                "wait_us": round((after[n][1] - before[n][1]) / rounds / 1e3, 1)}
        return out


def cpu_main(rounds: int, runs: int) -> list:
    """`runs` measurements of swarm_cpu, each beside a raw ZeroMQ round trip."""
    from bench.baselines import zmq_rtt

    print("a node's main thread per two-hop round trip (64 B ping-pong): CPU and run-queue "
          "wait, from /proc/PID/task/PID/schedstat")
    print("| run | load | round trip us | raw zmq us | n1 CPU us | n2 CPU us | n1 wait us "
          "| n2 wait us |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    results = []
    for i in range(runs):
        res = swarm_cpu(rounds)
        if not res["available"]:
            print(f"run {i + 1}: not measured: {res['why']}")
            continue
        z = zmq_rtt.measure(sizes=(64,))["sizes"]["64"]["median_us"]
        res["zmq_us"] = z
        n1, n2 = res["nodes"]["n1"], res["nodes"]["n2"]
        print(f"| {i + 1} | {res['load']} | {res['round_trip_us']} | {z:.1f} | {n1['cpu_us']} "
              f"| {n2['cpu_us']} | {n1['wait_us']} | {n2['wait_us']} |", flush=True)
        results.append(res)
    return results


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
    if "--cpu" in args:
        def _opt(name: str, default: int) -> int:
            return int(args[args.index(name) + 1]) if name in args else default
        cpu_main(_opt("--rounds", 2000), _opt("--runs", 1))
        sys.exit(0)
    rp = None
    if "--ray-python" in args:
        i = args.index("--ray-python")
        rp = args[i + 1] if i + 1 < len(args) else sys.exit("--ray-python needs a path")
    main(rp)
