"""Swarm against what its users would pick instead, side by side in one run (issue 18's table).

`python -m bench.versus [--quick] [--repeat N] [--no-make]` (also a section of `make bench`;
`make bench-peers` runs it alone) does the same work in Swarm and in each peer, one after the
other on the same machine, and prints a table of medians and ratios (Swarm's time over the
peer's: below 1 is Swarm faster):

| work | Swarm | peers |
|---|---|---|
| small round trip, 64 B | a program hopping n1 -> n2 -> n1 (two hops) | raw ZeroMQ REQ/REP, Redis GET, Flask keep-alive GET on gunicorn, Ray actor call |
| 100 MiB float64 numpy array on another node, get + sum | migrate (the program hops to it), fetch (the value comes) | Ray: actor summing where it lives, `ray.get` + sum, task on the object; Dask: `submit(np.sum, fut)`, `fut.result().sum()`; numpy alone |
| 2,000 trivial tasks, spawned then gathered in order | `[spawn(f, i) ...]`, `[x.get() ...]` | Ray `ray.get([f.remote(i) ...])`, Dask `client.gather(client.map(...))` |
| fib(15), a task per call (1,973 tasks) | examples/skywriting/fib.sw | Ray remote tasks with nested `ray.get`, Dask `worker_client()` |

Each peer runs in its own venv, which `bench.peers` makes the first time (`--no-make`: a peer
whose venv is absent is skipped and the table says so); Redis is Debian's redis-server. The
peers' code is in bench/baselines/{ray,dask,web}_peer.py. Swarm runs on `swarm.local_cluster(3)`
(the array on `local_cluster(2)`, bench/bigdata.py). `--repeat N` does the whole comparison N
times and reports the median of each figure (the machine is shared: single runs are noisy);
every run's figures are kept in the JSON. `--quick` uses tiny sizes (the harness's smoke test).
The web requests (the Twitter example against Flask + SQLite on gunicorn) are bench/web.py's:
they need servers and data of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import peers
from bench.baselines import run_in, zmq_rtt

FULL = {"rounds": 2000, "hop_runs": 7, "hop_rounds": 200, "mib": 100, "tasks": 2000, "fib": 15,
        "runs": 3}
PEERS = ("web", "ray", "dask")  # the venvs of bench.peers this bench uses
QUICK = {"rounds": 50, "hop_runs": 2, "hop_rounds": 10, "mib": 1, "tasks": 20, "fib": 5,
         "runs": 1}

FANOUT = """
import sys, time
from swarm import spawn

def double(i):
    return 2 * i

