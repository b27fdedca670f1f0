"""The Twitter example (examples/twitter) under load, before and after `swarm place`.

Method (`python -m bench.web [--requests N] [--clients C]`):
- a local 3-node cluster; the example served by `python -m swarm.web` in a process of its
  own (as `make web` does), with one front-end thread per client;
- data through the API: the social network of bench.placement (a stochastic block model, 3
  communities x 40 users, p_in 0.25, p_out 0.01, seed 7), each user following their
  neighbours, and POSTS posts per user;
- load: REQUESTS requests from CLIENTS concurrent clients (threads, a new HTTP connection per
  request), 90% timelines (GET /api/timeline/<user>) and 10% posts (POST /api/posts), users
  drawn uniformly (seeded); WARMUP requests first, not measured (they fill the nodes' memos);
- measured: requests per second, latency percentiles (client side), failed requests (any
  answer but 200/201, or no answer), and per request the hops (`hops_in` summed over the
  nodes' status) and the asks (`fetches`: index lookups and other answers brought to a
  program that stays);
- then `cluster.apply.place` (what `swarm place` runs) moves the Refs by the access graph
  the load left on the nodes, and the same measurement runs again.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "twitter" / "app.py"
REQUESTS, CLIENTS, WARMUP = 5000, 32, 1000
POSTS = 3  # per user, before the load
TIMELINE_SHARE = 0.9


def social_network():
    from bench.placement import follow_graph

    return follow_graph()


class Load:
    """HTTP clients against the example's front end."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body=None) -> tuple[int, object]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, None if body is None else json.dumps(body))
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def run(self, jobs: list, clients: int) -> tuple[list[float], int, float]:
        """Run the jobs (method, path, body) from `clients` threads: (latencies in seconds,
        failed requests, wall seconds)."""
        latencies: list[float] = []
        failed = [0]
        lock = threading.Lock()
        todo = iter(jobs)

        def client():
            while True:
                with lock:
                    job = next(todo, None)
                if job is None:
                    return
                t0 = time.perf_counter()
                try:
                    status, _ = self.call(*job)
                    ok = status in (200, 201)
                except (OSError, http.client.HTTPException, ValueError):
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    failed[0] += not ok

        threads = [threading.Thread(target=client) for _ in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies, failed[0], time.perf_counter() - t0


def setup_data(load: Load, g, clients: int) -> int:
    """Users, follows and posts through the API; returns how many requests failed."""
    users = [f"user{u}" for u in sorted(g)]
    failed = load.run([("POST", "/api/users", {"name": n}) for n in users], clients)[1]
    follows = [("POST", "/api/follow", {"user": f"user{u}", "follows": f"user{v}"})
               for u in sorted(g) for v in sorted(g[u])]
    failed += load.run(follows, clients)[1]
    posts = [("POST", "/api/posts", {"user": n, "text": f"post {k} of {n}"})
             for k in range(POSTS) for n in users]
    return failed + load.run(posts, clients)[1]


def jobs_for(g, n: int, seed: int) -> list:
    rng = random.Random(seed)
    users = sorted(g)
    jobs = []
    for i in range(n):
        u = f"user{rng.choice(users)}"
        if rng.random() < TIMELINE_SHARE:
            jobs.append(("GET", f"/api/timeline/{u}", None))
        else:
            jobs.append(("POST", "/api/posts", {"user": u, "text": f"load post {seed}/{i}"}))
    return jobs


def counters(cluster) -> dict:
    rows = cluster.status()
    return {k: sum(r[k] for r in rows) for k in ("hops_in", "fetches")}


def measure_pass(cluster, load: Load, g, requests: int, clients: int, seed: int) -> dict:
    load.run(jobs_for(g, WARMUP, seed), clients)  # memos learn where things are
    before = counters(cluster)
    latencies, failed, wall = load.run(jobs_for(g, requests, seed + 1), clients)
    after = counters(cluster)
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "failed": failed, "seconds": wall,
            "rps": len(latencies) / wall, "p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3,
            "p99_ms": q[98] * 1e3,
            "hops_per_request": (after["hops_in"] - before["hops_in"]) / len(latencies),
            "asks_per_request": (after["fetches"] - before["fetches"]) / len(latencies)}


def start_server(cluster_file: str, workers: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.web", str(APP), "--cluster", cluster_file, "--port", "0",
         "--workers", str(workers)], env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("serving "):
            return proc, int(line.split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
    proc.wait()
    raise RuntimeError(f"the web server did not start (exit {proc.returncode})")


def measure(requests: int = REQUESTS, clients: int = CLIENTS) -> dict:
    import swarm
    from cluster.apply import place

    g = social_network()
    res: dict = {"users": g.number_of_nodes(), "follows": 2 * g.number_of_edges(),
                 "clients": clients}
    with tempfile.TemporaryDirectory() as tmp, swarm.local_cluster(3, tmp) as cluster:
        proc, port = start_server(cluster.config.path, clients)
        try:
            load = Load(port)
            t0 = time.perf_counter()
            res["setup_failed"] = setup_data(load, g, clients)
            res["setup_s"] = time.perf_counter() - t0
            res["before"] = measure_pass(cluster, load, g, requests, clients, seed=1)
            t0 = time.perf_counter()
            plan = place(cluster)
            res["place_s"] = time.perf_counter() - t0
            res.update(moves=len(plan.moves), cut_before=plan.cut_before,
                       cut_after=plan.cut_after, balance_after=plan.balance_after)
            res["after"] = measure_pass(cluster, load, g, requests, clients, seed=3)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    res["errors"] = res["setup_failed"] + res["before"]["failed"] + res["after"]["failed"]
    return res


def print_table(res: dict) -> None:
    print(f"the Twitter example on 3 local nodes: {res['users']} users, {res['follows']} "
          f"follows, {POSTS} posts each (setup through the API: {res['setup_s']:.1f} s); "
          f"{res['before']['requests']} requests per pass from {res['clients']} concurrent "
          f"clients, {TIMELINE_SHARE:.0%} timelines, the rest posts, after {WARMUP} unmeasured")
    print("| placement | requests/s | p50 ms | p95 ms | p99 ms | hops/request | "
          "asks/request | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, key in (("as created", "before"), ("after swarm place", "after")):
        r = res[key]
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['hops_per_request']:.2f} | "
              f"{r['asks_per_request']:.2f} | {r['failed']} |")
    b, a = res["before"], res["after"]
    print(f"swarm place: {res['moves']} moves in {res['place_s']:.1f} s, cut weight "
          f"{res['cut_before']:.0f} -> {res['cut_after']:.0f}, balance {res['balance_after']:.2f}; "
          f"hops per request {b['hops_per_request'] / max(a['hops_per_request'], 1e-9):.2f}x "
          f"fewer, requests/s {a['rps'] / b['rps']:.2f}x; failed requests in all: "
          f"{res['errors']} (setup {res['setup_failed']})")


def main(requests: int = REQUESTS, clients: int = CLIENTS) -> dict:
    t0 = time.perf_counter()
    res = measure(requests, clients)
    res["total_s"] = round(time.perf_counter() - t0, 1)
    print_table(res)
    print(f"total {res['total_s']} s (cluster start-up included)")
    return res


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[args.index("--requests") + 1]) if "--requests" in args else REQUESTS,
         int(args[args.index("--clients") + 1]) if "--clients" in args else CLIENTS)
