"""The recursive fib of the Skywriting slides as Ray remote tasks (benchmark-only extra).

Every fib(n) is a Ray task; for n >= 2 it submits fib(n-1) and fib(n-2) as tasks and blocks
in `ray.get` on both (Ray releases the blocked task's CPU and starts more workers as needed);
fib(0) = 0 and fib(1) = 1 submit nothing. Each task returns (value, tasks in its subtree), so
the task count is counted, not assumed: fib(15) = 610 in 1973 tasks.

Ray runs locally with num_cpus=2 (this machine's cores), on loopback, as in ray_pingpong (same
environment settings, temporary _temp_dir). The driver times `ray.get(fib.remote(n))` with
perf_counter: one untimed warm-up run (which also starts the worker processes), then `runs`
timed runs; reported: median total seconds and tasks/s = tasks / median seconds.

    /tmp/rayvenv/bin/python -m bench.baselines.ray_fib [--json] [n]     # from the repo root
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time

from bench.baselines import fib_cli
from bench.baselines.ray_pingpong import _ENV, _restore

N = 15


def _make_fib(ray):
    # Defined inside a function so cloudpickle ships it by value (workers need not import
    # this module); the closure refers to the remote function itself for the recursion.
    @ray.remote
    def fib(n: int):
        if n < 2:
            return n, 1
        (a, ta), (b, tb) = ray.get([fib.remote(n - 1), fib.remote(n - 2)])
        return a + b, 1 + ta + tb

    return fib


def measure(n: int = N, runs: int = 3) -> dict:
    """Median total seconds and tasks/s of fib(n) as Ray tasks, or why Ray is absent."""
    saved = {k: os.environ.get(k) for k in (*_ENV, "RAY_AUTH_TOKEN")}
    os.environ.update(_ENV)
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    try:
        import ray
    except ImportError as exc:
        _restore(saved)
        return {"available": False, "why": f"ray is not importable in {sys.executable} ({exc})"}
    temp_dir = tempfile.mkdtemp(prefix="rb")  # short: Ray puts unix sockets under it
    try:
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=temp_dir, log_to_driver=False, logging_level="ERROR")
        fib = _make_fib(ray)
        value, tasks = ray.get(fib.remote(n))  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            v, t = ray.get(fib.remote(n))
            times.append(time.perf_counter() - t0)
            if (v, t) != (value, tasks):
                raise RuntimeError(f"fib({n}) gave {(v, t)}, then {(value, tasks)}")
        total = statistics.median(times)
        return {
            "available": True,
            "what": f"fib({n}), one Ray task per call, each ray.get()s its two children",
            "ray": ray.__version__,
            "num_cpus": 2,
            "n": n, "value": value, "tasks": tasks,
            "runs_s": [round(x, 3) for x in times],
            "total_s": round(total, 3),
            "tasks_per_s": round(tasks / total, 1),
        }
    except Exception as exc:
        return {"available": False, "why": f"ray {ray.__version__}: {type(exc).__name__}: {exc}"}
    finally:
        try:
            ray.shutdown()
        except Exception:
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)
        _restore(saved)


def main(n: int = N) -> dict:
    return fib_cli(measure, "ray", [str(n)], N)


if __name__ == "__main__":
    fib_cli(measure, "ray", sys.argv[1:], N)
