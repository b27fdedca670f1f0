"""swarm.web served by one thread (swarm/webloop.py): HTTP/1.1 over real sockets, requests as
programs on three real nodes, many in flight over one cluster client."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading

import pytest
from helpers import ROOT

import swarm
from swarm.web import serving
from swarm.webloop import _head

TWITTER = os.path.join(ROOT, "examples", "twitter")


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


@pytest.fixture(scope="module")
def loop(cluster):
    with serving(os.path.join(ROOT, "tests", "webapp", "app.py"), cluster.config.path,
                 server="loop") as server:
        yield server


def exchange(server, raw: bytes) -> bytes:
    """Send raw bytes on a new connection; everything that comes back until the server
    closes it."""
    with socket.create_connection(server.server_address[:2], timeout=60) as s:
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_keep_alive_serves_requests_in_turn_on_one_connection(loop):
    conn = http.client.HTTPConnection(*loop.server_address[:2], timeout=60)
    for i in range(4):
        conn.request("POST", f"/note/k{i}", body=json.dumps({"i": i}))
        r = conn.getresponse()
        assert (r.status, json.loads(r.read())) == (200, {"kept": f"k{i}"})
        assert r.getheader("Connection") == "keep-alive"
        conn.request("GET", f"/note/k{i}")
        r = conn.getresponse()
        assert (r.status, json.loads(r.read())) == (200, {"note": {"i": i}})
    conn.request("GET", "/fail")
    r = conn.getresponse()
    assert (r.status, json.loads(r.read())) == (500, {"error": "ZeroDivisionError: division "
                                                               "by zero"})
    conn.request("DELETE", "/note/k1")
    r = conn.getresponse()
    assert r.status == 405 and json.loads(r.read())["error"] == "DELETE is not allowed on /note/k1"
    conn.close()


def test_pipelined_requests_are_answered_in_order_and_close_is_kept(loop):
    data = exchange(loop, b"POST /echo?x=1 HTTP/1.1\r\nContent-Length: 7\r\n\r\n[1, 2]\n"
                          b"GET /note/k1 HTTP/1.1\r\nHost: here\r\n\r\n"
                          b"GET /nowhere%20at%20all HTTP/1.1\r\nConnection: close\r\n\r\n")
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ", 1)[0] for a in answers] == [b"200", b"200", b"404"]
    assert answers[0].endswith(b'{"json": [1, 2], "query": {"x": "1"}, "method": "POST"}')
    assert answers[1].endswith(b'{"note": {"i": 1}}')
    assert answers[2].endswith(b'{"error": "nothing at /nowhere at all"}')
    assert b"Connection: close" in answers[2]


def test_http_1_0_closes_head_has_no_body_and_bad_requests_are_refused(loop):
    data = exchange(loop, b"GET /note/k2 HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b'{"note": {"i": 2}}')
    assert b"Connection: close" in data
    data = exchange(loop, b"HEAD /note/k2 HTTP/1.1\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 ") and b"Content-Length: " in head and body == b""
    for raw, status in [(b"NONSENSE\r\n\r\n", b"400"),
                        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
                        (b"POST /echo HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400"),
                        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411"),
                        (b"POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % ((1 << 20) + 1),
                         b"413"),
                        (b"GET /" + b"x" * 70_000, b"431")]:
        assert exchange(loop, raw).startswith(b"HTTP/1.1 " + status + b" "), raw[:40]


def test_expect_100_continue_is_answered_before_the_body(loop):
    with socket.create_connection(loop.server_address[:2], timeout=60) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
                  b"Connection: close\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"{}")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b'"method": "POST"}')


def test_requests_in_flight_run_concurrently_and_a_client_gone_does_no_harm(loop):
    """Two requests that each wait until the other has arrived, on one thread's server: it
    must have both in flight. A client that leaves before its answer leaves the rest be."""
    gone = socket.create_connection(loop.server_address[:2], timeout=60)
    gone.sendall(b"GET /visit/n2 HTTP/1.1\r\n\r\n")
    gone.close()
    answers = {}

    def meet(a, b):
        conn = http.client.HTTPConnection(*loop.server_address[:2], timeout=120)
        conn.request("GET", f"/meet/{a}/{b}")
        r = conn.getresponse()
        answers[a] = (r.status, json.loads(r.read()))

    threads = [threading.Thread(target=meet, args=pair) for pair in (("ann", "bo"), ("bo", "ann"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers["ann"][0] == answers["bo"][0] == 200, answers
    assert answers["ann"][1]["met"] == "bo" and answers["bo"][1]["met"] == "ann"
    assert exchange(loop, b"GET /visit/n3 HTTP/1.0\r\n\r\n").endswith(b'{"on": "n3"}')


def test_a_request_becomes_the_environ_other_servers_make():
    environ, version = _head(b"GET http://h/a%20b/%C3%A9?q=%20x&r=2 HTTP/1.1\r\nX-Thing: 1\r\n"
                             b"x-thing: 2\r\nContent-Type: text/plain\r\nContent-Length: 0")
    assert version == "HTTP/1.1"
    assert environ["PATH_INFO"] == "/a b/\xc3\xa9"  # (latin-1, as PEP 3333 has it)
    assert environ["QUERY_STRING"] == "q=%20x&r=2"
    assert environ["HTTP_X_THING"] == "1,2" and environ["CONTENT_TYPE"] == "text/plain"
    with pytest.raises(ValueError):
        _head(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2")
    with pytest.raises(ValueError):
        _head(b"GET / HTTP/1.1\r\n no-name")


def test_the_twitter_example_on_one_thread(cluster):
    """`python -m swarm.web --server loop`, as `make web` runs the example otherwise."""
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.web", os.path.join(TWITTER, "app.py"), "--cluster",
         cluster.config.path, "--setup", os.path.join(TWITTER, "seed.py"), "--port", "0",
         "--server", "loop"],
        env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving "):
                break
        log.seek(0)
        assert lines and "with one thread" in lines[-1], (lines, log.read())
        host, port = lines[-1].split(" at ")[1].split()[0].rstrip("/")[7:].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)

        def call(method, path, body=None):
            conn.request(method, path, body=None if body is None else json.dumps(body))
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")

        for name in ("lo1", "lo2"):
            assert call("POST", "/api/users", {"name": name})[0] == 201
        assert call("POST", "/api/users", {"name": "lo1"}) == (409, {"error": "lo1 exists "
                                                                              "already"})
        assert call("POST", "/api/follow", {"user": "lo1", "follows": "lo2"}) == (
            200, {"user": "lo1", "following": ["lo2"]})
        texts = [f"post {i}" for i in range(5)]
        for text in texts:
            assert call("POST", "/api/posts", {"user": "lo2", "text": text})[0] == 201
        status, feed = call("GET", "/api/timeline/lo1?limit=3")
        assert status == 200 and [p["text"] for p in feed["posts"]] == texts[::-1][:3]
        assert call("GET", "/api/timeline/nobody") == (404, {"error": "no user nobody"})
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.close()
