"""Small round trips to the web peers: a Redis GET and a Flask GET on gunicorn, keep-alive.

`python -m bench.baselines.web_peer --json ROUNDS [REDIS_SERVER]` (from the repo root, in an
interpreter that has flask, gunicorn and redis: `bench.peers` makes one) prints one JSON line:

- `redis_get_us`: redis-py `r.get(key)` of a 64-byte value (one connection, as a user's
  client keeps it), median of ROUNDS after a warm-up, against a redis-server this module
  starts on a free port of 127.0.0.1 (no persistence: `--save ""`, `--appendonly no`) and
  stops; absent when no REDIS_SERVER path is given;
- `flask_get_us`: `GET /ping` answered by a Flask app (`bench.baselines.flask_ping:app`)
  served by gunicorn (1 worker, `gthread` with 2 threads: gunicorn's sync worker closes every
  connection, so keep-alive needs threads), one kept-alive `http.client` connection, median
  of ROUNDS after a warm-up.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from bench.baselines import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _median_us(call, rounds: int) -> float:
    for _ in range(min(200, rounds)):
        call()
    samples = []
    for _ in range(rounds):
        t = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - t)
    return round(statistics.median(samples) / 1e3, 1)


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_get(server: str, rounds: int) -> dict:
    import redis

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="rd") as tmp:
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", tmp],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_port(port, proc, server)
            r = redis.Redis(host="127.0.0.1", port=port)
            r.set("k", b"x" * 64)
            if r.get("k") != b"x" * 64:
                raise RuntimeError("redis GET returned something else than was SET")
            us = _median_us(lambda: r.get("k"), rounds)
            version = r.info()["redis_version"]
            r.close()
        finally:
            _stop(proc)
    return {"us": us, "redis_server": version, "redis_py": redis.__version__}


def flask_get(rounds: int) -> dict:
    from importlib.metadata import version

    port = _free_port()
    gunicorn_bin = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen([gunicorn_bin, "-w", "1", "-k", "gthread", "--threads", "2",
                             "--keep-alive", "30", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "bench.baselines.flask_ping:app"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc, "gunicorn")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def get() -> None:
            conn.request("GET", "/ping")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or len(body) != 64 or resp.will_close:
                raise RuntimeError(f"GET /ping: {resp.status}, {len(body)} bytes, "
                                   f"will_close={resp.will_close}")

        us = _median_us(get, rounds)
        conn.close()
    finally:
        _stop(proc)
    return {"us": us, "flask": version("flask"), "gunicorn": version("gunicorn"),
            "server": "gunicorn -w 1 -k gthread --threads 2, keep-alive"}


def measure(rounds: int, server: str | None) -> dict:
    out: dict = {"available": True}
    try:
        out["flask_get"] = flask_get(rounds)
        if server:
            out["redis_get"] = redis_get(server, rounds)
    except Exception as exc:
        return {"available": False, "why": f"web peers: {type(exc).__name__}: {exc}"}
    return out


if __name__ == "__main__":
    rest = [a for a in sys.argv[1:] if a != "--json"]
    print(json.dumps(measure(int(rest[0]) if rest else 2000, rest[1] if len(rest) > 1 else None)))
