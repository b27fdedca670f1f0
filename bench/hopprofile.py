"""Where a two-hop round trip's time goes: py-spy on both nodes while a program ping-pongs.

`python -m bench.hopprofile [--seconds S] [--rate HZ]` starts `swarm.local_cluster(2)`, runs the
ping-pong program of bench/hops.py (64 B carried, n1 -> n2 -> n1 per round trip) long enough,
and samples both node processes with py-spy (`record --format raw --idle --nonblocking`, py-spy
installed in this venv: `pip install py-spy`) for S seconds in the middle of it. Each sample
is put in the first phase (PHASES, in order) one of its frames belongs to; the share of each
phase, times the node's wall time, over the round trips made meanwhile, is that phase's
microseconds per round trip on that node. Idle samples (the node's poll waiting) are the
time a node waits for the other, for the wire and for the OS scheduler. `--on-cpu` leaves the
idle samples out (a thread runnable and waiting for a CPU still counts: after a ZeroMQ send
wakes the I/O thread, the node's main thread often waits for a core inside `send`); `--gil`
keeps only samples of the thread holding the GIL - the Python code's own CPU. In both a
sample stands for 1/rate s of its phase.

fsync's share is not a phase here: the nodes' SQLite runs in WAL mode with synchronous=NORMAL,
which syncs only at checkpoints, never on a commit; BENCHMARKS.md counts the node's fsync and
fdatasync calls during the same ping-pong (strace -c -f).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from bench.hops import PING_PONG

#: (phase, substrings of a frame "function (file:line)" that put a sample in it), first match
#: wins, frames looked at from the innermost out (a frame's text: "function (file:line)")
PHASES = [
    ("spawn (tasks.py)", ("swarm/node/tasks.py", "traps.py:spawn", "spawn (swarm/node/traps")),
    ("futures (get, wait)", ("futurewait", "future_get", "resolve_future")),
    ("wait (poll: idle, or waiting for the CPU)", ("Poller.poll", "zmq_poll")),
    ("send (zmq send: wakes its I/O thread)", ("Socket.send", "send_peer", "send_client")),
    ("receive (zmq recv)", ("Socket.recv", "Links.receive")),
    ("sign / check (MAC, gate)", ("Signer.", "_mac", "gate.py", "envelope.py")),
    ("persist (SQLite transaction, group commit)", ("store.py", "sqlite")),
    ("process state saved per hop (scans sys.modules)", ("process_state.py",)),
    ("process state switched (cwd, sys.path)", ("swarm/node/process.py",)),
    ("capture (unwind frames)", ("swarm/continuation/capture.py", "unwind.py")),
    ("encode continuation (pickle)", ("codec.py:1", "reductions.py", "codec.py:9",
                                      "encode (swarm/continuation/codec")),
    ("decode continuation (unpickle)", ("_decode (swarm/continuation/codec", "decode")),
    ("resume (re-enter frames)", ("resume.py", "resume")),
    ("control messages (msgpack, fields)", ("swarm/wire/",)),
    ("machine (state, ledger, ids)", ("swarm/node/machine",)),
    ("kernel, shell, other node code", ("swarm/",)),
]

#: stacks of other threads than the main one (the main one runs the node and its programs,
#: in greenlets), left out: the watchdog sleeps, zmq's I/O threads are not Python
OTHER_THREADS = ("Thread._bootstrap",)


def _phase(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, marks in PHASES:
            if any(mark in frame for mark in marks):
                return name
    return "other"


def _read_raw(path: str) -> collections.Counter:
    phases: collections.Counter = collections.Counter()
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack.strip() or not count.isdigit() or \
                    any(mark in stack for mark in OTHER_THREADS):
                continue
            frames = stack.split(";")[1:]  # the first is the process/thread name
            phases[_phase(frames)] += int(count)
    return phases


def _spy(py_spy: str, pid: int, raw: str, seconds: float, rate: int,
         idle: bool = True, gil: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [py_spy, "record", "--format", "raw", *(["--idle"] if idle and not gil else []),
         *(["--gil"] if gil else []), "--nonblocking",
         "--rate", str(rate), "--duration", str(int(seconds)), "--pid", str(pid),
         "--output", raw],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(work: str = "pingpong", seconds: float = 8.0, rate: int = 500,
            keep: str | None = None, idle: bool = True, gil: bool = False) -> dict:
    """Phases of `work` ("pingpong": a two-hop round trip on 2 nodes; "fanout": 2,000 tasks
    spawned and gathered in order on 3 nodes, as bench/versus.py runs them), in microseconds
    per round trip or milliseconds per fan-out, on each node."""
    import swarm
    from bench.versus import FANOUT

    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        return {"available": False, "why": "py-spy is not installed: pip install py-spy"}
    nodes = ("n1", "n2") if work == "pingpong" else ("n1", "n2", "n3")
    out: dict = {"available": True, "work": work, "seconds": seconds, "rate": rate}
    with tempfile.TemporaryDirectory(prefix="swhp") as tmp, \
            swarm.local_cluster(len(nodes), os.path.join(tmp, "c")) as cluster:
        program = os.path.join(tmp, "work.py")
        with open(program, "w") as f:
            f.write(PING_PONG.format(size=64, warm=50, rounds=12_000) if work == "pingpong"
                    else FANOUT)
        results: list = []
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                r = cluster.run_file(program, argv=["2000"], timeout=900)
                results.append((r, time.perf_counter() - t))
                if work == "pingpong" or r.error:
                    return

        runner = threading.Thread(target=run)
        runner.start()
        time.sleep(2.0)
        before = len(results)
        spies = {node: (os.path.join(tmp, f"{node}.raw"),
                        _spy(py_spy, cluster.procs[node].pid, os.path.join(tmp, f"{node}.raw"),
                             seconds, rate, idle, gil)) for node in nodes}
        for node, (_, proc) in spies.items():
            if proc.wait(seconds + 60):
                stop.set()
                return {"available": False,
                        "why": f"py-spy on {node}: {proc.stderr.read().decode()[-500:]}"}
        done_in_window = len(results) - before
        stop.set()
        runner.join()
        errors = [r.error for r, _ in results if r.error]
        if errors:
            return {"available": False, "why": f"{work}: {errors[0]}"}
        if work == "pingpong":
            out["round_trip_us"] = round(results[0][0].value / 1e3, 1)
            units = seconds * 1e6 / out["round_trip_us"]  # round trips in the window
            scale, out["unit"] = 1e6, "us per round trip"
        else:
            out["fanout_s"] = sorted(r.value[1] for r, _ in results)[len(results) // 2]
            units = max(done_in_window, seconds / out["fanout_s"])
            scale, out["unit"] = 1e3, "ms per fan-out of 2,000"
        out["nodes"] = {}
        for node, (raw, _) in spies.items():
            if keep:
                os.makedirs(keep, exist_ok=True)
                shutil.copy(raw, os.path.join(keep, f"{work}-{node}.raw"))
            phases = _read_raw(raw)
            total = sum(phases.values()) or 1
            # with idle samples, they span the window: a phase's share of it; without (only
            # a thread running, or holding the GIL), a sample is 1/rate s of that phase -
            # spread over the window, they made the busy phases look as long as the round
            # trip (--on-cpu's `send` of 600 us a round trip, while the node's whole main
            # thread ran 360 us: BENCHMARKS.md, issue 18)
            span = seconds / total if idle and not gil else 1 / rate
            out["nodes"][node] = {
                "samples": total,
                "per_unit": {k: round(v * span * scale / units, 1)
                             for k, v in phases.most_common()}}
    return out


def print_table(res: dict) -> None:
    if not res.get("available"):
        print(f"not measured: {res.get('why')}")
        return
    what = (f"two-hop round trip {res['round_trip_us']} us (mean of the program)"
            if res["work"] == "pingpong" else
            f"fan-out of 2,000 tasks gathered in order, {res['fanout_s']:.2f} s (median)")
    print(f"{what}; py-spy {res['rate']} Hz for {res['seconds']} s on each node")
    nodes = list(res["nodes"])
    names = [p for p, _ in PHASES] + ["other"]
    print("| phase | " + " | ".join(f"{n} {res['unit']}" for n in nodes) + " |")
    print("|---|" + "---:|" * len(nodes))
    for name in names:
        cells = [res["nodes"][n]["per_unit"].get(name, 0.0) for n in nodes]
        if any(cells):
            print(f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.hopprofile")
    parser.add_argument("--work", choices=("pingpong", "fanout"), default="pingpong")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--keep", help="copy the raw py-spy stacks to this directory")
    parser.add_argument("--on-cpu", action="store_true",
                        help="only samples py-spy sees running (no --idle): the phases' "
                             "shares of the CPU, not of the wall time")
    parser.add_argument("--gil", action="store_true",
                        help="only samples of the thread holding the GIL: the Python code's "
                             "own CPU (a thread waiting in a ZeroMQ send for a CPU, which "
                             "--on-cpu counts as running, is left out)")
    args = parser.parse_args(argv if argv is not None else [])
    res = measure(args.work, args.seconds, args.rate, args.keep, idle=not args.on_cpu,
                  gil=args.gil)
    print_table(res)
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
