"""The HTTP servers alone: swarm.web's two front ends (swarm/webserve.py) serving a WSGI app
that answers a fixed JSON body, no cluster behind it.

`python -m bench.webfront [--seconds S] [--rounds R] [--clients C] [--threads T]` serves
`answer` below with wsgiref's server (T threads each accepting, as `python -m swarm.web
--server wsgiref`) and with gunicorn (one gthread worker, T threads, as `--server gunicorn`),
each in a process of its own, and gives each the same load (bench.webload's clients:
C threads over 4 load processes) in turns, R rounds of S-second slices, with a new connection
per request and with keep-alive. Per row: requests/s, p50/p99 latency, the server processes'
CPU per request (/proc), failed requests, load averages. What it isolates: the HTTP server's
own share of a Swarm request's front-end CPU (bench/web.py measures the whole front end).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from bench import webload

BODY = b'{"posts": [], "user": "user1"}'


def answer(environ, start_response):
    """The WSGI app served (gunicorn: bench.webfront:answer)."""
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]


def _serve_wsgiref(threads: int) -> None:
    from swarm.webserve import Server

    server = Server(answer, 0, threads)
    print(f"serving at {server.url}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    server.serve_forever()


def _serve_gunicorn(threads: int) -> None:
    from swarm.webserve import gunicorn_serve

    sys.exit(gunicorn_serve(lambda: answer, 0, 1, threads,
                            lambda url: print(f"serving at {url}/", flush=True)))


def start(server: str, threads: int) -> tuple[subprocess.Popen, int]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from bench.webfront import _serve_{server} as s; s({threads})"],
        cwd=root, env=dict(os.environ, PYTHONPATH=root), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("serving at "):
        proc.kill()
        raise RuntimeError(f"the {server} server did not start")
    return proc, int(line.split(":")[-1].rstrip("/\n"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.webfront")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args(argv if argv is not None else [])
    users = [1, 2, 3]  # (jobs() draws paths from these; the app answers any path alike)
    servers = {name: start(name, args.threads) for name in ("wsgiref", "gunicorn")}
    rows: dict = {}
    load0 = os.getloadavg()[0]
    try:
        for keep in (False, True):
            with webload.Clients(args.clients, keep_alive=keep) as clients:
                for r in range(args.rounds):
                    for name, (proc, port) in servers.items():
                        pids = webload.tree_pids([proc.pid])
                        cpu0 = webload.cpu_seconds(pids)
                        lat, failed, wall, own = clients.run(port, users, 100 + r,
                                                             args.seconds)
                        fig = webload.slice_figures(lat, failed, wall,
                                                    webload.cpu_seconds(pids) - cpu0, own)
                        fig["load"] = round(os.getloadavg()[0], 1)
                        rows.setdefault((name, keep), []).append(fig)
    finally:
        for proc, _ in servers.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _ in servers.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"the HTTP server alone (a fixed JSON answer), {args.clients} clients, "
          f"{args.threads} server threads, {args.rounds} slice(s) of {args.seconds:g} s a row, "
          f"taking turns; load {load0:.1f} -> {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| server | connections | requests/s | p50 ms | p99 ms | server CPU ms/request | "
          "failed | load |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, keep), figs in rows.items():
        def col(key: str, fmt: str, figs=figs) -> str:
            return ", ".join(format(f[key], fmt) for f in figs)

        print(f"| {name} | {'keep-alive' if keep else 'one per request'} | {col('rps', '.0f')} "
              f"| {col('p50_ms', '.1f')} | {col('p99_ms', '.1f')} | "
              f"{col('cpu_ms_per_request', '.3f')} | {sum(f['failed'] for f in figs)} | "
              f"{col('load', '.1f')} |")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
