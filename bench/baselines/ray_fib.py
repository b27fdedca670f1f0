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

import shutil
import sys
import tempfile

from bench.baselines import fib_cli, time_fib
from bench.baselines.ray_pingpong import _restore, ray_environment

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
    saved = ray_environment()
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
        return {
            "available": True,
            "what": f"fib({n}), one Ray task per call, each ray.get()s its two children",
            "ray": ray.__version__,
            "num_cpus": 2,
            **time_fib(lambda: ray.get(fib.remote(n)), n, runs),
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
