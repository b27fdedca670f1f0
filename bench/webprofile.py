"""Where a web request's CPU goes in Swarm: py-spy on the nodes and the front end under load.

`python -m bench.web --profile` calls `profile()` after its measured slices: one more slice of
the same load on Swarm (after `swarm place`), with py-spy (`record --format raw --nonblocking`,
installed in swarm's venv: `pip install py-spy`) sampling each node and the front end for the
slice's length. py-spy without `--idle` keeps the samples of threads that are running or
waiting for a CPU, so a process's samples are its busy time; each sample is put in the first
phase its stack matches (the phases of bench.hopprofile, after a few of a web request's own),
and a phase's share of a process's samples, times that process's CPU per request over the
slice (from /proc), is that phase's CPU per request in the process. Samples whose innermost
frame waits (WAITS: a poll, a sleep, a queue, a blocking read) are left out of the shares (py-spy's idle
detection misses these here; their share is reported apart). A thread woken and waiting for
a CPU still counts where it stands (zmq's send, which wakes ZeroMQ's I/O thread, mostly). Also the functions with the most samples of their own
(the innermost frame), over all the processes, scaled the same way.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile

from bench import webload
from bench.hopprofile import PHASES

#: a web request's phases on a node, looked for before bench.hopprofile's (first match wins,
#: frames from the innermost out)
NODE_PHASES = [
    *PHASES[:2],
    ("program start (modules, compile, load)", ("swarm/compiler", "swarm/node/modules.py",
                                                "swarm/node/program.py",
                                                "swarm/continuation/loader.py", "importlib")),
    ("collections (serve a read or update)", ("swarm/node/coll", "swarm/collections.py",
                                              "swarm/node/refserve.py")),
    ("the app and swarm.web (handlers, routes)", ("examples/twitter", "__swarm_request__",
                                                  "swarm/web.py")),
    *PHASES[2:],
]
#: the front end's phases (swarm.web's HTTP server - gunicorn's worker and master, or
#: wsgiref's - and its threads' cluster clients)
FRONT_PHASES = [
    ("HTTP server (gunicorn or wsgiref, sockets, headers)", (
        "gunicorn/", "wsgiref", "socketserver", "http/server", "python3.11/socket.py",
        "email/", "selectors.py", "concurrent/futures")),
    ("cluster client (submit, the answer)", ("swarm/client", "swarm/clientio", "zmq/")),
    ("JSON", ("json/",)),
    ("the app and swarm.web (handlers, routes)", ("swarm/web.py",)),
]
#: innermost frames that wait (py-spy's idle detection does not see these waits as idle here:
#: a poll, the watchdog's sleep, a worker thread waiting for a connection or reading one); their samples
#: are left out of the shares, as is the time a thread woken there waits for a CPU
#: (the last two: gunicorn gthread's main thread polling, its pool's threads waiting for work)
WAITS = ("Poller.poll", "zmq_poll", "_PollLikeSelector.select", "Condition.wait",
         "Event.wait", "Kernel._watch", "_wait_for_tstate_lock", "Queue.get",
         "SocketIO.readinto", "EpollSelector.select", "concurrent/futures/thread.py")
WAIT = "waiting (poll, sleep, a queue)"


def _phase(frames: list[str], phases: list) -> str:
    for frame in reversed(frames):  # innermost first
        for name, marks in phases:
            if any(mark in frame for mark in marks):
                return name
    return "other"


def _function(frame: str) -> str:
    """'name (path/to/file.py:12)' -> 'name (to/file.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})"


def read_raw(path: str, phases_of: list) -> tuple[collections.Counter, collections.Counter]:
    """(samples per phase of `phases_of`, samples per innermost function) of a py-spy raw
    file."""
    phases: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack.strip() or not count.isdigit():
                continue
            frames = stack.split(";")[1:]  # the first is the process/thread name
            if frames and any(mark in frames[-1] for mark in WAITS):
                phases[WAIT] += int(count)
            elif frames:
                phases[_phase(frames, phases_of)] += int(count)
                own[_function(frames[-1])] += int(count)
    return phases, own