n = int(sys.argv[1])
t = time.perf_counter()
futures = [spawn(double, i) for i in range(n)]
spawned = time.perf_counter()
got = [f.get() for f in futures]
RESULT = (spawned - t, time.perf_counter() - t, got == [2 * i for i in range(n)])
"""

#: (row, Swarm's figure, the peer's figure, target of Swarm / peer or None); figures are
#: paths into one run's results; every figure is a time (lower is better)
ROWS = [
    ("round trip 64 B: two hops / raw ZeroMQ REQ/REP", "swarm.two_hops_us", "zmq.us", 2.0),
    ("round trip 64 B: two hops / Redis GET", "swarm.two_hops_us", "web.redis_get.us", 2.0),
    ("round trip 64 B: two hops / Flask keep-alive GET", "swarm.two_hops_us",
     "web.flask_get.us", None),
    ("round trip 64 B: two hops / Ray actor call", "swarm.two_hops_us", "ray.call_us", None),
    ("array: migrate get+sum / Ray actor where it lives", "swarm.array.migrate.get_sum_ms",
     "ray.array.actor_ms", 2.0),
    ("array: fetch get+sum / Ray ray.get + sum", "swarm.array.fetch.get_sum_ms",
     "ray.array.get_sum_ms", 2.0),
    ("array: migrate get+sum / Ray task on the object", "swarm.array.migrate.get_sum_ms",
     "ray.array.task_ms", None),
    ("array: migrate get+sum / Dask submit(np.sum, fut)", "swarm.array.migrate.get_sum_ms",
     "dask.array.where_ms", None),
    ("array: fetch get+sum / Dask fut.result().sum()", "swarm.array.fetch.get_sum_ms",
     "dask.array.fetch_sum_ms", None),
    ("array: migrate get+sum / numpy's sum in one process", "swarm.array.migrate.get_sum_ms",
     "swarm.array.numpy_ms", None),
    ("fan-out gathered in order / Ray", "swarm.fanout.s", "ray.fanout.s", 0.5),
    ("fan-out gathered in order / Dask", "swarm.fanout.s", "dask.fanout.s", None),
    ("fib, a task per call / Ray", "swarm.fib.s", "ray.fib.s", 0.5),
    ("fib, a task per call / Dask", "swarm.fib.s", "dask.fib.s", None),
]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def swarm_side(size: dict, tmp: str) -> dict:
    """Swarm's figures for the four works, on local clusters of this process."""
    import swarm
    from bench import bigdata, hops, skyfib

    out: dict = {"load_before": _load()}
    pingpong = os.path.join(tmp, "pingpong.py")
    with open(pingpong, "w") as f:
        f.write(hops.PING_PONG.format(size=64, warm=20, rounds=size["hop_rounds"]))
    fanout = os.path.join(tmp, "fanout.py")
    with open(fanout, "w") as f:
        f.write(FANOUT)
    with swarm.local_cluster(3, os.path.join(tmp, "cluster")) as cluster:
        means = []
        for _ in range(size["hop_runs"]):
            res = cluster.run_file(pingpong, timeout=300)
            if res.error:
                raise RuntimeError(f"ping-pong: {res.traceback or res.error}")
            means.append(res.value / 1e3)
        out["two_hops_us"] = round(statistics.median(means), 1)
        out["two_hops_runs_us"] = [round(m, 1) for m in means]
        runs = []
        for i in range(size["runs"] + 1):  # the first is a warm-up
            t = time.perf_counter()
            res = cluster.run_file(fanout, argv=[str(size["tasks"])], timeout=600)
            client = time.perf_counter() - t
            if res.error or not res.value[2]:
                raise RuntimeError(f"fan-out: {res.traceback or res.error or 'wrong results'}")
            if i:
                runs.append((res.value[0], res.value[1], client))
        out["fanout"] = {"tasks": size["tasks"],
                         "spawn_s": statistics.median(r[0] for r in runs),
                         "s": statistics.median(r[1] for r in runs),
                         "client_s": statistics.median(r[2] for r in runs)}
    fib = skyfib.swarm_fib(size["fib"], size["runs"])
    if not fib.get("available"):
        raise RuntimeError(f"fib.sw: {fib.get('why')}")
    out["fib"] = {"n": size["fib"], "tasks": fib["tasks"], "s": fib["total_s"]}
    array = bigdata.numpy_sum(tmp, size["runs"], mib=size["mib"])
    out["array"] = {"mib": size["mib"], "numpy_ms": array["numpy_local_ms"],
                    "migrate": array["migrate"], "fetch": array["fetch"]}
    out["load_after"] = _load()
    return out


def peer_side(size: dict, make: bool, only: tuple[str, ...] = PEERS) -> dict:
    """Each peer's figures, in its own venv (made first if `make`), or why it is absent;
    `only`: the peers to run (the others are reported as not asked for)."""
    out: dict = {}
    z = zmq_rtt.measure((64,), size["rounds"], rep=True)
    out["zmq"] = {"us": z["sizes"]["64"]["median_us"], "what": z["what"]}
    for peer, module, args in (
        ("web", "bench.baselines.web_peer", None),
        ("ray", "bench.baselines.ray_peer",
         [size["rounds"], size["mib"], size["tasks"], size["fib"], size["runs"]]),
        ("dask", "bench.baselines.dask_peer",
         [size["mib"], size["tasks"], size["fib"], size["runs"]]),
    ):
        python, why = peers.peer_python(peer, make=make) if peer in only else (None, "not asked")
        if python is None:
            out[peer] = {"available": False, "why": why}
            continue
        if args is None:
            server, why = peers.redis_server(install=make)
            args = [size["rounds"]] + ([server] if server else [])
            if not server:
                out["redis_why"] = why
        load = _load()
        out[peer] = run_in(python, module, *map(str, args), timeout=1800)
        out[peer]["load_before"] = load
    return out


