"""The Twitter example under load, before and after `swarm place`, beside Flask + SQLite.

`python -m bench.web [--quick] [--slice S] [--rounds R] [--clients C] [--workers W]
[--reads P] [--reads-after P] [--gunicorn OPTIONS] [--no-make] [--profile]` (a section of
`make bench`) runs, side by side in
one run on this machine:

- Swarm: examples/twitter on a local 3-node cluster, served by `python -m swarm.web` in a
  process of its own (as `make web` does) with one front-end thread per client, on the HTTP
  server `--front` names (auto: gunicorn if installed, else wsgiref; loop: one thread for
  every connection, swarm/webloop.py; `--front gunicorn,loop`: two front ends on the same
  cluster, taking turns with Flask);
- its peer: the same JSON API written the way a Flask user would (bench/baselines/
  twitter_flask.py: Flask + SQLite in WAL mode with its indexes), served by gunicorn with
  (2 x cores) + 1 sync workers (gunicorn's documented starting point; see BENCHMARKS.md), in
  the peer venv bench.peers makes (`--no-make`: skipped if that venv is absent).

The data, the same on both, created through each one's API: the social network of
bench.placement (a stochastic block model, 3 communities x 40 users, p_in 0.25, p_out 0.01,
seed 7), each user following their neighbours, and 3 posts per user; every user's whole
timeline is then read from both and must be the same set of posts. The load (bench.webload):
32 clients (threads of 4 load processes), a new connection per request, saying `Connection:
close` (`--keep-alive`: one per client), 90% timelines, 10%
posts, users drawn from seeded sequences, in slices of S seconds (15); the two servers take
turns, slice after slice (R = 2):

    warm-up of each (1,000 requests, not measured: Swarm's nodes fill their memos)
    R rounds of [Swarm as created, Flask]
    cluster.apply.place (what `swarm place` runs), then Swarm's warm-up again
    R rounds of [Swarm after place, Flask]

Per side: requests/s, p50/p95/p99 latency, failed requests, server CPU per request (the
nodes and the front end; gunicorn's master and workers) and, for Swarm, hops and asks per
request (the nodes' `hops_in` and `fetches`), the share answered with no write and why
the others were written (their `quick` counts). `--reads P`: GET requests under policy P
(swarm.web's `--reads`); `--reads-after P`: swarm.web started again with P after the place,
which the accesses recorded under `--reads` decided. The ratio judged (issue 18): Swarm after place
over Flask in the same rounds, >= 0.5x the requests/s, and p99 under 100 ms. `--profile`
then runs one more Swarm slice under py-spy (bench.webprofile).
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import peers, webload
from bench.webload import Load

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "twitter" / "app.py"
CLIENTS = 32
FULL = {"per_community": 40, "posts": 3, "warmup": 1000, "slice_s": 15.0, "rounds": 2,
        "clients": CLIENTS}
QUICK = {"per_community": 4, "posts": 1, "warmup": 20, "slice_s": 0.5, "rounds": 1,
         "clients": CLIENTS}
WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn's documented starting point
GUNICORN = f"-w {WORKERS}"  # sync workers (gunicorn's default worker class)
TARGET_RPS, TARGET_P99_MS = 0.5, 100.0


def social_network(per_community: int):
    """bench.placement's follow graph (40 users a community), or one as dense with fewer."""
    import networkx as nx

    from bench.placement import COMMUNITIES, P_IN, P_OUT, SEED

    if per_community == 40:
        from bench.placement import follow_graph

        return follow_graph()
    probs = [[P_IN * 10 / per_community if i == j else P_OUT for j in range(COMMUNITIES)]
             for i in range(COMMUNITIES)]
    return nx.stochastic_block_model([per_community] * COMMUNITIES, probs, seed=SEED)


