"""Web apps on Swarm: a WSGI application in which each request runs as a program on the cluster.

    # app.py - a module of handlers (the modules it imports travel with it, as for swarm run)
    from swarm import Dict
    from swarm.web import HTTPError, Router

    app = Router()
    visits = Dict("visits")

    @app.route("GET", "/hello/<name>")
    def hello(request, name):
        return {"name": name, "visits": visits.increment(name)}   # JSON

    $ python -m swarm.web app.py --nodes 3          # http://127.0.0.1:8000/hello/ada
    $ gunicorn -k gthread --threads 16 'swarm.web:app_from("app.py", config=".swarm/cluster.toml")'

Each request becomes a program (`ENTRY`, compiled with the app's modules): it starts on a node
of the cluster, matches the route, calls the handler - which moves to the data it touches like
any program - and its result (status, headers, body) comes back to the front end from wherever
it ends. `App` is a WSGI application: `python -m swarm.web` serves it with gunicorn (gthread
workers, HTTP/1.1 keep-alive) when gunicorn is installed, else with wsgiref's server and a fixed
pool of threads (swarm/webserve.py); `app_from` is the factory to give gunicorn. Each thread
that serves has its own cluster client (a ZeroMQ socket is not thread-safe; the clients of a
process share one ZeroMQ context, made in that process: a gunicorn worker makes its own, and
closes them when it exits) and submits its requests to its own node (threads go round the
nodes), so concurrent requests run concurrently, as programs on the nodes. A submit names the
app's sources by hash once its node keeps them (swarm/clientio.py). `python -m swarm.web`
listens on 127.0.0.1 only.

A handler takes the `Request` and the route's parameters and returns a str (HTML), a dict or
list (JSON), bytes, None (204) or a `Response`; `raise HTTPError(404, "why")` answers with an
error. An uncaught exception answers 500 and is logged by the front end.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import itertools
import json
import logging
import os
import re
import signal
import sys
import threading
import weakref
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from swarm.webserve import Server, gunicorn_serve, have_gunicorn

log = logging.getLogger("swarm.web")  # (swarm/webserve.py logs to it too)

MAX_BODY = 1 << 20  # bytes of a request body
STARTS_KEPT = 100_000  # (method, path)s whose start node the front end remembers
ENTRY_NAME = "__swarm_request__.py"  # the request program's name, beside the app
SAFE = frozenset({"GET", "HEAD"})  # methods run with the `reads` policy (App)
READS = "migrate"  # their policy by default (fetch: ask for remote data, stay where it started)

#: the program every request runs (compiled with the app's modules on the node)
ENTRY = '''\
"""One web request to {app} as a Swarm program (swarm/web.py)."""
import sys
from swarm.web import HTTPError, Request, response_of
import {module} as _app

_request = Request.from_wire(sys.argv[1])
try:
    _handler, _params = _app.{router}.match(_request.method, _request.path)
    _answer = _handler(_request, **_params)
except HTTPError as _error:
    _answer = _error.response()
RESULT = response_of(_answer)
'''


# ---- what handlers see ----------------------------------------------------------------------

class HTTPError(Exception):
    """Raise in a handler to answer with an error status and a JSON {"error": message}."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or HTTPStatus(status).phrase)
        self.status = status

    def response(self) -> Response:
        return Response({"error": str(self)}, self.status)