def _figure(run: dict, path: str):
    value = run
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def table(runs: list[dict]) -> list[dict]:
    """One row per comparison: the median over runs of each side and of the ratio."""
    rows = []
    for label, ours, theirs, target in ROWS:
        pairs = [(_figure(r, ours), _figure(r, theirs)) for r in runs]
        pairs = [(a, b) for a, b in pairs if a is not None and b]
        if not pairs:
            rows.append({"work": label, "swarm": None, "peer": None, "ratio": None,
                         "target": target, "met": None})
            continue
        ratio = statistics.median(a / b for a, b in pairs)
        rows.append({"work": label, "unit": _unit(ours),
                     "swarm": statistics.median(a for a, _ in pairs),
                     "peer": statistics.median(b for _, b in pairs), "ratio": round(ratio, 2),
                     "ratios": [round(a / b, 2) for a, b in pairs], "target": target,
                     "met": None if target is None else ratio <= target})
    return rows


def _unit(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return {"s": "s"}.get(last, last.rsplit("_", 1)[-1])


def print_table(rows: list[dict], n_runs: int) -> None:
    print(f"\nSwarm / peer, medians of {n_runs} run(s) (time ratios: below 1 is Swarm faster)")
    print("| work | Swarm | peer | Swarm / peer | target | met |")
    print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        if row["ratio"] is None:
            print(f"| {row['work']} | - | - | - | - | not measured |")
            continue
        unit = row["unit"]
        target = f"<= {row['target']:g}x" if row["target"] else "-"
        met = "-" if row["met"] is None else ("yes" if row["met"] else "no")
        print(f"| {row['work']} | {row['swarm']:.4g} {unit} | {row['peer']:.4g} {unit} | "
              f"{row['ratio']:.2f}x | {target} | {met} |")


def measure(quick: bool = False, repeat: int = 1, make: bool = True,
            only: tuple[str, ...] = PEERS) -> dict:
    """The whole comparison `repeat` times: every run's figures, and the table of medians."""
    size = QUICK if quick else FULL
    runs = []
    for i in range(repeat):
        print(f"  run {i + 1} of {repeat}: Swarm (load {_load()})", flush=True)
        with tempfile.TemporaryDirectory(prefix="swvs") as tmp:
            run = {"swarm": swarm_side(size, tmp)}
        print(f"  run {i + 1} of {repeat}: peers (load {_load()})", flush=True)
        run.update(peer_side(size, make, only))
        runs.append(run)
        line = ", ".join(f"{row['work'].split(':')[0]} {row['work'].split('/')[-1].strip()} "
                         f"{row['ratio']}x" for row in table([run]) if row["ratio"] is not None)
        print(f"  run {i + 1}: Swarm / peer: {line}", flush=True)
    rows = table(runs)
    missing = {k: v.get("why") for k, v in runs[-1].items()
               if isinstance(v, dict) and v.get("available") is False}
    return {"size": size, "runs": runs, "table": rows, "missing": missing,
            "load_end": _load()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.versus")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--repeat", type=int, default=1, help="whole runs, medians reported")
    parser.add_argument("--no-make", action="store_true",
                        help="skip a peer whose venv is absent instead of making it")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="the peers to run, comma-separated (default: all)")
    parser.add_argument("--out", help="write the figures there as JSON as well")
    args = parser.parse_args(argv if argv is not None else [])
    only = tuple(p for p in args.peers.split(",") if p)
    result = measure(args.quick, args.repeat, not args.no_make, only)
    print_table(result["table"], len(result["runs"]))
    for name, why in result["missing"].items():
        print(f"{name}: not measured: {why}")
    if args.out:
        from bench.__main__ import machine_facts

        with open(args.out, "w") as f:
            json.dump({"machine": machine_facts(), **result}, f, indent=2, default=repr)
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    cli = sys.argv[1:]
    if "--out" not in cli:  # run alone, it keeps its figures as `make bench` does
        (Path(__file__).resolve().parent / "results").mkdir(exist_ok=True)
        cli += ["--out", str(Path(__file__).resolve().parent / "results" / "versus.json")]
    main(cli)
