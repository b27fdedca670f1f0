"""The load generator of bench/web.py: HTTP clients, the request mix, the data, CPU accounting.

The same code drives the Swarm example and its Flask + SQLite peer, so both see the same
requests: `Clients` runs PROCESSES load processes (so that one interpreter's GIL does not cap
the rate) of threads, each thread opening a new HTTP connection per request (JSON bodies with
`Content-Type: application/json`), each process drawing requests from its own seeded sequence
(90% timelines `GET /api/timeline/<user>`, 10% posts `POST /api/posts`, users uniform) until
the slice's time is up. A slice's figures: requests, failed requests (any answer but 200/201, or none),
wall time, requests per second, latency percentiles (client side), and the CPU seconds the
server's processes used meanwhile (`/proc/<pid>/stat` of each process of the server's tree,
user + system), per request.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator

TIMELINE_SHARE = 0.9
POSTS = 3  # per user, before the load
TICK = os.sysconf("SC_CLK_TCK")
PROCESSES = 4  # load processes; the clients are spread over them as threads


class Load:
    """HTTP clients against one server's port."""

    def __init__(self, port: int, keep_alive: bool = False) -> None:
        self.port, self.keep_alive = port, keep_alive
        self.local = threading.local()  # (keep_alive: each client thread's connection)

    def call(self, method: str, path: str, body=None) -> tuple[int, object]:
        """One request; on a new connection, or (keep_alive) on this thread's, which
        http.client opens again if the server closed it."""
        conn = getattr(self.local, "conn", None) if self.keep_alive else None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        kept = False
        # a client that will not reuse its connection says so (HTTP/1.1's `Connection:
        # close`), so that a server that keeps connections closes it after the answer
        headers = {} if self.keep_alive else {"Connection": "close"}
        try:
            if body is None:
                conn.request(method, path, headers=headers)
            else:
                conn.request(method, path, json.dumps(body),
                             {"Content-Type": "application/json", **headers})
            r = conn.getresponse()
            answer = r.status, json.loads(r.read() or b"null")
            kept = self.keep_alive
            return answer
        finally:
            self.local.conn = conn if kept else None
            if not kept:
                conn.close()

    def run(self, jobs: Iterable, clients: int,
            seconds: float | None = None) -> tuple[list[float], int, float]:
        """Run the jobs (method, path, body) from `clients` threads until they are done or
        `seconds` have passed (requests under way then are finished and counted): (latencies
        in seconds, failed requests, wall seconds)."""
        latencies: list[float] = []
        failed = [0]
        lock = threading.Lock()
        todo = iter(jobs)
        deadline = None if seconds is None else time.perf_counter() + seconds

        def client():
            while True:
                with lock:
                    job = next(todo, None)
                if job is None or (deadline is not None and time.perf_counter() > deadline):
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


def setup_data(load: Load, g, clients: int, posts: int = POSTS) -> int:
    """Users, follows (each user follows their neighbours in `g`) and `posts` posts per user,
    through the API; returns how many requests failed."""
    users = [f"user{u}" for u in sorted(g)]
    failed = load.run([("POST", "/api/users", {"name": n}) for n in users], clients)[1]
    follows = [("POST", "/api/follow", {"user": f"user{u}", "follows": f"user{v}"})
               for u in sorted(g) for v in sorted(g[u])]
    failed += load.run(follows, clients)[1]
    made = [("POST", "/api/posts", {"user": n, "text": f"post {k} of {n}"})
            for k in range(posts) for n in users]
    return failed + load.run(made, clients)[1]


def timelines(load: Load, g) -> dict:
    """Every user's whole timeline (limit 200: all the posts of whom they follow), as sets of
    (author, text): what two servers given the same data must agree on."""
    out = {}
    for u in sorted(g):
        status, body = load.call("GET", f"/api/timeline/user{u}?limit=200")
        out[u] = (status, frozenset((p["user"], p["text"]) for p in body.get("posts", ()))
                  if isinstance(body, dict) else body)
    return out


def jobs(g, seed: int) -> Iterator[tuple]:
    """An endless seeded sequence of requests to the users of `g` (a graph, or a list of its
    nodes): TIMELINE_SHARE timelines, the rest posts."""
    rng = random.Random(seed)
    users = sorted(g)
    for i in itertools.count():
        u = f"user{rng.choice(users)}"
        if rng.random() < TIMELINE_SHARE:
            yield ("GET", f"/api/timeline/{u}", None)
        else:
            yield ("POST", "/api/posts", {"user": u, "text": f"load post {seed}/{i}"})


def _load_process() -> None:
    """A load process (`python -m bench.webload`): a JSON line [port, users, seed, threads,
    seconds] in, a JSON line [latencies, failed, CPU seconds] out, until stdin ends."""
    for line in sys.stdin:
        port, users, seed, threads, seconds, keep_alive = json.loads(line)
        cpu = client_cpu()
        latencies, failed, _ = Load(port, keep_alive).run(jobs(users, seed), threads, seconds)
        print(json.dumps([latencies, failed, client_cpu() - cpu]), flush=True)


class Clients:
    """`clients` HTTP clients as threads of PROCESSES load processes, started once and used
    for every slice (`with Clients(32) as c: c.run(port, g, seed, seconds)`)."""

    def __init__(self, clients: int, processes: int = PROCESSES,
                 keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive  # (a connection per client thread, not per request)
        self.threads = [clients // processes + (i < clients % processes)
                        for i in range(processes)]
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.procs = [subprocess.Popen([sys.executable, "-m", "bench.webload"], cwd=root,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for _ in range(processes)]

    def run(self, port: int, g, seed: int, seconds: float) -> tuple[list[float], int, float,
                                                                      float]:
        """A slice: (latencies in seconds, failed requests, wall seconds, the load processes'
        CPU seconds); process k draws from the sequence seeded 1000 * seed + k."""
        users = sorted(g)
        t0 = time.perf_counter()
        for k, (proc, threads) in enumerate(zip(self.procs, self.threads, strict=True)):
            proc.stdin.write(json.dumps([port, users, 1000 * seed + k, threads, seconds,
                                        self.keep_alive]) + "\n")
            proc.stdin.flush()
        got = []
        for proc in self.procs:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"load process {proc.pid} exited {proc.wait()}")
            got.append(json.loads(line))
        wall = time.perf_counter() - t0
        return ([x for lat, _, _ in got for x in lat], sum(f for _, f, _ in got), wall,
                sum(c for _, _, c in got))

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def tree_pids(roots: Iterable[int]) -> list[int]:
    """The processes `roots` and all their descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far (a process gone is
    counted as 0: read the tree before and after a slice from the same pids)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            continue
    return total / TICK


def client_cpu() -> float:
    """CPU seconds this process (the load generator's threads) has used."""
    t = os.times()
    return t.user + t.system


def slice_figures(latencies: list[float], failed: int, wall: float, server_cpu: float,
                  load_cpu: float) -> dict:
    """The figures of one slice or of several pooled (latencies in seconds)."""
    n = len(latencies)
    q = statistics.quantiles(latencies, n=100) if n > 1 else [latencies[0] if n else 0.0] * 99
    return {"requests": n, "failed": failed, "seconds": round(wall, 2),
            "rps": n / wall if wall else 0.0, "p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3,
            "p99_ms": q[98] * 1e3, "server_cpu_s": round(server_cpu, 2),
            "cpu_ms_per_request": server_cpu * 1e3 / n if n else None,
            "client_cpu_ms_per_request": load_cpu * 1e3 / n if n else None}


if __name__ == "__main__":
    _load_process()
