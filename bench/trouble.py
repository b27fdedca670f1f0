"""A node in trouble: how it answers while a program spins, and how soon a cut link heals.

`python -m bench.trouble` starts a local 2-node cluster and
- submits a program to n1 that computes in pure Python for SPIN seconds, touching no Ref;
- meanwhile pings n1 PINGS times, one after another, and runs QUICK short programs that read
  a Ref on n1 (submitted to n1, so they run beside the spinner), timing each;
- reports the median and p99 of both, and whether the spinner ended with its own answer.

Before preemption (swarm/node/kernel.py) a spinning program made its node deaf: pings and the
quick programs waited for the loop's end (and clients said the node was down).

Then, as root, the partition recovery that tests/test_pause_partition.py measures, with a 30 s
silent partition of one host (network namespaces): seconds from the heal to the end of the
last program that waited, with the links' liveness settings (swarm/wire/liveness.py).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPIN, PINGS, QUICK = 12.0, 300, 40

SPINNER = """
import time
t, n = time.monotonic(), 0
while time.monotonic() - t < float(__import__("sys").argv[1]):
    n += 1
RESULT = n > 0
"""

QUICK_READ = """
import sys
from swarm.refs import Ref
RESULT = Ref._handle(sys.argv[1], "n1").get()
"""

MAKE = """
from swarm import Ref
RESULT = Ref(41, at="n1").id
"""


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def spin() -> dict:
    import swarm

    with tempfile.TemporaryDirectory() as d, swarm.local_cluster(2, directory=d) as cluster:
        def script(name: str, text: str) -> str:
            path = os.path.join(d, name)
            Path(path).write_text(text)
            return path

        ref = cluster.run_file(script("make.py", MAKE), timeout=60).value
        spinner = cluster.submit(script("spin.py", SPINNER), [str(SPIN)], node="n1")
        time.sleep(0.5)  # it runs
        pings, quick = [], []
        reader = script("read.py", QUICK_READ)
        started = time.monotonic()
        for i in range(PINGS):
            t = time.perf_counter()
            assert cluster.ping(["n1"], timeout=30) == {"n1"}
            pings.append((time.perf_counter() - t) * 1000)
            if i % (PINGS // QUICK) == 0 and len(quick) < QUICK:
                t = time.perf_counter()
                out = cluster.run_file(reader, [ref], timeout=60, node="n1")
                assert out.value == 41, out.error
                quick.append((time.perf_counter() - t) * 1000)
        during = time.monotonic() - started
        done = cluster.results([spinner], timeout=120)[spinner]
        return {"spin_s": SPIN, "measured_during_s": round(during, 1),
                "ping_ms_p50": round(statistics.median(pings), 2),
                "ping_ms_p99": round(percentile(pings, 99), 2),
                "quick_program_ms_p50": round(statistics.median(quick), 1),
                "quick_program_ms_p99": round(percentile(quick, 99), 1),
                "spinner_ok": done.error is None and done.value is True}


def partition() -> dict:
    if os.geteuid() != 0:
        return {"available": False, "why": "network namespaces need root"}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         str(root / "tests" / "test_pause_partition.py"), "-k", "partition"],
        cwd=root, env=dict(os.environ, SWARM_OUTAGE="30"), capture_output=True, text=True,
        timeout=600)
    found = re.search(r"recovered ([\d.]+) s after the heal", done.stdout)
    if done.returncode or not found:
        return {"errors": [done.stdout[-2000:]]}
    return {"outage_s": 30, "recovered_s": float(found.group(1))}


def main() -> dict:
    result = {"spin": spin(), "partition": partition()}
    s = result["spin"]
    print(f"while a program spins {s['spin_s']:g} s on n1: ping p50 {s['ping_ms_p50']} ms, "
          f"p99 {s['ping_ms_p99']} ms; a quick program beside it p50 "
          f"{s['quick_program_ms_p50']} ms, p99 {s['quick_program_ms_p99']} ms; "
          f"spinner ok: {s['spinner_ok']}")
    print(f"partition of 30 s: {result['partition']}")
    return result


if __name__ == "__main__":
    main()
