"""Shared test helpers (the tests directory is on sys.path under pytest)."""

import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(tmp_path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(source)
    return str(path)


def swarm_cli(*args: str, cwd=None, input: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """`swarm ARGS...` as a user runs it: a process of its own, this checkout on its path."""
    return subprocess.run([sys.executable, "-m", "swarm.cli", *args], cwd=cwd, input=input,
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                          text=True, timeout=timeout)


def status_while_running(cluster, path: str, after: float = 1.0, **run_kw):
    """Run the program at `path` in a thread and take every node's status `after` seconds
    in: (its outcome, status rows by node). A node too busy to answer within 5 s is missing."""
    from swarm.client import Cluster

    box = {}
    worker = threading.Thread(
        target=lambda: box.update(out=cluster.run_file(path, timeout=60, **run_kw)))
    worker.start()
    time.sleep(after)
    probe = Cluster(cluster.config)  # a connection of its own: sockets are per thread
    try:
        status = {row["node"]: row for row in probe.status()}
    finally:
        probe.close()
    worker.join()
    return box["out"], status