class Request:
    """An HTTP request: method, path, query (first value of each parameter), headers
    (lower-case names), body (bytes)."""

    def __init__(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> None:
        self.method, self.path, self.query = method, path, query
        self.headers, self.body = headers, body

    def json(self):
        """The body, parsed as JSON (HTTPError 400 if it is not)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as e:
            raise HTTPError(400, f"the body is not JSON: {e}") from None

    def form(self) -> dict:
        """The body, parsed as a URL-encoded form (first value of each field)."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def to_wire(self) -> str:
        return json.dumps([self.method, self.path, self.query, self.headers,
                           self.body.decode("latin-1")])

    @classmethod
    def from_wire(cls, text: str) -> Request:
        method, path, query, headers, body = json.loads(text)
        return cls(method, path, query, headers, body.encode("latin-1"))


class Response:
    """What a handler may return: a body (str: text/html, dict or list: JSON, bytes), a status
    and headers."""

    def __init__(self, body=b"", status: int = 200, headers: dict | None = None,
                 content_type: str | None = None) -> None:
        self.body, self.status, self.headers = body, status, dict(headers or {})
        self.content_type = content_type


def response_of(answer) -> tuple[int, list, bytes]:
    """A handler's answer as (status, headers, body bytes)."""
    if not isinstance(answer, Response):
        answer = Response(b"" if answer is None else answer, 204 if answer is None else 200)
    body, kind = answer.body, answer.content_type
    if isinstance(body, (dict, list)):
        body, kind = json.dumps(body).encode(), kind or "application/json"
    elif isinstance(body, str):
        body, kind = body.encode(), kind or "text/html; charset=utf-8"
    elif not isinstance(body, bytes):
        raise TypeError(f"a handler returns a str, dict, list, bytes, None or Response, not "
                        f"{type(body).__name__}")
    headers = [("Content-Type", kind or "application/octet-stream"),
               ("Content-Length", str(len(body)))]
    headers += [(k, str(v)) for k, v in answer.headers.items()]
    return answer.status, headers, body


class Router:
    """Routes: `@router.route("GET", "/users/<name>")` registers a handler, called as
    handler(request, name=...) (a `<...>` part matches one path segment, URL-decoded)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern, object]] = []

    def route(self, method: str, pattern: str):
        if not pattern.startswith("/"):
            raise ValueError(f"a route's pattern starts with /: {pattern!r}")
        regex = re.sub(r"<([A-Za-z_]\w*)>", r"(?P<\1>[^/]+)",
                       re.escape(pattern).replace(r"\<", "<").replace(r"\>", ">"))
        return _Register(self, method.upper(), re.compile(regex + "$"))

    def match(self, method: str, path: str):
        """(handler, parameters) for a request; HTTPError 404 or 405 if there is none."""
        allowed = False
        for route_method, regex, handler in self.routes:
            m = regex.match(path)
            if m:
                if route_method == method:
                    return handler, {k: unquote(v) for k, v in m.groupdict().items()}
                allowed = True
        if allowed:
            raise HTTPError(405, f"{method} is not allowed on {path}")
        raise HTTPError(404, f"nothing at {path}")


class _Register:
    """What Router.route returns: the decorator that registers a handler. (An object, not a
    closure: the app module may keep it in its globals, which travel with every hop.)"""

    def __init__(self, router: Router, method: str, regex: re.Pattern) -> None:
        self.router, self.method, self.regex = router, method, regex

    def __call__(self, handler):
        self.router.routes.append((self.method, self.regex, handler))
        return handler


# ---- the front end ------------------------------------------------------------------------

class App:
    """The WSGI application: each request runs as a program on the cluster of `cluster_file`.
    `app_file` defines the Router named `router`."""

    def __init__(self, app_file: str, cluster_file: str, router: str = "app",
                 timeout: float = 60.0, reads: str = READS) -> None:
        from swarm.client import program_sources

        app_file = os.path.abspath(app_file)
        module = os.path.basename(app_file)[:-3]
        if not app_file.endswith(".py") or not os.path.isfile(app_file):
            raise FileNotFoundError(f"no app module {app_file} (a .py file)")
        if not module.isidentifier() or not router.isidentifier():
            raise ValueError(f"the app module and router must be Python names: {module!r}, "
                             f"{router!r}")
        if reads not in ("fetch", "migrate"):
            raise ValueError(f"reads is 'fetch' or 'migrate', not {reads!r}")
        self.cluster_file, self.timeout, self.reads = cluster_file, timeout, reads
        self.entry = os.path.join(os.path.dirname(app_file), ENTRY_NAME)
        self.prepared = program_sources(self.entry, ENTRY.format(
            app=app_file, module=module, router=router))
        self.starts = Starts()  # where the requests of each method and path start
        self._fresh()
        fresh = weakref.WeakMethod(self._fresh)  # (a forked child starts with no clients)
        os.register_at_fork(after_in_child=lambda: (f := fresh()) and f())

    def _fresh(self) -> None:
        """No clients yet in this process. Discussion: one ZeroMQ context for every worker
        thread's client (a context is thread-safe, its sockets are not: a client per
        thread; each context would add an I/O and a reaper thread), made by the first
        request of a process - a gunicorn worker forked from a master that made the App
        (`--preload`) makes its own (this runs in a forked child): a context does not
        survive a fork. The process's clients are closed when it exits (atexit), or by
        close()."""
        self.local = threading.local()
        self.context = None
        self.clients: list = []
        self.turn = itertools.count(os.getpid())  # (workers of one server start apart)
        self.lock = threading.Lock()
        self.closed = False

    def client(self):
        """This thread's cluster client and the node its requests start on."""
        mine = getattr(self.local, "client", None)
        if mine is None:
            import zmq

            from swarm.client import connect

            with self.lock:
                if self.closed:
                    raise HTTPError(503, "the server is stopping")
                if self.context is None:
                    self.context = zmq.Context()
                    atexit.register(self.close)
                context = self.context
            cluster = connect(self.cluster_file, context=context)
            names = cluster.config.names
            mine = self.local.client = (cluster, names[next(self.turn) % len(names)])
            with self.lock:
                self.clients.append(cluster)
        return mine

    def __call__(self, environ, start_response):
        from swarm.client import ClusterTimeout

        try:
            request = request_of(environ)
            cluster, own = self.client()
            program = self.submit(cluster, request, own)
            out = cluster._wait_own(program, self.timeout)[program]
        except HTTPError as e:
            status, headers, body = response_of(e.response())
        except ClusterTimeout as e:
            status, headers, body = response_of(HTTPError(504, str(e)).response())
        else:
            status, headers, body = self.answer(request, out)
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def submit(self, cluster, request: Request, own: str) -> str:
        """Submit the request as a program (quick: swarm/node/machine/quick.py) through
        `cluster`, on the node where the requests of its method and path hopped least, else
        on `own`; its program id."""
        node = self.starts.node((request.method, request.path))
        if node is None or node not in cluster.socks or node in cluster.config.fenced:
            node = own  # (not learned yet, or a node no longer in the cluster)
        return cluster.submit(self.entry, argv=[request.to_wire()], node=node,
                              prepared=self.prepared, quick=True,
                              policy=self.reads if request.method in SAFE else "migrate")

    def answer(self, request: Request, out) -> tuple[int, list, bytes]:
        """(status, headers, body) of a request's program's outcome `out` (a RunOutcome);
        where it went is learned for the next ones of its path (Starts)."""
        if out.stdout:
            log.info("%s %s printed: %s", request.method, request.path, out.stdout.rstrip())
        if out.error:
            log.error("%s %s failed (it ran on %s):\n%s", request.method, request.path,
                      " -> ".join(out.route), out.traceback or out.error)
            return response_of(HTTPError(500, out.error).response())
        self.starts.learn((request.method, request.path), out.route, out.ended.get("asked", ()))
        return out.value

    def close(self) -> None:
        """Close this process's cluster clients (each thread's) and their ZeroMQ context;
        a request after it answers 503. Run at exit too (a gunicorn worker's end)."""
        with self.lock:
            self.closed = True
            clients, self.clients = self.clients, []
            context, self.context = self.context, None
        for cluster in clients:
            cluster.close()
        if context is not None:
            context.destroy(linger=0)
            atexit.unregister(self.close)
            log.info("closed %d cluster client(s) (process %d)", len(clients), os.getpid())


