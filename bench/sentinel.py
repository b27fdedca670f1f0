"""Failover of the peer a user would pick for it: Redis with Sentinel (Debian's redis-server and
redis-sentinel, installed with apt-get if missing), beside Swarm's `failover` (bench/shrink.py).
A primary and a replica, three sentinels (quorum 2, `down-after-milliseconds 2000`: Swarm's
`failover = 2`); 20 keys written, each on the replica before it counts (`WAIT 1`, as a
Swarm write waits for its mirror); the primary SIGKILLed; the time until a sentinel names the
replica and it answers as the primary, and whether it has the 20 keys.

    python -m bench.sentinel [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _cli(port: int, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=10).stdout.strip()


def once(directory: str) -> tuple[float, bool]:
    """(seconds from the SIGKILL to the replica serving as primary, every key kept)."""
    p1, p2, sentinels = _port(), _port(), [_port() for _ in range(3)]
    server = ["redis-server", "--save", "", "--appendonly", "no", "--dir", directory]
    procs = [subprocess.Popen([*server, "--port", str(p1)], stdout=subprocess.DEVNULL),
             subprocess.Popen([*server, "--port", str(p2), "--replicaof", "127.0.0.1",
                               str(p1)], stdout=subprocess.DEVNULL)]
    try:
        for i, port in enumerate(sentinels):
            conf = os.path.join(directory, f"sentinel{i}.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nsentinel monitor m 127.0.0.1 {p1} 2\n"
                        f"sentinel down-after-milliseconds m 2000\n"
                        f"sentinel failover-timeout m 10000\n")
            procs.append(subprocess.Popen(["redis-sentinel", conf], stdout=subprocess.DEVNULL))
        while "master_link_status:up" not in _cli(p2, "INFO", "replication"):
            time.sleep(0.1)
        time.sleep(3)  # (the sentinels find each other and the replica)
        for i in range(20):
            _cli(p1, "SET", f"k{i}", str(i))
        if _cli(p1, "WAIT", "1", "1000") != "1":
            raise RuntimeError("the replica did not take the writes")
        start = time.monotonic()
        procs[0].kill()
        while not (_cli(sentinels[0], "SENTINEL", "get-master-addr-by-name", "m")
                   .endswith(str(p2)) and _cli(p2, "ROLE").startswith("master")):
            time.sleep(0.05)
        took = time.monotonic() - start
        kept = [_cli(p2, "GET", f"k{i}") for i in range(20)] == [str(i) for i in range(20)]
        return took, kept
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main(runs: int = 3) -> list:
    if not shutil.which("redis-sentinel"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server", "redis-sentinel"],
                       check=True, capture_output=True)
    rows = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="swarm-bench-sentinel-") as directory:
            took, kept = once(directory)
        print(f"Redis Sentinel: the replica serves as primary {took:.2f} s after the "
              f"primary's SIGKILL; the 20 acknowledged keys kept: {kept}", flush=True)
        rows.append({"served_s": took, "kept": kept})
    print("load:", os.getloadavg())
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    main(p.parse_args().runs)