def _port_of(proc: subprocess.Popen, what: str) -> int:
    for line in proc.stdout:
        if line.startswith("serving "):
            return int(line.split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
    proc.wait()
    raise RuntimeError(f"{what} did not start (exit {proc.returncode})")


def start_swarm(cluster_file: str, workers: int, reads: str = "migrate",
                server: str = "auto") -> tuple[subprocess.Popen, int]:
    """`python -m swarm.web` serving the example on the cluster, with `workers` threads, on
    `server` (gunicorn: one gthread process)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.web", str(APP), "--cluster", cluster_file, "--port", "0",
         "--workers", str(workers), "--reads", reads, "--server", server],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))),  # (bench.webcount's)
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc, _port_of(proc, "the Swarm web server")


def start_flask(python: str, tmp: str,
                gunicorn: str = GUNICORN) -> tuple[subprocess.Popen, int, dict]:
    """gunicorn (with the options `gunicorn`) serving bench.baselines.twitter_flask on a fresh
    SQLite file."""
    from bench.baselines.web_peer import _free_port, _wait_port

    db = os.path.join(tmp, "twitter.db")
    subprocess.run([python, "-m", "bench.baselines.twitter_flask", "init", db], cwd=ROOT,
                   check=True, timeout=60)
    versions = subprocess.run(
        [python, "-c", "import sqlite3, importlib.metadata as m; print(m.version('flask'), "
         "m.version('gunicorn'), sqlite3.sqlite_version)"],
        capture_output=True, text=True, check=True, timeout=60).stdout.split()
    port = _free_port()
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(python), "gunicorn"), *gunicorn.split(), "-b",
         f"127.0.0.1:{port}", "--log-level", "warning", "bench.baselines.twitter_flask:app"],
        cwd=ROOT, env=dict(os.environ, TWITTER_DB=db), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    _wait_port(port, proc, "gunicorn")
    return proc, port, {"flask": versions[0], "gunicorn": versions[1], "sqlite": versions[2],
                        "server": f"gunicorn {gunicorn}"}


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Side:
    """One server under the load: its port, its processes, and its slices' raw figures."""

    def __init__(self, name: str, port: int, roots: list[int], cluster=None) -> None:
        self.name, self.load, self.cluster, self.roots = name, Load(port), cluster, roots
        self.slices: dict[str, list] = {}

    def counters(self) -> dict:
        if self.cluster is None:
            return {}
        rows = self.cluster.status()
        counts = {k: sum(r[k] for r in rows) for k in ("hops_in", "fetches")}
        counts["unwritten"] = sum(r.get("quick", {}).get("unwritten", 0) for r in rows)
        for r in rows:  # why the others were written (quick.py: the first thing kept)
            for k, v in r.get("quick", {}).items():
                if k.startswith("why_"):
                    counts[k] = counts.get(k, 0) + v
        return counts

    def run_slice(self, clients: webload.Clients, phase: str, g, seed: int,
                  seconds: float) -> dict:
        pids = webload.tree_pids(self.roots)  # now: gunicorn forks its workers after listening
        front = webload.tree_pids(self.roots[:1])  # swarm.web's process (and its gunicorn's)
        before, cpu0 = self.counters(), webload.cpu_seconds(pids)
        front0 = webload.cpu_seconds(front)
        lat, failed, wall, own = clients.run(self.load.port, g, seed, seconds)
        cpu = webload.cpu_seconds(pids) - cpu0
        front_cpu = webload.cpu_seconds(front) - front0
        after = self.counters()
        raw = {"latencies": lat, "failed": failed, "wall": wall, "cpu": cpu, "own": own,
               "front": front_cpu,
               "load": round(os.getloadavg()[0], 2),
               **{k: after[k] - before.get(k, 0) for k in after}}
        self.slices.setdefault(phase, []).append(raw)
        fig = webload.slice_figures(lat, failed, wall, cpu, own)
        print(f"  {self.name} {phase}: {fig['rps']:.0f} req/s, p50 {fig['p50_ms']:.1f} ms, "
              f"p99 {fig['p99_ms']:.1f} ms, {fig['cpu_ms_per_request']:.2f} ms server CPU and "
              f"{fig['client_cpu_ms_per_request']:.2f} ms client CPU a request, {failed} failed (load {raw['load']})"
              + (f"; front end {1000 * front_cpu / len(lat):.2f} ms CPU a request"
                 if self.cluster is not None and lat else ""), flush=True)
        return fig

    def pooled(self, phase: str) -> dict:
        raws = self.slices[phase]
        lat = [x for r in raws for x in r["latencies"]]
        fig = webload.slice_figures(lat, sum(r["failed"] for r in raws),
                                    sum(r["wall"] for r in raws), sum(r["cpu"] for r in raws),
                                    sum(r["own"] for r in raws))
        for counter, name in (("hops_in", "hops_per_request"), ("fetches", "asks_per_request"),
                              ("unwritten", "unwritten_share")):
            if counter in raws[0] and lat:
                fig[name] = sum(r[counter] for r in raws) / len(lat)
        if self.cluster is not None and lat:  # swarm.web's own share of the server CPU
            fig["front_cpu_ms_per_request"] = 1000 * sum(r["front"] for r in raws) / len(lat)
        whys = {k[4:]: sum(r.get(k, 0) for r in raws) for k in raws[-1] if k.startswith("why_")}
        if whys and lat:  # the share of requests written, by what made them written
            fig["written_why"] = {k: v / len(lat) for k, v in sorted(whys.items()) if v}
        fig["slices_rps"] = [round(len(r["latencies"]) / r["wall"]) for r in raws]
        fig["load"] = [r["load"] for r in raws]
        return fig


def warm_up(side: Side, g, seed: int, requests: int) -> None:
    """`requests` requests, not measured (Swarm's nodes learn where things are)."""
    side.load.run(itertools.islice(webload.jobs(g, seed), requests), CLIENTS)  # as in setup


def measure(size: dict, make: bool = True, profile: bool = False,
            gunicorn: str = GUNICORN) -> dict:
    """The whole run (FULL or QUICK `size`): setup, turns, place, turns; the figures."""
    import swarm
    from cluster.apply import place

    g = social_network(size["per_community"])
    res: dict = {"size": size, "users": g.number_of_nodes(), "follows": 2 * g.number_of_edges(),
                 "clients": size["clients"], "load_start": round(os.getloadavg()[0], 2)}
    python, why = peers.peer_python("web", make=make)
    with tempfile.TemporaryDirectory(prefix="swweb") as tmp, \
            swarm.local_cluster(3, os.path.join(tmp, "c")) as cluster, \
            webload.Clients(size["clients"], min(webload.PROCESSES, size["clients"]),
                            size.get("keep_alive", False)) as clients:
        procs = []
        try:
            sides = []
            for i, server in enumerate(size.get("fronts", ["auto"])):
                proc, port = start_swarm(cluster.config.path,
                                         size.get("workers") or size["clients"],
                                         size.get("reads", "migrate"), server)
                procs.append(proc)  # (the first: "swarm", the one judged; others by server)
                sides.append(Side("swarm" if i == 0 else f"swarm_{server}", port,
                                  [proc.pid, *(p.pid for p in cluster.procs.values())],
                                  cluster))
            res["swarm_sides"] = [s.name for s in sides]
            res["fronts"] = size.get("fronts", ["auto"])
            if python is None:
                res["flask_peer"] = {"available": False, "why": why}
            else:
                fproc, fport, res["flask_versions"] = start_flask(python, tmp, gunicorn)
                procs.append(fproc)
                sides.append(Side("flask", fport, [fproc.pid]))
            data = [sides[0]] + sides[len(res["swarm_sides"]):]  # (one Swarm: one cluster)
            for side in data:
                t0 = time.perf_counter()
                res[f"{side.name}_setup_failed"] = webload.setup_data(side.load, g, CLIENTS,
                                                                      size["posts"])
                res[f"{side.name}_setup_s"] = round(time.perf_counter() - t0, 1)
            seen = [webload.timelines(side.load, g) for side in sides]  # (every front end)
            res["timelines_differ"] = (sum(seen[i][u] != seen[-1][u] for i in range(len(seen) - 1)
                                           for u in seen[-1]) if python is not None else None)
            for side in sides:
                warm_up(side, g, 1, size["warmup"])
            for r in range(size["rounds"]):
                for side in sides:
                    side.run_slice(clients, "before", g, 10 + r, size["slice_s"])
            t0 = time.perf_counter()
            plan = place(cluster)
            res["place_s"] = round(time.perf_counter() - t0, 2)
            res.update(moves=len(plan.moves), cut_before=plan.cut_before,
                       cut_after=plan.cut_after, balance_after=plan.balance_after)
            if size.get("reads_after"):  # the first front end again, reads by another policy
                procs[0].send_signal(signal.SIGTERM)
                _stop(procs[0])
                procs[0], port = start_swarm(cluster.config.path,
                                             size.get("workers") or size["clients"],
                                             size["reads_after"], res["fronts"][0])
                sides[0].load = Load(port)
                sides[0].roots = [procs[0].pid, *sides[0].roots[1:]]
            for side in sides[:len(res["swarm_sides"])]:
                warm_up(side, g, 2, size["warmup"])
            for r in range(size["rounds"]):
                for side in sides:
                    side.run_slice(clients, "after", g, 20 + r, size["slice_s"])
            for side in sides:
                for phase in side.slices:
                    res[f"{side.name}_{phase}"] = side.pooled(phase)
            if profile:
                from bench import webprofile

                res["profile"] = webprofile.profile(sides[0], clients, cluster, procs[0].pid,
                                                    g, size["slice_s"])
        finally:
            for p in procs:  # both at once (each takes a graceful half second or so)
                p.send_signal(signal.SIGTERM)
            for p in procs:
                _stop(p)
    res["load_end"] = round(os.getloadavg()[0], 2)
    res["errors"] = (res["swarm_setup_failed"] + res.get("flask_setup_failed", 0)
                     + (res["timelines_differ"] or 0)
                     + sum(res[f"{side}_{phase}"]["failed"]
                           for side in (*res["swarm_sides"], "flask")
                           for phase in ("before", "after") if f"{side}_{phase}" in res))
    if "flask_after" in res:
        a, f = res["swarm_after"], res["flask_after"]
        res["ratio_rps"] = round(a["rps"] / f["rps"], 3)
        res["met"] = res["ratio_rps"] >= TARGET_RPS and a["p99_ms"] < TARGET_P99_MS
    return res


def print_table(res: dict) -> None:
    """The table of a run (and the profile, if one was made)."""
    size = res["size"]
    print(f"the Twitter example on 3 local nodes against Flask + SQLite: {res['users']} users, "
          f"{res['follows']} follows, {size['posts']} posts each; {res['clients']} clients "
          f"({'keep-alive' if size.get('keep_alive') else 'a connection per request'}), "
          f"90% timelines, 10% posts; {size['rounds']} slice(s) of {size['slice_s']:g} s per "
          f"row, taking turns; load {res['load_start']} -> {res['load_end']}")
    print("| server | requests/s | p50 ms | p95 ms | p99 ms | server CPU ms/request | "
          "client CPU ms/request | hops/request | asks/request | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    fronts = dict(zip(res["swarm_sides"], res["fronts"], strict=True))
    rows = [(f"Swarm ({fronts[name]}), {when}", f"{name}_{phase}")
            for phase, when in (("before", "as created"), ("after", "after swarm place"))
            for name in res["swarm_sides"]]
    rows.insert(len(res["swarm_sides"]), ("Flask, beside it", "flask_before"))
    rows.append(("Flask, beside it", "flask_after"))
    for name, key in rows:
        r = res.get(key)
        if r is None:
            continue
        hops = f"{r['hops_per_request']:.2f}" if "hops_per_request" in r else "-"
        asks = f"{r['asks_per_request']:.2f}" if "asks_per_request" in r else "-"
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['cpu_ms_per_request']:.2f} | "
              f"{r['client_cpu_ms_per_request']:.2f} | {hops} | {asks} | {r['failed']} |")
    unwritten = [f"{res[k]['unwritten_share']:.0%}" for k in ("swarm_before", "swarm_after")
                 if "unwritten_share" in res.get(k, {})]
    if unwritten:  # (quick submissions: swarm/node/machine/quick.py)
        print(f"Swarm's requests answered with no write (read-only, no hop): "
              f"{' -> '.join(unwritten)} (as created -> after place)")
        why = res.get("swarm_after", {}).get("written_why")
        if why:  # (quick.py's counts: the first thing a write had to keep)
            print("Of the others, written after place, by what was kept first: " + ", ".join(
                f"{k} {v:.0%}" for k, v in why.items()) + " (HopSent: a hop; write: a Ref "
                "written; Asked: a write asked of another node)")
    for name in res["swarm_sides"]:
        front = [f"{res[k]['front_cpu_ms_per_request']:.2f}"
                 for k in (f"{name}_before", f"{name}_after")
                 if "front_cpu_ms_per_request" in res.get(k, {})]
        if front:
            print(f"of Swarm's server CPU, the front end's (swarm.web on {fronts[name]}) "
                  f"ms/request: {' -> '.join(front)} (as created -> after place)")
    print(f"swarm place: {res['moves']} moves in {res['place_s']} s, cut weight "
          f"{res['cut_before']:.0f} -> {res['cut_after']:.0f}, balance {res['balance_after']:.2f}"
          f"; setup through the API: Swarm {res['swarm_setup_s']} s"
          + (f", Flask {res['flask_setup_s']} s" if "flask_setup_s" in res else ""))
    if "ratio_rps" in res:
        print(f"Swarm after place / Flask: {res['ratio_rps']:.2f}x the requests/s (target >= "
              f"{TARGET_RPS}x), p99 {res['swarm_after']['p99_ms']:.0f} ms (target < "
              f"{TARGET_P99_MS:.0f} ms): {'met' if res['met'] else 'not met'}; whole timelines "
              f"differing between the two: {res['timelines_differ']}")
    else:
        print(f"Flask + SQLite: not measured: {res['flask_peer']['why']}")
    print(f"failed requests in all: {res['errors']}")
    if res.get("profile"):
        from bench import webprofile

        webprofile.print_profile(res["profile"])


