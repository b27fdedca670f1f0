"""The HTTP servers `python -m swarm.web` puts in front of a WSGI app (swarm/web.py's App):
gunicorn when it is installed (`pip install 'swarm[web]'`), else wsgiref's, from the standard
library. Neither knows Swarm: each serves any WSGI callable (this module imports nothing of
swarm.web).

- `gunicorn_serve(make_app, port, processes, threads, ready)`: gunicorn's master in this
  process, `processes` workers of the `gthread` class with `threads` threads each; HTTP/1.1,
  keep-alive (gunicorn's `keepalive`, 2 s idle by default). `make_app()` runs in each worker
  after the fork (no ZeroMQ context crosses a fork). A worker leaves through `close(app)` and
  os._exit, never by unwinding this process's stack: what the master holds (local nodes,
  their temporary directory) is the master's to stop.
- `Server(app, port, workers)`: wsgiref's HTTP/1.0 server, a connection per request, with a
  fixed pool of threads accepting.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger("swarm.web")


def have_gunicorn() -> bool:
    """Whether gunicorn is importable here (the `web` extra)."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


# ---- gunicorn -------------------------------------------------------------------------------

def gunicorn_serve(make_app, port: int = 8000, processes: int = 1, threads: int = 16,
                   ready=None, close=None, options: dict | None = None) -> int:
    """Serve `make_app()` (made in each worker) with gunicorn on 127.0.0.1:`port` (0: any free
    port) until SIGTERM or SIGINT; returns gunicorn's exit status in this process (the master).
    `ready(url)` is called once the socket listens (in the master), `close(app)` in a worker
    that leaves (its app's resources: swarm.web's cluster clients)."""
    from gunicorn.app.base import BaseApplication

    settings = {"bind": f"127.0.0.1:{port}", "workers": processes, "threads": threads,
                "worker_class": "gthread", "loglevel": "warning", "accesslog": None,
                "control_socket_disable": True,  # (a fixed path: two servers would clash)
                "proc_name": "swarm.web", **(options or {})}

    def when_ready(server) -> None:
        if ready is not None:
            host, bound = server.LISTENERS[0].sock.getsockname()[:2]
            ready(f"http://{host}:{bound}")

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in settings.items():
                if key in self.cfg.settings:  # (control_socket_disable: gunicorn 25.1 on)
                    self.cfg.set(key, value)
            self.cfg.set("when_ready", when_ready)

        def load(self):
            return make_app()

    master = os.getpid()
    served = Gunicorn()
    try:
        served.run()
    except SystemExit as e:
        if os.getpid() == master:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # (gunicorn's reaped any child)
            return e.code if isinstance(e.code, int) else 0
        _leave_worker(served, close, e.code)
    if os.getpid() != master:  # (a worker returns only by SystemExit; to be sure)
        _leave_worker(served, close, 0)
    return 0


def _leave_worker(served, close, code) -> None:
    """End a gunicorn worker: close its app, then exit without running the master's cleanup
    (inherited context managers, atexit handlers, temporary directories' finalizers)."""
    try:
        if close is not None and served.callable is not None:
            close(served.callable)
    except Exception:
        log.exception("closing the worker's app")
    finally:
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


# ---- wsgiref ------------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("%s - %s", self.address_string(), format % args)


class Server(WSGIServer):
    """wsgiref's HTTP server on 127.0.0.1, served by a fixed pool of `workers` threads, each
    accepting connections itself and keeping its cluster client.

    Discussion: each worker blocks in accept() on the listening socket, and the kernel hands
    a new connection to one of them (the others sleep on): no thread accepts and hands the
    connection over (a queue, a condition variable, a wake-up and the GIL passed once more,
    per request). shutdown() shuts the listening socket down, which wakes every accept()
    with an error (Linux), or else connects once per worker to wake them."""

    request_queue_size = 1024  # connections waiting to be accepted (socketserver: 5)

    def __init__(self, app, port: int = 8000, workers: int = 16) -> None:
        super().__init__(("127.0.0.1", port), _QuietHandler)
        self.set_app(app)
        self.stopping = threading.Event()
        self.workers = [threading.Thread(target=self._work, daemon=True, name=f"web-{i}")
                        for i in range(workers)]
        for t in self.workers:
            t.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Wait until shutdown(): the workers accept and serve the connections."""
        self.stopping.wait()

    def shutdown(self) -> None:
        """Stop accepting; requests being served finish in their workers."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:  # (not on every platform): wake them by connecting
            for _ in self.workers:
                with contextlib.suppress(OSError):
                    socket.create_connection(self.server_address[:2], timeout=0.5).close()

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                request, client_address = self.get_request()
            except OSError as e:
                if self.stopping.is_set():
                    return
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOMEM):  # (a reset is not
                    log.warning("cannot accept a connection: %s; trying again", e)  # news)
                time.sleep(0.01)  # (out of descriptors, a connection reset: try again)
                continue
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def server_close(self) -> None:
        self.shutdown()
        super().server_close()