def profile(side, clients, cluster, front_pid: int, g, seconds: float,
            rate: int = 200) -> dict:
    """One slice of Swarm under the load with py-spy on every node and the front end."""
    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        return {"available": False, "why": "py-spy is not installed: pip install py-spy"}
    procs = {"front end": front_pid, **{n: p.pid for n, p in cluster.procs.items()}}
    with tempfile.TemporaryDirectory(prefix="swwp") as tmp:
        spies = {}
        trees = {name: webload.tree_pids([pid]) for name, pid in procs.items()}
        cpu0 = {name: webload.cpu_seconds(trees[name]) for name in procs}
        for name, pid in procs.items():
            raw = os.path.join(tmp, f"{name.replace(' ', '_')}.raw")
            spies[name] = (raw, subprocess.Popen(
                [py_spy, "record", "--format", "raw", "--nonblocking", "--rate", str(rate),
                 "--duration", str(max(1, int(seconds))), "--pid", str(pid), "--output", raw,
                 *(["--subprocesses"] if name == "front end" else [])],  # (gunicorn's worker)
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        lat, failed, wall, _ = clients.run(side.load.port, g, 99, seconds)
        cpu = {name: webload.cpu_seconds(trees[name]) - cpu0[name] for name in procs}
        out: dict = {"available": True, "requests": len(lat), "failed": failed,
                     "rps": len(lat) / wall, "rate": rate, "processes": {}}
        own_all: collections.Counter = collections.Counter()
        for name, (raw, spy) in spies.items():
            if spy.wait(seconds + 60) or not os.path.exists(raw):
                return {"available": False,
                        "why": f"py-spy on {name}: {spy.stderr.read().decode()[-500:]}"}
            phases, own = read_raw(raw, FRONT_PHASES if name == "front end" else NODE_PHASES)
            waiting = phases.pop(WAIT, 0)
            total = sum(phases.values()) or 1
            per_request = cpu[name] * 1e3 / max(len(lat), 1)
            out["processes"][name] = {
                "cpu_ms_per_request": round(per_request, 3), "samples": total + waiting,
                "waiting_share": round(waiting / (total + waiting), 3),
                "phases_ms": {k: round(v / total * per_request, 3)
                              for k, v in phases.most_common()}}
            for fn, n in own.items():
                if not any(mark in fn for mark in WAITS):
                    own_all[fn] += n / total * per_request
        out["functions_ms"] = {fn: round(ms, 3) for fn, ms in own_all.most_common(15)}
    return out


def print_profile(res: dict) -> None:
    if not res.get("available"):
        print(f"profile: not measured: {res.get('why')}")
        return
    names = list(res["processes"])
    print(f"\nwhere Swarm's CPU per request goes (py-spy {res['rate']} Hz, one more slice: "
          f"{res['requests']} requests at {res['rps']:.0f} req/s), ms of CPU per request:")
    print("| phase | " + " | ".join(names) + " | all |")
    print("|---|" + "---:|" * (len(names) + 1))
    rows = collections.Counter()
    for p in res["processes"].values():
        rows.update(p["phases_ms"])
    for phase, ms in rows.most_common():
        cells = [res["processes"][n]["phases_ms"].get(phase, 0.0) for n in names]
        print(f"| {phase} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {ms:.2f} |")
    total = [res["processes"][n]["cpu_ms_per_request"] for n in names]
    print("| **CPU per request** | " + " | ".join(f"{c:.2f}" for c in total)
          + f" | {sum(total):.2f} |")
    print("| (samples waiting, left out: their share of the process's samples) | "
          + " | ".join(f"{res['processes'][n]['waiting_share']:.0%}" for n in names) + " | |")
    print("functions with the most CPU of their own (ms per request, all processes):")
    for fn, ms in res["functions_ms"].items():
        print(f"  {ms:6.3f}  {fn}")
