"""The side-by-side bench's work written the way a Ray user writes it (runs in the Ray venv).

`python -m bench.baselines.ray_peer --json ROUNDS MIB TASKS FIB RUNS` (from the repo root, in an
interpreter that has Ray and numpy: `bench.peers` makes one) prints one JSON line:

- `call_us`: a small round trip, the driver calling an actor (`ray.get(a.ping.remote(p))`, 64
  bytes each way), median of ROUNDS calls after a warm-up;
- `array`: a float64 numpy array of MIB MiB made by a task (so it lives in Ray's object store,
  written by a worker), summed three ways, each the median of RUNS after one warm-up:
  an actor that holds the array sums it where it lives (`ray.get(h.total.remote())`), the
  driver's `ray.get(ref)` (zero-copy from the shared-memory store) then `.sum()`, and a task
  given the object (`ray.get(total.remote(ref))`);
- `fanout_s`: TASKS trivial tasks submitted, then gathered in order (`ray.get(list)`);
- `fib_s`: fib(FIB) with a task per call, each `ray.get`ting its two children (ray_fib).

Ray runs on 127.0.0.1 with num_cpus=2, as in ray_pingpong (same environment, temporary
_temp_dir). Only the standard library, numpy and Ray are imported.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time

from bench.baselines.ray_fib import _make_fib
from bench.baselines.ray_pingpong import _restore, ray_environment


def _median_s(call, runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(rounds: int, mib: int, tasks: int, fib_n: int, runs: int) -> dict:
    saved = ray_environment()
    try:
        import numpy as np
        import ray
    except ImportError as exc:
        _restore(saved)
        return {"available": False, "why": f"{sys.executable}: {exc}"}
    temp_dir = tempfile.mkdtemp(prefix="rb")  # short: Ray puts unix sockets under it
    try:
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=temp_dir, log_to_driver=False, logging_level="ERROR")
        out: dict = {"available": True, "ray": ray.__version__, "numpy": np.__version__}

        @ray.remote
        class Echo:
            def ping(self, payload: bytes) -> bytes:
                return payload

        echo = Echo.remote()
        payload = b"x" * 64
        for _ in range(200):
            ray.get(echo.ping.remote(payload))
        samples = []
        for _ in range(rounds):
            t = time.perf_counter_ns()
            ray.get(echo.ping.remote(payload))
            samples.append(time.perf_counter_ns() - t)
        out["call_us"] = round(statistics.median(samples) / 1e3, 1)
        ray.kill(echo)

        n = mib * 2**20 // 8
        expected = float(np.arange(n, dtype=np.float64).sum())

        @ray.remote
        def make(n: int):
            return np.arange(n, dtype=np.float64)

        @ray.remote
        def total(a) -> float:
            return float(a.sum())

        @ray.remote
        class Holder:
            def __init__(self, n: int) -> None:
                self.a = np.arange(n, dtype=np.float64)

            def total(self) -> float:
                return float(self.a.sum())

        ref = make.remote(n)
        ray.wait([ref])
        holder = Holder.remote(n)

        def check(value: float) -> None:
            if value != expected:
                raise RuntimeError(f"sum {value}, expected {expected}")

        def get_sum() -> None:
            check(float(ray.get(ref).sum()))

        def get_only() -> None:
            ray.get(ref)

        out["array"] = {
            "mib": mib,
            "actor_ms": _median_s(lambda: check(ray.get(holder.total.remote())), runs) * 1e3,
            "get_ms": _median_s(get_only, runs) * 1e3,
            "get_sum_ms": _median_s(get_sum, runs) * 1e3,
            "task_ms": _median_s(lambda: check(ray.get(total.remote(ref))), runs) * 1e3,
        }
        ray.kill(holder)

        @ray.remote
        def double(i: int) -> int:
            return 2 * i

        def fan_out() -> None:
            got = ray.get([double.remote(i) for i in range(tasks)])
            if got != [2 * i for i in range(tasks)]:
                raise RuntimeError("fan-out results out of order or wrong")

        out["fanout"] = {"tasks": tasks, "s": _median_s(fan_out, runs)}
        fib = _make_fib(ray)
        value, count = ray.get(fib.remote(fib_n))
        out["fib"] = {"n": fib_n, "value": value, "tasks": count,
                      "s": _median_s(lambda: ray.get(fib.remote(fib_n)), runs)}
        return out
    except Exception as exc:
        return {"available": False, "why": f"ray: {type(exc).__name__}: {exc}"}
    finally:
        try:
            ray.shutdown()
        except Exception:
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)
        _restore(saved)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if a.isdigit()]
    print(json.dumps(measure(*(args or [2000, 100, 2000, 15, 3]))))
