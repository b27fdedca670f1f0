"""What one web request costs in events, counted on every process: messages signed (by kind),
SQLite transactions, continuations encoded and decoded, values pickled and unpickled, module
instances made (a program's imports), greenlets started.

`python -m bench.webcount [--front gunicorn|wsgiref|loop] [--requests N]` sets up the bench's
Twitter data (bench.web: 3 communities x 40 users) on 3 local nodes, warms up, runs
`swarm place` (cluster.apply.place), warms up again, then counts over N requests of the
bench's load (90% timelines, 10% posts; 32 clients) and prints each count per request, by
process. Counting: every process of the run (the nodes, swarm.web and its gunicorn worker)
imports this module at start (a sitecustomize.py on PYTHONPATH, when SWARM_COUNT_DIR is set),
which wraps the functions counted and writes the counts to SWARM_COUNT_DIR/<pid>.json every
0.2 s. The wrappers cost a little CPU: do not read times off this run.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import itertools
import json
import os
import sys
import tempfile
import threading
import time

COUNTS: collections.Counter = collections.Counter()


def _counted(owner, name: str, label: str | None = None, by=None) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        COUNTS[label or name if by is None else f"{label}:{by(args)}"] += 1
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def install() -> None:
    """Wrap what is counted, in this process, and write the counts out every 0.2 s."""
    from swarm.compiler import registry
    from swarm.continuation import codec
    from swarm.node import kernel, store
    from swarm.wire import envelope

    _counted(envelope.Signer, "pack", "message", by=lambda a: a[1])
    _counted(store.Store, "transaction", "sqlite transaction")
    _counted(codec, "encode", "continuation encoded")
    _counted(codec, "decode", "continuation decoded")
    _counted(codec, "dumps", "value pickled")
    _counted(codec, "loads", "value unpickled")
    _counted(registry, "new_module_instance", "module instance made")
    _counted(kernel.Kernel, "spawn", "greenlet started")
    out = os.path.join(os.environ["SWARM_COUNT_DIR"], f"{os.getpid()}.json")

    def dump() -> None:
        while True:
            time.sleep(0.2)
            with contextlib.suppress(Exception):
                with open(out + ".tmp", "w") as f:
                    json.dump({"argv": sys.argv, "counts": dict(COUNTS)}, f)
                os.replace(out + ".tmp", out)

    def start() -> None:
        threading.Thread(target=dump, daemon=True, name="webcount").start()

    start()
    os.register_at_fork(after_in_child=lambda: (COUNTS.clear(), start()))


def snapshot(directory: str) -> dict[int, dict]:
    found = {}
    for name in os.listdir(directory):
        if name.endswith(".json"):
            with contextlib.suppress(ValueError, OSError), open(os.path.join(directory, name)) as f:
                found[int(name[:-5])] = json.load(f)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webcount")
    parser.add_argument("--front", default="gunicorn", help="swarm.web's --server")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="swcount") as tmp:
        hook = os.path.join(tmp, "hook")
        os.mkdir(hook)
        with open(os.path.join(hook, "sitecustomize.py"), "w") as f:
            f.write("import os\nif os.environ.get('SWARM_COUNT_DIR'):\n"
                    "    import bench.webcount\n    bench.webcount.install()\n")
        counts = os.path.join(tmp, "counts")
        os.mkdir(counts)
        os.environ["PYTHONPATH"] = os.pathsep.join([hook, root])
        os.environ["SWARM_COUNT_DIR"] = counts
        run(tmp, counts, args)


def run(tmp: str, counts: str, args) -> None:
    import swarm
    from bench import web, webload
    from bench.webload import Load
    from cluster.apply import place

    g = web.social_network(40)
    with swarm.local_cluster(3, os.path.join(tmp, "c")) as cluster:
        proc, port = web.start_swarm(cluster.config.path, args.clients, server=args.front)
        try:
            load = Load(port)
            webload.setup_data(load, g, web.CLIENTS, 3)
            load.run(itertools.islice(webload.jobs(g, 1), 1000), args.clients)
            place(cluster)
            load.run(itertools.islice(webload.jobs(g, 2), 1000), args.clients)
            time.sleep(0.5)
            before = snapshot(counts)
            t0 = time.perf_counter()
            load.run(itertools.islice(webload.jobs(g, 3), args.requests), args.clients)
            wall = time.perf_counter() - t0
            time.sleep(0.6)
            after = snapshot(counts)
        finally:
            web._stop(proc)
    n = args.requests
    print(f"per request, over {n} requests after place ({args.clients} clients, front end "
          f"{args.front}, {n / wall:.0f} req/s under counting; load {os.getloadavg()[0]:.2f})")
    names = {pid: ("node " + a["argv"][a["argv"].index("--name") + 1] if "--name" in a["argv"]
                   else "front end") for pid, a in after.items()}
    rows = sorted({k for a in after.values() for k in a["counts"]})
    cols = sorted(after, key=lambda p: names[p])
    print("| count | " + " | ".join(f"{names[p]} ({p})" for p in cols) + " | all |")
    print("|---|" + "---:|" * (len(cols) + 1))
    for row in rows:
        per = [(after[p]["counts"].get(row, 0) - before.get(p, {"counts": {}})["counts"]
                .get(row, 0)) / n for p in cols]
        if any(per):
            print(f"| {row} | " + " | ".join(f"{x:.2f}" for x in per) + f" | {sum(per):.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