class Starts:
    """Where the requests of each (method, path) start: the node from which the last ones
    made the fewest hops.

    Discussion: a request should start where its data is, not where a first hop would take
    it. A program's route (the nodes it ran on, in order) says where it went: from start S
    it made len(route) - 1 hops. If it moved on from S, either S held its first data or
    route[1] did; the route cannot tell which, so the next request of that path tries
    route[1] once, and whichever start made fewer hops is kept (a start that made more is
    not tried again until the hops from the kept one change: the data moved; one that made
    as many may be tried again: the first request from a node can pay for what it has not
    learned yet - a collection's memo of where a key's element is - with a question). A
    question the program asked another node (its result's `asked`: the fetch policy, an
    implicit `d[k]`) counts as a hop, and a request that did not move tries the node it
    asked most. After
    `swarm place` a timeline's Refs are mostly on one or two nodes: started there, it hops
    once or not at all, where a start on any node made it hop 1.5-2 times more. Only where
    a program starts changes: what it does and returns, and every guarantee of a program,
    are the same on every node. Requests of one path running at once may all take the
    trial: a few extra hops, never a wrong answer. Bounded: STARTS_KEPT paths."""

    def __init__(self) -> None:
        # key -> [kept start, its hops, the start on trial (or None), a start refuted]
        self.by_key: dict[tuple[str, str], list] = {}

    def node(self, key: tuple[str, str]) -> str | None:
        """Where the next request of `key` starts (None: not known yet)."""
        entry = self.by_key.get(key)
        return None if entry is None else entry[2] or entry[0]

    def learn(self, key: tuple[str, str], route: list[str], asked=()) -> None:
        """A request of `key` went this route (its first node: where it started) and asked
        these nodes (from the node it ended on)."""
        if not route or "..." in route[:2]:
            return
        start, hops = route[0], len(route) - 1 + len(asked)
        then = route[1] if len(route) > 1 else max(sorted(set(asked)), key=asked.count) if asked \
            else None  # (where its data was: the start to try)
        entry = self.by_key.get(key)
        if entry is None:
            if len(self.by_key) >= STARTS_KEPT:
                self.by_key.clear()  # (a crawl of many paths: they start afresh)
            entry = self.by_key[key] = [start, hops, None, None]
        elif start != entry[0]:  # a trial's outcome (or a start the front end chose)
            if start == entry[2]:
                entry[2] = None
            if hops < entry[1]:
                entry[:] = [start, hops, None, None]
            elif hops > entry[1]:
                entry[3] = start
            return  # (as many: not refuted - its first may have paid for a cold memo)
        elif hops != entry[1]:  # the data moved: every start may be tried again
            entry[1], entry[3] = hops, None
        if hops and entry[2] is None and then != entry[3]:
            entry[2] = then