def main(argv: list[str] | None = None) -> dict:
    """The command line (`make bench` calls it without arguments: the full run)."""
    parser = argparse.ArgumentParser(prog="python -m bench.web")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--slice", type=float, help="seconds of a slice")
    parser.add_argument("--rounds", type=int, help="slices per side and phase")
    parser.add_argument("--clients", type=int, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--workers", type=int,
                        help="swarm.web's front-end threads (default: one per client)")
    parser.add_argument("--reads-after", choices=["fetch", "migrate"],
                        help="after `swarm place`, swarm.web again with this policy for GET "
                             "(the accesses placed by were recorded under --reads)")
    parser.add_argument("--reads", choices=["fetch", "migrate"],
                        help="swarm.web's policy for GET requests (default: its own, migrate)")
    parser.add_argument("--front", default="auto",
                        help="Swarm's HTTP server(s), comma-separated, taking turns: auto, "
                             "gunicorn, wsgiref, loop (default auto: python -m swarm.web's "
                             "choice)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="each client keeps its connection (default: one per request)")
    parser.add_argument("--no-make", action="store_true",
                        help="skip Flask if its venv is absent instead of making it")
    parser.add_argument("--profile", action="store_true",
                        help="then py-spy on Swarm's processes during one more slice")
    parser.add_argument("--gunicorn", default=GUNICORN,
                        help=f"gunicorn's options for the Flask peer (default: {GUNICORN!r})")
    args = parser.parse_args(argv if argv is not None else [])
    size = dict(QUICK if args.quick else FULL)
    if args.slice:
        size["slice_s"] = args.slice
    if args.rounds:
        size["rounds"] = args.rounds
    if args.clients:
        size["clients"] = args.clients
    if args.workers:
        size["workers"] = args.workers
    if args.reads:
        size["reads"] = args.reads
    if args.reads_after:
        size["reads_after"] = args.reads_after
    from swarm.webserve import have_gunicorn

    auto = "gunicorn" if have_gunicorn() else "wsgiref"  # (python -m swarm.web's choice)
    size["fronts"] = [auto if f == "auto" else f for f in args.front.split(",")]
    size["keep_alive"] = args.keep_alive
    t0 = time.perf_counter()
    res = measure(size, not args.no_make, args.profile, args.gunicorn)
    res["total_s"] = round(time.perf_counter() - t0, 1)
    print_table(res)
    print(f"total {res['total_s']} s (cluster start-up included)")
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
