"""Placement run by a node on its own, every few seconds (`swarm-node --auto-place SECONDS`, or
`auto_place = SECONDS` in the cluster file, which the first node of the file acts on).

Each round runs ``swarm place --min-gain`` as a child process, exactly as an operator would:
the placer gathers every node's statistics over the wire and moves Refs with a program, so
nothing here touches the node's own state. A child process keeps the placer's imports
(networkx) and its CPU out of the node's loop, and its modules out of the node's sys.modules,
which programs' greenlets swap. Rounds whose plan would not save at least `MIN_GAIN` of the
current cut weight move nothing, so a settled cluster is left alone.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger("swarm.autoplace")

MIN_GAIN = 0.05  # a round moves Refs only if it saves this share of the hops recorded
ROUND_TIMEOUT = 600.0


def start(cluster_file: str, seconds: float) -> threading.Thread:
    """Start the rounds in a daemon thread (which only waits on child processes)."""
    if seconds <= 0:
        raise ValueError(f"--auto-place needs a positive number of seconds, not {seconds:g}")
    thread = threading.Thread(target=_rounds, args=(cluster_file, seconds),
                              name="swarm-autoplace", daemon=True)
    thread.start()
    return thread


def _rounds(cluster_file: str, seconds: float) -> None:
    stop = threading.Event()
    while not stop.wait(seconds):
        run_round(cluster_file)


def run_round(cluster_file: str) -> subprocess.CompletedProcess | None:
    """One `swarm place --min-gain MIN_GAIN`; its report goes to the node's log."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run([sys.executable, "-m", "swarm.cli", "place", "--cluster",
                               cluster_file, "--min-gain", str(MIN_GAIN)],
                              capture_output=True, text=True, env=env, timeout=ROUND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("auto-place: the round failed: %s", e)
        return None
    report = (done.stdout + done.stderr).strip().replace("\n", "; ")
    if done.returncode:
        log.warning("auto-place: swarm place exited %d: %s", done.returncode, report)
    else:
        log.info("auto-place: %s", report)
    return done
