"""The side-by-side bench's work written the way a Dask user writes it (runs in the Dask venv).

`python -m bench.baselines.dask_peer --json MIB TASKS FIB RUNS` (from the repo root, in an
interpreter that has dask[distributed] and numpy: `bench.peers` makes one) prints one JSON line:

- `array`: a float64 numpy array of MIB MiB made on a worker (`client.submit(np.arange, ...)`),
  summed where it lives (`client.submit(np.sum, fut).result()`) and fetched to the client
  (`fut.result().sum()`), each the median of RUNS after one warm-up;
- `fanout`: TASKS trivial tasks (`client.map`), gathered in order (`client.gather`);
- `fib`: fib(FIB) with a task per call (dask_fib: each task submits and gathers its children
  in `worker_client()`).

LocalCluster of 2 worker processes x 1 thread on 127.0.0.1 (this machine's 2 cores), no
dashboard, scratch space in a temporary directory, as in dask_fib.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import sys
import tempfile
import time

from bench.baselines.dask_fib import fib


def _median_s(call, runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def double(i: int) -> int:
    return 2 * i


def measure(mib: int, tasks: int, fib_n: int, runs: int) -> dict:
    try:
        import dask
        import distributed
        import numpy as np
    except ImportError as exc:
        return {"available": False, "why": f"{sys.executable}: {exc}"}
    tmp = tempfile.mkdtemp(prefix="db")
    try:
        with dask.config.set({"temporary-directory": tmp}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        ) as cluster, distributed.Client(cluster) as client:
            out: dict = {"available": True, "dask": distributed.__version__,
                         "numpy": np.__version__}
            n = mib * 2**20 // 8
            expected = float(np.arange(n, dtype=np.float64).sum())
            arr = client.submit(np.arange, n, dtype=np.float64)
            distributed.wait(arr)

            def check(value) -> None:
                if float(value) != expected:
                    raise RuntimeError(f"sum {value}, expected {expected}")

            out["array"] = {
                "mib": mib,
                "where_ms": _median_s(lambda: check(client.submit(np.sum, arr, pure=False)
                                                    .result()), runs) * 1e3,
                "fetch_sum_ms": _median_s(lambda: check(arr.result().sum()), runs) * 1e3,
            }

            def fan_out() -> None:
                got = client.gather(client.map(double, range(tasks), pure=False))
                if got != [2 * i for i in range(tasks)]:
                    raise RuntimeError("fan-out results out of order or wrong")

            out["fanout"] = {"tasks": tasks, "s": _median_s(fan_out, runs)}
            value, count = client.submit(fib, fib_n, pure=False).result()
            out["fib"] = {"n": fib_n, "value": value, "tasks": count,
                          "s": _median_s(lambda: client.submit(fib, fib_n, pure=False).result(),
                                         runs)}
            return out
    except Exception as exc:
        return {"available": False, "why": f"dask: {type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if a.isdigit()]
    print(json.dumps(measure(*(args or [100, 2000, 15, 3]))))
