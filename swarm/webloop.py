"""One thread serving HTTP for swarm.web's App: every connection and every request in flight
multiplexed over non-blocking sockets and one cluster client (`python -m swarm.web --server
loop`; `swarm.web.serving(..., server="loop")`).

A request is read, submitted as its program (App.submit: a quick submission where the
requests of its path hopped least), and answered when its result comes - from one loop that
polls the listening socket, the connections and the cluster client's ZeroMQ sockets
together. Nothing is handed from thread to thread: no worker pool, no GIL passed between
threads, one ZeroMQ socket per node for every request in flight.

Discussion: why a loop. With a thread per request in flight (gunicorn's gthread worker,
wsgiref's pool), each request costs the front end two hand-overs between threads - the
connection to a worker, each message between the worker and ZeroMQ's I/O thread - and on two
busy cores each hand-over is a futex and a wait for the GIL (about 200 futex calls a request
were counted: BENCHMARKS.md). A request's own work here - parse a request line and a few
headers, sign and send a submit, check and read a result, write an answer - is a fraction of
a millisecond, so one thread keeps up with several thousand requests a second.

HTTP: 1.1 and 1.0, keep-alive (1.1 unless `Connection: close`; 1.0 with `Connection:
keep-alive`), idle connections closed after KEEP_ALIVE_SECONDS, `Expect: 100-continue`
answered, one request at a time per connection (pipelined requests wait their turn), a body
of Content-Length bytes (at most swarm.web.MAX_BODY: 413; `Transfer-Encoding: chunked`: 411).
HEAD is answered without a body. What the request becomes (path, query, headers) is what
swarm.web.request_of makes of the WSGI environ of any server.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import io
import logging
import socket
import threading
import time
from http import HTTPStatus
from urllib.parse import unquote

import zmq

from swarm.fencing import SEARCH_SECONDS

log = logging.getLogger("swarm.web")

MAX_HEAD = 64 * 1024  # bytes of a request line and its headers
KEEP_ALIVE_SECONDS = 5.0  # an idle connection is closed after this
READ_SECONDS = 30.0  # a request not read whole in this time is dropped
TEND_SECONDS = 0.1  # how often submissions not answered are looked after (resent, timeouts)
MAX_CONNECTIONS = 4096
RECV_BYTES = 65536


class _Conn:
    """One client connection: what came and is not parsed, what is left to send."""

    __slots__ = ("sock", "inbuf", "out", "keep", "since", "program", "request", "head",
                 "deadline", "continued", "closing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.inbuf, self.out = sock, bytearray(), b""
        self.keep, self.since = False, time.monotonic()
        self.program = self.request = self.head = None
        self.deadline, self.continued, self.closing = 0.0, False, False


class LoopServer:
    """swarm.web's App served by one thread (serve_forever; shutdown() from another thread),
    on 127.0.0.1:`port` (0: any free port)."""

    def __init__(self, app, port: int = 8000, http=None) -> None:
        """`http`: swarm.web's module (its HTTPError, request_of, response_of, MAX_BODY),
        given by swarm.web, which imports this one (no import back: tests/test_layers.py)."""
        self.app, self.http = app, http
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind(("127.0.0.1", port))
            self.listener.listen(1024)
        except OSError:
            self.listener.close()
            raise
        self.listener.setblocking(False)
        self.server_address = self.listener.getsockname()
        self.waker, self.wake_end = socket.socketpair()
        self.stopping = threading.Event()
        self.conns: dict[int, _Conn] = {}
        self.running: dict[str, _Conn] = {}  # program id -> the connection it answers
        self.served = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def shutdown(self) -> None:
        """Stop serving (from another thread): the loop ends at its next turn."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.wake_end.send(b"x")

    def server_close(self) -> None:
        self.shutdown()

    # ---- the loop ----------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until shutdown(); the cluster client is made, used and closed here."""
        from swarm.client import connect

        cluster = connect(self.app.cluster_file)
        self.cluster, self.turn = cluster, 0
        self.next_search = time.monotonic() + SEARCH_SECONDS
        self.poller = poller = zmq.Poller()
        socks = {}
        for s in cluster.socks.values():
            poller.register(s, zmq.POLLIN)
            socks[s] = s
        poller.register(self.listener, zmq.POLLIN)
        poller.register(self.waker, zmq.POLLIN)
        listen_fd, wake_fd = self.listener.fileno(), self.waker.fileno()
        next_tend = time.monotonic() + TEND_SECONDS
        try:
            while not self.stopping.is_set():
                timeout = TEND_SECONDS if self.running or self.conns else 1.0
                events = poller.poll(int(timeout * 1000))
                results = False
                for what, ev in events:
                    if isinstance(what, zmq.Socket):
                        cluster.drain(what)
                        results = True
                        continue
                    fd = what if isinstance(what, int) else what.fileno()
                    if fd == listen_fd:
                        self._accept()
                    elif fd == wake_fd:
                        with contextlib.suppress(OSError):
                            self.waker.recv(64)
                    else:
                        conn = self.conns.get(fd)
                        if conn is None:
                            continue
                        if ev & zmq.POLLOUT:
                            self._write(conn)
                        if ev & zmq.POLLIN and fd in self.conns:
                            self._read(conn)
                if results:
                    for program in list(self.running):
                        out = cluster.outcome(program)
                        if out is not None:
                            self._answer(self.running.pop(program), out)
                now = time.monotonic()
                if now >= next_tend:
                    next_tend = now + TEND_SECONDS
                    self._tend(now)
        finally:
            for conn in list(self.conns.values()):
                self._close(conn)
            cluster.close()
            self.listener.close()
            self.waker.close()
            self.wake_end.close()

    def _tend(self, now: float) -> None:
        """Submissions not answered are sent again (Cluster.tend); requests past the App's
        timeout answer 504, unknown programs 502; idle and slow connections are closed."""
        HTTPError, response_of = self.http.HTTPError, self.http.response_of
        if self.running:
            search = now >= self.next_search  # (after a fence: fencing.search)
            if search:
                self.next_search = now + SEARCH_SECONDS
            ended, unknown = self.cluster.tend(list(self.running), search)
            for program in ended:
                out = self.cluster.outcome(program)
                if out is not None:
                    self._answer(self.running.pop(program), out)
            for program in unknown:
                conn = self.running.pop(program)
                self._respond(conn, response_of(HTTPError(
                    502, f"no node knows program {program}").response()))
        for program, conn in list(self.running.items()):
            if now > conn.deadline:
                del self.running[program]
                self.cluster.forget(program)
                self._respond(conn, response_of(HTTPError(
                    504, f"program {program} did not finish in {self.app.timeout:g} s")
                    .response()))
        for conn in list(self.conns.values()):
            if conn.program is None and not conn.out and (
                    now - conn.since > (READ_SECONDS if conn.inbuf or conn.head is not None
                                        else KEEP_ALIVE_SECONDS)):
                self._close(conn)

    # ---- connections -------------------------------------------------------------------

    def _accept(self) -> None:
        while len(self.conns) < MAX_CONNECTIONS:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOMEM):
                    log.warning("cannot accept a connection: %s", e)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self.conns[sock.fileno()] = _Conn(sock)
            self.poller.register(sock, zmq.POLLIN)
            del conn

    def _close(self, conn: _Conn) -> None:
        fd = conn.sock.fileno()
        if self.conns.pop(fd, None) is not None:
            with contextlib.suppress(KeyError, zmq.ZMQError):
                self.poller.unregister(conn.sock)
        if conn.program is not None:  # (its answer, when it comes, goes nowhere)
            self.running.pop(conn.program, None)
            self.cluster.forget(conn.program)
        conn.sock.close()

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed (or reset): nothing more to answer
            self._close(conn)
            return
        if not conn.inbuf:
            conn.since = time.monotonic()
        conn.inbuf += data
        if conn.program is None and not conn.out:
            self._parse(conn)

    def _parse(self, conn: _Conn) -> None:
        """A whole request in the buffer becomes a program; errors answer at once."""
        http = self.http
        MAX_BODY, HTTPError, request_of, response_of = (
            http.MAX_BODY, http.HTTPError, http.request_of, http.response_of)
        if conn.head is None:
            end = conn.inbuf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.inbuf) > MAX_HEAD:
                    self._fail(conn, 431, "request line and headers too large")
                return
            try:
                conn.head = _head(bytes(conn.inbuf[:end]))
            except ValueError as e:
                self._fail(conn, 400, str(e))
                return
            del conn.inbuf[:end + 4]
            conn.continued = False
        environ, version = conn.head
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            self._fail(conn, 411, "a body is sent with Content-Length, not chunked")
            return
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length < 0:
                raise ValueError
        except ValueError:
            self._fail(conn, 400, "bad Content-Length")
            return
        if length > MAX_BODY:
            self._fail(conn, 413, f"a request body is at most {MAX_BODY} bytes")
            return
        if len(conn.inbuf) < length:
            if (not conn.continued and version == "HTTP/1.1"
                    and environ.get("HTTP_EXPECT", "").lower() == "100-continue"):
                conn.continued = True
                self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        body = bytes(conn.inbuf[:length])
        del conn.inbuf[:length]
        conn.head = None
        connection = environ.get("HTTP_CONNECTION", "").lower()
        conn.keep = ("close" not in connection if version == "HTTP/1.1"
                     else "keep-alive" in connection)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            request = request_of(environ)
        except HTTPError as e:
            self._respond(conn, response_of(e.response()), environ["REQUEST_METHOD"])
            return
        conn.request = request
        self.turn += 1
        names = [n for n in self.cluster.config.names if n not in self.cluster.config.fenced]
        try:
            program = self.app.submit(self.cluster, request, names[self.turn % len(names)])
        except Exception as e:  # (a message over the cluster's size limit, say)
            log.exception("%s %s could not be submitted", request.method, request.path)
            self._respond(conn, response_of(HTTPError(500, f"{type(e).__name__}: {e}")
                                            .response()), request.method)
            return
        conn.program, conn.deadline = program, time.monotonic() + self.app.timeout
        self.running[program] = conn
        self.poller.register(conn.sock, 0)  # (not read while it runs: one at a time)

    def _fail(self, conn: _Conn, status: int, message: str) -> None:
        HTTPError, response_of = self.http.HTTPError, self.http.response_of
        conn.keep, conn.head = False, None
        self._respond(conn, response_of(HTTPError(status, message).response()))

    def _answer(self, conn: _Conn, out) -> None:
        request, conn.program = conn.request, None
        try:
            answer = self.app.answer(request, out)
        except Exception as e:  # (a result that is not (status, headers, body))
            HTTPError, response_of = self.http.HTTPError, self.http.response_of

            log.exception("%s %s: its answer", request.method, request.path)
            answer = response_of(HTTPError(500, f"{type(e).__name__}: {e}").response())
        self._respond(conn, answer, request.method)

    def _respond(self, conn: _Conn, answer, method: str = "GET") -> None:
        status, headers, body = answer
        conn.request = conn.program = None
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        lines += [f"{k}: {v}" for k, v in headers]
        lines += [f"Date: {_date()}", "Server: swarm.web",
                  f"Connection: {'keep-alive' if conn.keep else 'close'}", "", ""]
        head = "\r\n".join(lines).encode("latin-1")
        self.served += 1
        self._send(conn, head if method == "HEAD" else head + body)

    def _send(self, conn: _Conn, data: bytes) -> None:
        conn.out = conn.out + data if conn.out else data
        self._write(conn)

    def _write(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        conn.out = conn.out[sent:]
        if conn.out:
            self.poller.register(conn.sock, zmq.POLLOUT)
            return
        if conn.program is not None:
            return
        if conn.head is not None:  # (a 100 Continue went: the body is still to come)
            self.poller.register(conn.sock, zmq.POLLIN)
            return
        if not conn.keep:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_WR)
            self._close(conn)
            return
        conn.since = time.monotonic()
        self.poller.register(conn.sock, zmq.POLLIN)
        if conn.inbuf:  # (a request sent before this one was answered)
            self._parse(conn)


def _head(raw: bytes) -> tuple[dict, str]:
    """The WSGI environ of a request line and headers (as gunicorn and wsgiref make it:
    PATH_INFO percent-decoded as latin-1, HTTP_* for each header), and the HTTP version."""
    lines = raw.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise ValueError(f"bad request line {lines[0][:100]!r}") from None
    if version not in ("HTTP/1.1", "HTTP/1.0") or not method.isalpha():
        raise ValueError(f"bad request line {lines[0][:100]!r}")
    path, _, query = target.partition("?")
    if path.startswith(("http://", "https://")):  # (an absolute form: its path)
        path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    environ = {"REQUEST_METHOD": method.upper(), "PATH_INFO": unquote(path, "latin-1"),
               "QUERY_STRING": query, "SERVER_PROTOCOL": version}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"bad header line {line[:100]!r}")
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            if key in environ and environ[key] != value.strip():
                raise ValueError(f"two {name} headers")
        else:
            key = "HTTP_" + key
            if key in environ:
                environ[key] += "," + value.strip()
                continue
        environ[key] = value.strip()
    return environ, version


_DATE = [0, ""]


def _date() -> str:
    """The Date header's value, made once a second."""
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _DATE[1]
