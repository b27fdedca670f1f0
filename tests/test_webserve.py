"""swarm.web's App on gunicorn (swarm/webserve.py), as a gunicorn user serves it, on three
real nodes: answers, keep-alive (several requests on one connection), a worker's cluster
clients closed when it exits, and a worker recycled by --max-requests (the app made once, in
the master: --preload) making new ones."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from helpers import ROOT

import swarm

APP = os.path.join(ROOT, "tests", "webapp", "app.py")


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def gunicorn(cluster, *options: str):
    """`python -m gunicorn ... 'swarm.web:app_from(APP, config=...)'` on a free port:
    (process, port, its log file)."""
    log = tempfile.TemporaryFile("w+")
    spec = f"swarm.web:app_from({APP!r}, config={cluster.config.path!r})"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-b",
         "127.0.0.1:0", "--no-control-socket", "--log-level", "info", *options, spec],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), stdout=log, stderr=log, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read())
        if found:
            return proc, int(found.group(1)), log
        assert proc.poll() is None, _read(log)
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"gunicorn did not listen: {_read(log)}")


def _read(log) -> str:
    log.seek(0)
    return log.read()


def stop(proc, log) -> tuple[int, str, list[str], list[tuple[str, str]]]:
    """SIGTERM gunicorn: its exit code, its log, the worker pids it booted, and the
    (clients, pid) of each worker's `closed N cluster client(s)` line."""
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    text = _read(log)
    log.close()
    return (code, text, re.findall(r"Booting worker with pid: (\d+)", text),
            re.findall(r"closed (\d+) cluster client\(s\) \(process (\d+)\)", text))


def ask(conn: http.client.HTTPConnection, method: str, path: str, body=None):
    """(status, JSON, whether the server keeps the connection) of one request on `conn`."""
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null"), not r.will_close


def test_gunicorn_serves_the_app_with_keep_alive_and_closes_clients(cluster):
    proc, port, log = gunicorn(cluster)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        answers = [ask(conn, "POST", "/note/g", {"x": 1})]
        sock = conn.sock  # the one connection every request below must reuse
        answers += [ask(conn, "GET", "/note/g"), ask(conn, "GET", "/visit/n2"),
                    ask(conn, "POST", "/echo?a=1", [1, 2]), ask(conn, "GET", "/nothing")]
        assert conn.sock is sock and sock is not None
        conn.close()
        assert answers == [
            (200, {"kept": "g"}, True), (200, {"note": {"x": 1}}, True),
            (200, {"on": "n2"}, True),
            (200, {"json": [1, 2], "query": {"a": "1"}, "method": "POST"}, True),
            (404, {"error": "nothing at /nothing"}, True)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, body, _ = ask(conn, "GET", "/fail")
        conn.close()
        assert (status, body) == (500, {"error": "ZeroDivisionError: division by zero"})
    finally:
        code, text, workers, closed = stop(proc, log)
    assert code == 0, text
    assert len(workers) == 1 and [pid for _, pid in closed] == workers, text
    assert int(closed[0][0]) in range(1, 5), text  # (a client per worker thread that served)
    assert "ZeroDivisionError" in text  # the 500's traceback, in gunicorn's error log


def test_a_recycled_worker_closes_its_clients_and_the_next_serves(cluster):
    proc, port, log = gunicorn(cluster, "--max-requests", "3", "--preload")
    try:
        seen = []
        for i in range(8):  # a connection each (a worker leaving closes its own)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            seen.append(ask(conn, "GET", f"/visit/n{1 + i % 3}")[:2])
            conn.close()
        assert seen == [(200, {"on": f"n{1 + i % 3}"}) for i in range(8)]
    finally:
        code, text, workers, closed = stop(proc, log)
    assert code == 0, text
    assert len(workers) >= 3 and sorted(pid for _, pid in closed) == sorted(workers), text
