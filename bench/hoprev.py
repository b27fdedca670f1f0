"""A node's CPU per two-hop round trip, measured on any revision of the repository (issue 18:
where did the round trip go?).

`python -m bench.hoprev REV [REV ...] [--rounds N] [--runs K] [--size B]` extracts each
revision's tree (`git archive`, into a temporary directory: no worktree, no checkout) and runs
in it, with this interpreter and its packages, a 64 B ping-pong on a fresh
`swarm.local_cluster(2)` of that tree's code (PYTHONPATH: the tree first; its nodes get it
too). After 250 round trips of warm-up the program waits while the bench reads
`/proc/PID/task/PID/schedstat` of both nodes' main threads, then makes N round trips; each
node's main-thread CPU and run-queue wait per round trip, all its threads' CPU, and the
program's own mean round trip are printed, one row a run, the revisions taken in turn K
times (so the machine's load falls on each alike).

It works on every revision since 2026-11-21 (the third session: `local_cluster`, `run_file`,
`procs`); the program keeps only ints, bytes and modules in its globals, which every
revision carries alike (bench.hops --cpu's program holds a closed file, which cost 60 us a hop
until s18). The compile cache of each revision is kept apart (XDG_CACHE_HOME).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from bench.hops import _schedstat

PROGRAM = """
import os, time
from swarm import move_to
payload = b"x" * {size}
for _ in range({warm}):
    move_to("n2")
    move_to("n1")
os.close(os.open({mark!r}, os.O_CREAT | os.O_WRONLY))
while not os.path.exists({go!r}):
    time.sleep(0.01)
start = time.perf_counter_ns()
for _ in range({rounds}):
    move_to("n2")
    move_to("n1")
RESULT = (time.perf_counter_ns() - start) / {rounds}
"""




def _all_threads(pid: int) -> int:
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except OSError:  # (a thread that ended meanwhile)
            pass
    return total


def child(rounds: int, size: int, warm: int = 250) -> dict:
    """In the revision's tree (its swarm first on sys.path): one measured ping-pong (`warm`
    round trips first)."""
    import swarm

    with tempfile.TemporaryDirectory(prefix="hoprev-") as tmp, \
            swarm.local_cluster(2, os.path.join(tmp, "c")) as cluster:
        mark, go = os.path.join(tmp, "warm"), os.path.join(tmp, "go")
        path = os.path.join(tmp, "pingpong.py")
        with open(path, "w") as f:
            f.write(PROGRAM.format(warm=warm, rounds=rounds, mark=mark, go=go, size=size))
        pids = {n: cluster.procs[n].pid for n in ("n1", "n2")}
        box: dict = {}
        runner = threading.Thread(target=lambda: box.update(r=cluster.run_file(path,
                                                                              timeout=900)))
        runner.start()
        while not os.path.exists(mark) and runner.is_alive():
            time.sleep(0.01)
        before = {n: (_schedstat(p), _all_threads(p)) for n, p in pids.items()}
        load = os.getloadavg()[0]
        open(go, "w").close()
        runner.join()
        after = {n: (_schedstat(p), _all_threads(p)) for n, p in pids.items()}
        result = box.get("r")
        if result is None or result.error:
            return {"error": str(getattr(result, "error", "no result"))[-1000:]}
        out = {"round_trip_us": round(result.value / 1e3, 1),
               "load": round((load + os.getloadavg()[0]) / 2, 2),
               "swarm": os.path.dirname(swarm.__file__)}
        for n in pids:
            (run0, wait0), all0 = before[n]
            (run1, wait1), all1 = after[n]
            out[n] = {"cpu_us": round((run1 - run0) / rounds / 1e3, 1),
                      "wait_us": round((wait1 - wait0) / rounds / 1e3, 1),
                      "all_threads_us": round((all1 - all0) / rounds / 1e3, 1)}
        return out


def extract(rev: str, into: str) -> str:
    """The revision's tree in a directory of its own under `into` (made once)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], capture_output=True, text=True,
                         check=True).stdout.strip()
    tree = os.path.join(into, sha)
    if not os.path.isdir(tree):
        os.makedirs(tree + ".part", exist_ok=True)
        archive = subprocess.Popen(["git", "archive", sha], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", tree + ".part"], stdin=archive.stdout, check=True)
        archive.wait()
        os.rename(tree + ".part", tree)
    return tree


def measure(tree: str, rounds: int, size: int) -> dict:
    """One run of `child` in the tree, in a process of its own."""
    env = dict(os.environ, PYTHONPATH=tree, XDG_CACHE_HOME=os.path.join(tree, ".cache"))
    env.pop("SWARM_COMPILE_CACHE", None)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(rounds),
                           str(size)], env=env, cwd=tree, capture_output=True, text=True,
                          timeout=900)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        return {"error": (proc.stderr or proc.stdout)[-1000:]}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> list:
    parser = argparse.ArgumentParser(prog="python -m bench.hoprev", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revs", nargs="+", help="git revisions (run from the repository)")
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=64, help="bytes the program carries")
    parser.add_argument("--dir", default=None,
                        help="where the trees go (default: a temporary directory, removed)")
    args = parser.parse_args(argv)
    keep = args.dir
    tmp = None if keep else tempfile.TemporaryDirectory(prefix="hoprev-trees-")
    into = keep or tmp.name
    trees = {rev: extract(rev, into) for rev in args.revs}
    print("| run | revision | load | round trip us | n1 CPU us | n2 CPU us | n1 wait us | "
          "n2 wait us | n1 all threads us |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for i in range(args.runs):
        for rev, tree in trees.items():
            res = measure(tree, args.rounds, args.size)
            res["rev"] = rev
            rows.append(res)
            if "error" in res:
                print(f"| {i + 1} | {rev} | not measured: {res['error'][-200:]!r} |")
                continue
            n1, n2 = res["n1"], res["n2"]
            print(f"| {i + 1} | {rev} | {res['load']} | {res['round_trip_us']} | "
                  f"{n1['cpu_us']} | {n2['cpu_us']} | {n1['wait_us']} | {n2['wait_us']} | "
                  f"{n1['all_threads_us']} |", flush=True)
    if tmp is not None:
        tmp.cleanup()
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        # (run as a file: its directory, bench/, leaves sys.path - the tree's swarm is found)
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") !=
                       os.path.dirname(os.path.abspath(__file__))]
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
