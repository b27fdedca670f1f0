"""The zmq_rtt ping-pong written with two Ray actors on this machine (benchmark-only extra).

Ray is never a runtime dependency of swarm. This module imports only the standard library and
Ray, so it runs in any interpreter that has Ray (e.g. a separate venv), without swarm's deps:

    python3 -m venv /tmp/rayvenv && /tmp/rayvenv/bin/pip install ray
    /tmp/rayvenv/bin/python -m bench.baselines.ray_pingpong      # from the repo root

Actor A calls `ray.get(b.ping.remote(payload))` in a loop and times each call with
perf_counter_ns inside A's own process, so the figure is actor-to-actor (two worker processes),
not driver-to-actor. Payloads <= 100 KiB are inlined in the task spec by Ray, so no object
store is involved for these sizes.

Kept on loopback and off the home directory:
- RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray take 127.0.0.1 as the node address (its
  single-machine mode); on Linux it would otherwise pick the routable address and its gRPC
  servers would listen on every interface. `_node_ip_address="127.0.0.1"` alone does not do it:
  Ray rewrites a loopback address to the routable one.
- RAY_AUTH_MODE=token with a fresh RAY_AUTH_TOKEN in the environment: token auth stays on but
  Ray does not write ~/.ray/auth_token.
- RAY_USAGE_STATS_ENABLED=0: no usage report.
- a temporary _temp_dir instead of /tmp/ray, removed afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time

from bench.baselines import SIZES, print_sizes, summarize

WARMUP = 200

_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
}


def _make_actors(ray):
    # Defined inside a function so cloudpickle ships them by value: Ray's workers need not be
    # able to import this module.
    @ray.remote(num_cpus=0)
    class Ponger:
        def ping(self, payload: bytes) -> bytes:
            return payload

    @ray.remote(num_cpus=0)
    class Pinger:
        def run(self, b, size: int, warmup: int, rounds: int) -> list:
            import time as _t

            import ray as _ray

            payload = b"x" * size
            for _ in range(warmup):
                _ray.get(b.ping.remote(payload))
            out = []
            perf = _t.perf_counter_ns
            for _ in range(rounds):
                t0 = perf()
                reply = _ray.get(b.ping.remote(payload))
                out.append(perf() - t0)
                if len(reply) != size:
                    raise RuntimeError(f"ping returned {len(reply)} bytes for {size}")
            return out

        def pid(self) -> int:
            import os as _os

            return _os.getpid()

    return Pinger, Ponger


def measure(sizes=SIZES, rounds: int = 2000, budget_s: float = 45.0) -> dict:
    """Median and p90 actor-to-actor call time (us) per payload size, or why Ray is absent."""
    # Ray reads these when it is imported (ray_constants, the C++ config): set them first.
    preloaded = "ray" in sys.modules
    saved = ray_environment()
    try:
        import ray
    except ImportError as exc:
        _restore(saved)
        return {
            "available": False,
            "why": f"ray is not importable in {sys.executable} ({exc}); it is a benchmark-only "
            "extra: python3 -m venv /tmp/rayvenv && /tmp/rayvenv/bin/pip install ray, then "
            "/tmp/rayvenv/bin/python -m bench.baselines.ray_pingpong (later: pip install "
            "-e '.[bench]')",
        }
    temp_dir = tempfile.mkdtemp(prefix="rb")  # short: Ray puts unix sockets under it
    t_start = time.perf_counter()
    try:
        try:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                _temp_dir=temp_dir,
                log_to_driver=False,
                logging_level="ERROR",
            )
        except Exception as exc:
            return {
                "available": False,
                "why": f"ray {ray.__version__} is installed but ray.init failed: "
                f"{type(exc).__name__}: {exc}",
            }
        init_s = time.perf_counter() - t_start
        node_ip = ray.util.get_node_ip_address()
        if node_ip != "127.0.0.1":
            return {
                "available": False,
                "why": f"Ray took node address {node_ip}, not 127.0.0.1, so it listens beyond "
                "loopback; not measured"
                + (" (ray was imported before this module could set its env)" if preloaded else ""),
            }
        Pinger, Ponger = _make_actors(ray)
        a, b = Pinger.remote(), Ponger.remote()
        ray.get([a.pid.remote(), b.ping.remote(b"")])  # both actors up
        results = {}
        used = rounds
        t_meas = time.perf_counter()
        for i, size in enumerate(sizes):
            # Fewer rounds if the first size shows the budget would be exceeded.
            samples = ray.get(a.run.remote(b, size, WARMUP, used))
            results[str(size)] = summarize(samples)
            if i == 0:
                per_size = time.perf_counter() - t_meas
                left = len(sizes) - 1
                if left and per_size * left > budget_s:
                    used = max(200, int(used * budget_s / (per_size * left)))
        return {
            "available": True,
            "what": "Ray actor A: ray.get(b.ping.remote(payload)), two actor processes",
            "ray": ray.__version__,
            "node_ip": node_ip,
            "init_s": round(init_s, 2),
            "rounds": rounds if used == rounds else f"{rounds} (first size), {used} (others)",
            "warmup": WARMUP,
            "sizes": results,
            "seconds": round(time.perf_counter() - t_start, 2),
        }
    finally:
        try:
            ray.shutdown()  # also after a failed init: it stops whatever Ray did start
        except Exception:
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)
        _restore(saved)


def ray_environment() -> dict:
    """Set what Ray reads when it is imported (ray_constants, the C++ config) and a fresh auth
    token; returns the previous values, for `_restore`."""
    saved = {k: os.environ.get(k) for k in (*_ENV, "RAY_AUTH_TOKEN")}
    os.environ.update(_ENV)
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    return saved


def _restore(saved: dict) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def main() -> dict:
    res = measure()
    if not res["available"]:
        print(f"  ray: not available: {res['why']}")
        return res
    print(f"  ray {res['ray']} on {res['node_ip']}, init {res['init_s']} s")
    print_sizes(res)
    return res


if __name__ == "__main__":
    if "--json" in sys.argv:
        print(json.dumps(measure()))
    else:
        main()
