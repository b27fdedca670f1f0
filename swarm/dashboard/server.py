"""`swarm dashboard`: the live page of a cluster, served over HTTP by the standard library.

    GET /                  the page (static/index.html; its scripts are vendored in static/)
    GET /static/NAME       the page's files
    GET /api/snapshot      the latest snapshot (sampler.py), JSON
    GET /api/events        server-sent events: one `data: SNAPSHOT` per sample, as it comes
    POST /api/cancel       {"program": ID} (JSON): cancel a program wherever it is
                           (Cluster.cancel) -> {"program", "outcome": cancelled |
                           forwarded | finished}; 404 unknown program, 504 no answer

Access. On 127.0.0.1 (the default) the page is for whoever can log in to this machine; the
Host header must name this machine (so that another web site cannot reach the page through
a rebound DNS name). Bound to any other address it needs a token: the URL printed at the
start carries it once (`/?token=...`), the server answers with a cookie and sends the browser
to `/`, so the token does not stay in the address bar; every other request needs the cookie
(or the token). Plain HTTP: across a network, use an SSH tunnel or a TLS proxy in front.

Cancelling is the page's one action. Its request must be JSON (a form of another web site
cannot send that without the browser asking this server first, which it does not answer)
and, if the browser says where it comes from (Origin), from this page.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sys
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from swarm.client import Cluster, ClusterTimeout
from swarm.dashboard.sampler import Sampler
from swarm.node.config import ClusterConfig, ConfigError
from swarm.runs import UnknownProgram

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".png": "image/png"}
COOKIE = "swarm_dashboard"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store"}


def static_files() -> dict[str, str]:
    """URL path -> file, for every file the page may load (nothing else is served)."""
    files = {}
    for folder, _, names in os.walk(STATIC):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.splitext(name)[1] in TYPES:
                files["/static/" + os.path.relpath(path, STATIC).replace(os.sep, "/")] = path
    return files


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream does not keep the process alive

    def __init__(self, address: tuple[str, int], sampler: Sampler, token: str | None):
        super().__init__(address, Handler)
        self.sampler, self.token = sampler, token
        self.files = static_files()


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"

    # ---- access ---------------------------------------------------------------------------
    def token_given(self) -> str | None:
        query = parse_qs(urlsplit(self.path).query).get("token", [None])[0]
        if query:
            return query
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        return cookie[COOKIE].value if COOKIE in cookie else None

    def allowed(self) -> bool:
        token = self.server.token
        if token is None:  # loopback: the Host must be this machine (DNS rebinding)
            host = self.headers.get("Host", "").rsplit(":", 1)[0].strip("[]")
            return host in LOOPBACK
        given = self.token_given()
        return given is not None and hmac.compare_digest(given.encode(), token.encode())

    # ---- answers --------------------------------------------------------------------------
    def send(self, status: int, body: bytes, kind: str, extra: dict | None = None) -> None:
        self.send_response(status)
        for key, value in {**SECURITY_HEADERS, "Content-Type": kind,
                           "Content-Length": str(len(body)), **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def refuse(self) -> None:
        self.send(403, b"swarm dashboard: this page needs its token: open the URL that "
                       b"`swarm dashboard` printed\n", "text/plain; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 - the name http.server looks for
        url = urlsplit(self.path)
        if not self.allowed():
            return self.refuse()
        if url.path == "/" and "token" in parse_qs(url.query):
            # the token becomes a cookie, and leaves the address bar
            cookie = f"{COOKIE}={self.server.token}; Path=/; HttpOnly; SameSite=Strict"
            return self.send(303, b"", "text/plain", {"Location": "/", "Set-Cookie": cookie})
        if url.path in ("/", "/index.html"):
            return self.file(os.path.join(STATIC, "index.html"))
        if url.path == "/api/snapshot":
            snapshot = self.server.sampler.wait_newer(0, timeout=10)
            return self.send(200, json.dumps(snapshot).encode(), "application/json")
        if url.path == "/api/events":
            return self.events()
        if url.path in self.server.files:
            return self.file(self.server.files[url.path])
        self.send(404, b"not found\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        if not self.allowed():
            return self.refuse()
        if urlsplit(self.path).path != "/api/cancel":
            return self.send(404, b"not found\n", "text/plain; charset=utf-8")
        # Discussion: on loopback no cookie protects this, and the Host check does not stop
        # another site's page in the user's browser from posting here. A request with a JSON
        # body is not one a page may send to another origin without a preflight (which
        # this server does not answer); and a browser names the page it comes from.
        origin = self.headers.get("Origin")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json" \
                or origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            return self.answer(403, {"error": "a cancel comes from the dashboard's page "
                                              "(JSON, same origin)"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
            program = json.loads(self.rfile.read(min(length, 4096)))["program"]
            if not isinstance(program, str):
                raise TypeError(program)
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'the body must be {"program": ID}'})
        self.answer(*cancel(self.server.sampler.path, program))

    def answer(self, status: int, fields: dict) -> None:
        self.send(status, json.dumps(fields).encode(), "application/json")

    def file(self, path: str) -> None:
        with open(path, "rb") as f:
            body = f.read()
        self.send(200, body, TYPES[os.path.splitext(path)[1]])

    def events(self) -> None:
        """Server-sent events: every new snapshot as it is published; a comment line every
        15 s keeps idle proxies from closing the stream."""
        self.send_response(200)
        for key, value in {**SECURITY_HEADERS, "Content-Type": "text/event-stream",
                           "X-Accel-Buffering": "no"}.items():
            self.send_header(key, value)
        self.end_headers()
        self.close_connection = True
        version = 0
        sampler = self.server.sampler
        try:
            while not sampler.stopping.is_set():
                snapshot = sampler.wait_newer(version, timeout=15)
                if snapshot is None:
                    self.wfile.write(b": still here\n\n")
                else:
                    version = snapshot["version"]
                    self.wfile.write(b"data: " + json.dumps(snapshot).encode() + b"\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        pass  # quiet: the terminal shows the URL and errors only


def cancel(path: str, program: str) -> tuple[int, dict]:
    """Cancel a program of the cluster of `path` (Cluster.cancel, with a client of its own:
    sockets belong to one thread): an HTTP status and the answer for the page."""
    try:
        with Cluster(ClusterConfig.load(path)) as cluster:
            outcome = cluster.cancel(program)
    except UnknownProgram as e:
        return 404, {"program": program, "error": str(e)}
    except ClusterTimeout as e:
        return 504, {"program": program, "error": str(e)}
    except ConfigError as e:
        return 500, {"program": program, "error": str(e)}
    return 200, {"program": program, "outcome": outcome}


def serve(path: str, host: str = "127.0.0.1", port: int = 8700, token: str | None = None,
          interval: float = 1.0, out=sys.stdout) -> None:
    """Serve the dashboard of the cluster file `path` until interrupted. Bound to anything
    but loopback it needs a token (`token`, or a new random one), printed in the URL."""
    if host not in LOOPBACK and token is None:
        token = secrets.token_urlsafe(24)
    sampler = Sampler(path, interval=interval)
    server = DashboardServer((host, port), sampler, token)
    sampler.start()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.server_address[1]}/"
    print(f"swarm dashboard: {url}{f'?token={token}' if token else ''}  (cluster {path}; "
          f"Ctrl-C stops it)", file=out, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        sampler.stop()
        server.server_close()
