"""The recursive fib of the Skywriting slides as Dask distributed futures (benchmark-only extra).

Every fib(n) is a Dask task; for n >= 2 it opens `distributed.worker_client()` (which secedes
the task from its worker's thread pool while it waits), submits fib(n-1) and fib(n-2) with
pure=False (otherwise the equal calls of the tree would share one key and run once) and
gathers both; fib(0) = 0 and fib(1) = 1 submit nothing. Each task returns (value, tasks in its
subtree), so the count is counted: fib(15) = 610 in 1973 tasks.

Setup, to match Ray's num_cpus=2 on this 2-core machine: LocalCluster(processes=True,
n_workers=2, threads_per_worker=1), scheduler and workers on 127.0.0.1, no dashboard, scratch
space in a temporary directory. (A seceded task frees its thread, so more than two tasks are
in flight while parents wait, as with Ray's blocked workers.) The client times
`client.submit(fib, n, pure=False).result()` with perf_counter: one untimed warm-up run, then
`runs` timed runs; reported: median total seconds and tasks/s = tasks / median seconds.

    /tmp/daskvenv/bin/python -m bench.baselines.dask_fib [--json] [n]     # from the repo root
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile

from bench.baselines import fib_cli, time_fib

N = 15


def fib(n: int):
    if n < 2:
        return n, 1
    from distributed import worker_client

    with worker_client() as client:
        (a, ta), (b, tb) = client.gather([client.submit(fib, n - 1, pure=False),
                                          client.submit(fib, n - 2, pure=False)])
    return a + b, 1 + ta + tb


def measure(n: int = N, runs: int = 3) -> dict:
    """Median total seconds and tasks/s of fib(n) as Dask futures, or why Dask is absent."""
    try:
        import dask
        import distributed
    except ImportError as exc:
        return {"available": False,
                "why": f"dask[distributed] is not importable in {sys.executable} ({exc})"}
    tmp = tempfile.mkdtemp(prefix="db")
    try:
        with dask.config.set({"temporary-directory": tmp}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        ) as cluster, distributed.Client(cluster) as client:
            timed = time_fib(lambda: client.submit(fib, n, pure=False).result(), n, runs)
        return {
            "available": True,
            "what": f"fib({n}), one Dask task per call, each submits and gathers its two "
            "children in worker_client()",
            "dask": distributed.__version__,
            "cluster": "LocalCluster: 2 worker processes x 1 thread",
            **timed,
        }
    except Exception as exc:
        return {"available": False, "why": f"dask {dask.__version__}: {type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(n: int = N) -> dict:
    return fib_cli(measure, "dask", [str(n)], N)


if __name__ == "__main__":
    fib_cli(measure, "dask", sys.argv[1:], N)
