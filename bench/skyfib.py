"""The recursive fib of the Skywriting slides, fib(15) with a spawn per call, on three systems.

Every fib(n) call runs as a task; for n >= 2 it spawns fib(n-1) and fib(n-2) as tasks and waits
for both; fib(0) = 0 and fib(1) = 1 spawn nothing. fib(15) = 610 is 1973 tasks (the calls of
the tree, `calls(15)`; the baselines count them as they run).

`python -m bench.skyfib [--ray-python PATH] [--dask-python PATH]` runs
- Swarm: examples/skywriting/fib.sw with argv ["15"] on `swarm.local_cluster(3)`, timed from
  outside with perf_counter around `cluster.run_file` (cluster start-up not included);
- Ray remote tasks (`bench.baselines.ray_fib`, num_cpus=2, each task ray.get()s its children);
- Dask distributed futures (`bench.baselines.dask_fib`, LocalCluster of 2 worker processes x 1
  thread, each task submits and gathers its children in worker_client()).
Ray and Dask are benchmark-only extras (setup.cfg extra `bench`); each runs here if importable,
or in the interpreter given by `--ray-python` / SWARM_BENCH_RAY_PYTHON, `--dask-python` /
SWARM_BENCH_DASK_PYTHON.

Each system: one untimed warm-up run, then 3 timed runs; reported: median total seconds,
tasks/s = 1973 / median seconds, and tasks/s relative to Ray's. Target: Swarm at least 2x
Ray's rate.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

from bench.baselines import ROOT, run_in

FIB_SW = ROOT / "examples" / "skywriting" / "fib.sw"
N = 15
RUNS = 3
TARGET = 2.0  # Swarm tasks/s over Ray tasks/s


def calls(n: int) -> int:
    """Number of fib invocations (tasks) in the call tree of fib(n)."""
    return 1 if n < 2 else 1 + calls(n - 1) + calls(n - 2)


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def swarm_fib(n: int = N, runs: int = RUNS, path: Path = FIB_SW) -> dict:
    """fib.sw on a 3-node local cluster, timed around run_file; or why it could not run."""
    if not path.exists():
        return {"available": False, "why": f"{path} does not exist"}
    try:
        import swarm

        with swarm.local_cluster(3) as cluster:
            times = []
            for i in range(runs + 1):  # the first is the warm-up
                t0 = time.perf_counter()
                out = cluster.run_file(str(path), argv=[str(n)], timeout=600)
                elapsed = time.perf_counter() - t0
                if out.error:
                    return {"available": False, "why": f"fib.sw failed: {out.error}"}
                if out.value != fib(n):
                    return {"available": False,
                            "why": f"fib.sw returned {out.value!r}, not fib({n}) = {fib(n)}"}
                if i:
                    times.append(elapsed)
    except Exception as exc:
        return {"available": False, "why": f"{type(exc).__name__}: {exc}"}
    total = statistics.median(times)
    tasks = calls(n)
    return {"available": True, "what": f"{path.name} {n} on local_cluster(3)",
            "n": n, "value": fib(n), "tasks": tasks, "runs_s": [round(x, 3) for x in times],
            "total_s": round(total, 4), "tasks_per_s": round(tasks / total, 1)}


def baseline(module: str, package: str, python: str | None, env: str, pip: str) -> dict:
    """A baseline in `python` (or $env), else here if `package` is importable."""
    python = python or os.environ.get(env)
    if python:
        return run_in(python, module, str(N), timeout=900)
    if importlib.util.find_spec(package) is None:
        return {"available": False,
                "why": f"{package} is not importable in {sys.executable}; install it "
                f"(pip install '{pip}', or pip install -e '.[bench]') or pass an interpreter "
                f"that has it via {env}"}
    return importlib.import_module(module).measure(N, RUNS)


def print_table(results: dict) -> None:
    ray = results.get("ray", {})
    ray_rate = ray.get("tasks_per_s") if ray.get("available") else None
    print(f"fib({N}) with a spawn per call: {calls(N)} tasks, median of {RUNS} runs after a warm-up")
    print("| system | total s | tasks/s | ratio vs Ray tasks/s |")
    print("|---|---:|---:|---:|")
    for name, res in results.items():
        if res.get("available"):
            ratio = f"{res['tasks_per_s'] / ray_rate:.2f}x" if ray_rate else "-"
            print(f"| {name} | {res['total_s']:.3f} | {res['tasks_per_s']:.1f} | {ratio} |")
        else:
            print(f"| {name} | - | - | - |")
    for name, res in results.items():
        if not res.get("available"):
            print(f"{name}: not measured: {res.get('why')}")
    print(f"target: Swarm at least {TARGET:g}x Ray's rate (tasks/s)")


def main(ray_python: str | None = None, dask_python: str | None = None) -> dict:
    assert calls(N) == 1973
    results = {
        "swarm": swarm_fib(),
        "ray": baseline("bench.baselines.ray_fib", "ray", ray_python,
                        "SWARM_BENCH_RAY_PYTHON", "ray"),
        "dask": baseline("bench.baselines.dask_fib", "distributed", dask_python,
                         "SWARM_BENCH_DASK_PYTHON", "dask[distributed]"),
    }
    print_table(results)
    s, r = results["swarm"], results["ray"]
    if s.get("available") and r.get("available"):
        s["over_ray"] = round(s["tasks_per_s"] / r["tasks_per_s"], 2)
        s["target_met"] = s["over_ray"] >= TARGET
    return results


if __name__ == "__main__":
    args = sys.argv[1:]

    def _opt(flag: str) -> str | None:
        if flag not in args:
            return None
        i = args.index(flag)
        return args[i + 1] if i + 1 < len(args) else sys.exit(f"{flag} needs a path")

    main(_opt("--ray-python"), _opt("--dask-python"))