def request_of(environ) -> Request:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HTTPError(400, "bad Content-Length") from None
    if length > MAX_BODY:
        if length <= 16 * MAX_BODY:  # read it (unread, the client may not see the answer)
            for at in range(0, length, 1 << 16):
                environ["wsgi.input"].read(min(1 << 16, length - at))
        raise HTTPError(413, f"a request body is at most {MAX_BODY} bytes")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
               if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    return Request(environ["REQUEST_METHOD"].upper(), path, query, headers, body)


def app_from(app_file: str, config: str | None = None, directory: str | None = None,
             router: str = "app", reads: str = READS) -> App:
    """The App of `app_file` on the running cluster of the file `config` (or of the
    directory `directory`, as `swarm up --dir`; else $SWARM_CLUSTER, else .swarm): the
    factory to give gunicorn, e.g.

        gunicorn -k gthread --threads 16 -b 127.0.0.1:8000 \\
            'swarm.web:app_from("examples/twitter/app.py", config=".swarm/cluster.toml")'

    gunicorn calls it in each worker (after the fork; with --preload, in the master: each
    worker still makes its own clients). A worker thread makes its cluster client at its
    first request; a worker's clients close when it exits. Under gunicorn, swarm.web's log
    (a request's traceback) goes to gunicorn's error log, at its level."""
    from swarm.localcluster import cluster_file

    path = config or cluster_file(directory or os.environ.get("SWARM_CLUSTER") or ".swarm")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no cluster file {path} (a running cluster's cluster.toml)")
    errors = logging.getLogger("gunicorn.error")
    if errors.handlers and not log.handlers:  # (under gunicorn: its error log, as Flask does)
        log.handlers, log.propagate = list(errors.handlers), False
        log.setLevel(errors.level)
    return App(app_file, path, router=router, reads=reads)


@contextlib.contextmanager
def serving(app_file: str, cluster_file: str, port: int = 0, workers: int = 16,
            reads: str = READS, server: str = "wsgiref"):
    """Serve the app from background threads while the block runs - with wsgiref's server
    (swarm/webserve.py: `workers` threads) or with `server="loop"` (swarm/webloop.py: one
    thread) -; yields the server (its `url`). Port 0: any free port; `reads`: App's."""
    app = App(app_file, cluster_file, reads=reads)
    if server == "loop":
        from swarm.webloop import LoopServer

        served = LoopServer(app, port, sys.modules[__name__])
        thread = threading.Thread(target=served.serve_forever, daemon=True, name="web-loop")
        thread.start()
    else:
        served = Server(app, port, workers)  # (its workers serve from now on)
    try:
        yield served
    finally:
        served.server_close()
        if server == "loop":
            thread.join(timeout=30)
        app.close()


# ---- python -m swarm.web ------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swarm.web",
                                     description="serve a Swarm web app on 127.0.0.1")
    parser.add_argument("app", help="the app module (a .py file defining `app = Router()`)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cluster", help="a running cluster's file (cluster.toml)")
    where.add_argument("--dir", help="a running cluster's directory (swarm up --dir)")
    where.add_argument("--nodes", type=int, default=3,
                       help="else: start this many local nodes while serving (default 3)")
    parser.add_argument("--data", help="with --nodes: the nodes' directory, kept between "
                                       "runs (default: a temporary one)")
    parser.add_argument("--setup", help="a program to run on the cluster before serving")
    parser.add_argument("--port", type=int, default=8000, help="default 8000")
    parser.add_argument("--server", choices=["auto", "gunicorn", "wsgiref", "loop"],
                        default="auto", help="the HTTP server (auto: gunicorn if it is "
                        "installed, else wsgiref; loop: one thread, swarm/webloop.py)")
    parser.add_argument("--workers", type=int, default=16,
                        help="front-end threads (16; with gunicorn: per process)")
    parser.add_argument("--processes", type=int, default=1,
                        help="gunicorn's worker processes (1)")
    parser.add_argument("--reads", choices=["fetch", "migrate"], default=READS,
                        help=f"the policy of GET and HEAD requests (default {READS})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(message)s")
    server = args.server
    if server == "auto":
        server = "gunicorn" if have_gunicorn() else "wsgiref"
    elif server == "gunicorn" and not have_gunicorn():
        print("swarm.web: gunicorn is not installed (pip install 'swarm[web]')", file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        if args.cluster or args.dir:
            from swarm.localcluster import cluster_file

            path = args.cluster or cluster_file(args.dir)
            if not os.path.exists(path):
                print(f"swarm.web: no cluster file {path}", file=sys.stderr)
                return 1
        else:
            from swarm.embedded import local_cluster

            print(f"starting {args.nodes} local nodes" +
                  (f" in {args.data}" if args.data else ""), flush=True)
            local = stack.enter_context(local_cluster(args.nodes, args.data))
            path = local.config.path
        if args.setup:
            from swarm.client import connect

            setup = connect(path)
            out = setup.run_file(args.setup, echo=True)
            setup.close()
            if out.error:
                print(out.traceback or out.error, file=sys.stderr)
                return 1
        App(args.app, path, reads=args.reads)  # (its errors here, before serving)
        if server == "gunicorn":
            def ready(url: str) -> None:
                print(f"serving {args.app} at {url}/ with gunicorn ({args.processes} x "
                      f"{args.workers} threads; Ctrl-C stops)", flush=True)

            status = gunicorn_serve(lambda: App(args.app, path, reads=args.reads), args.port,
                                    args.processes, args.workers, ready, App.close)
            print("stopping", flush=True)
            return status
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C: the local nodes too
        if server == "loop":
            from swarm.webloop import LoopServer

            try:
                served = LoopServer(App(args.app, path, reads=args.reads), args.port,
                                    sys.modules[__name__])
            except OSError as e:
                print(f"swarm.web: cannot listen on 127.0.0.1:{args.port}: {e}",
                      file=sys.stderr)
                return 1
            print(f"serving {args.app} at {served.url}/ with one thread (HTTP/1.1 "
                  f"keep-alive; Ctrl-C stops)", flush=True)
            try:
                served.serve_forever()
            except KeyboardInterrupt:
                print("stopping", flush=True)
            return 0
        try:
            served = stack.enter_context(serving(args.app, path, args.port, args.workers,
                                                 args.reads))
        except OSError as e:
            print(f"swarm.web: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
            return 1
        print(f"serving {args.app} at {served.url}/ with wsgiref (HTTP/1.0, {args.workers} "
              f"threads; Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


def _interrupt(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (a second one must not cut the stop)
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
