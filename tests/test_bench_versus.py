"""The side-by-side bench's harness runs (bench/versus.py): tiny sizes, no figure judged.

`python -m bench.versus --quick --no-make --peers web` as a user would run it: Swarm's four
works on real local clusters (each checks its own results: the fan-out's order, fib's value,
the array's sum), raw ZeroMQ, and the web peers (Flask on gunicorn, Redis) when their venv
was made already (`python -m bench.peers`); Ray and Dask are left to `make bench` (starting
them costs tens of seconds). Timings are printed, never asserted.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from bench import peers

ROOT = Path(__file__).resolve().parent.parent


def test_versus_quick_runs_and_writes_its_table(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench.versus", "--quick", "--no-make",
                           "--peers", "web", "--out", str(tmp_path / "versus.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| round trip 64 B: two hops / raw ZeroMQ REQ/REP |" in out, out
    report = json.loads((tmp_path / "versus.json").read_text())
    run = report["runs"][0]
    swarm = run["swarm"]
    assert swarm["two_hops_us"] > 0 and swarm["fanout"]["tasks"] == 20
    assert swarm["fib"]["tasks"] == 15  # fib(5): 15 calls, each a task
    assert swarm["array"]["migrate"]["summed_on"] == "n2"
    assert swarm["array"]["fetch"]["summed_on"] == "n1"
    assert run["zmq"]["us"] > 0
    assert run["ray"] == {"available": False, "why": "not asked"}
    rows = {row["work"]: row for row in report["table"]}
    assert rows["fan-out gathered in order / Ray"]["ratio"] is None  # Ray not asked: no row
    web_python, _ = peers.peer_python("web", make=False)
    if web_python is None:
        assert run["web"]["available"] is False and "not made" in run["web"]["why"]
        return
    assert run["web"]["available"], run["web"]
    assert run["web"]["flask_get"]["us"] > 0
    assert rows["round trip 64 B: two hops / Flask keep-alive GET"]["ratio"] > 0
    if peers.redis_server(install=False)[0]:
        assert rows["round trip 64 B: two hops / Redis GET"]["ratio"] > 0


def test_web_quick_serves_the_same_data_from_both_and_reports_each(tmp_path):
    """`python -m bench.web --quick --no-make`: the Twitter example and its Flask + SQLite peer
    (when the web venv is made) get the same data through their APIs, agree on every user's
    whole timeline, take the load in turns without a failed request, and both rows print."""
    fronts = ["gunicorn", "wsgiref"] if importlib.util.find_spec("gunicorn") else ["wsgiref"]
    proc = subprocess.run([sys.executable, "-m", "bench.web", "--quick", "--no-make", "--front",
                           ",".join(fronts)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for front in fronts:  # (each front end on the same cluster, in turns)
        assert f"| Swarm ({front}), as created |" in out, out
        assert f"| Swarm ({front}), after swarm place |" in out, out
    assert "failed requests in all: 0" in out, out
    if peers.peer_python("web", make=False)[0] is None:
        assert "Flask + SQLite: not measured: its venv" in out, out
        return
    assert out.count("| Flask, beside it |") == 2, out
    assert "whole timelines differing between the two: 0" in out, out


def test_web_load_says_connection_close_unless_it_keeps_the_connection():
    """bench.webload's clients: a connection per request says `Connection: close` (so that
    gunicorn closes it after the answer instead of keeping it for keep-alive); a client that
    keeps its connection does not say it."""
    import socket
    import threading

    from bench.webload import Load

    server = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def serve(n):
        for _ in range(n):
            conn, _ = server.accept()
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(4096)
                heads.append(head.lower())
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
                             b"\r\n{}")

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        assert Load(port).call("GET", "/a") == (200, {})
        assert Load(port, keep_alive=True).call("GET", "/b") == (200, {})
        thread.join(10)
    finally:
        server.close()
    assert b"get /a " in heads[0] and b"\r\nconnection: close\r\n" in heads[0], heads
    assert b"get /b " in heads[1] and b"connection: close" not in heads[1], heads
