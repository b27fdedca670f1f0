"""The commands a node runs on its own, each as a child process: placement every few seconds
(`swarm-node --auto-place SECONDS`, or `auto_place = SECONDS` in the cluster file, which the
first node of the file acts on); garbage collection the same way (`auto_gc = SECONDS`:
`swarm gc`); and the removal of a node it takes over (`failover`: `take_over`).

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
import shlex
import subprocess
import sys
import threading

log = logging.getLogger("swarm.autoplace")

MIN_GAIN = 0.05  # a round moves Refs only if it saves this share of the hops recorded
ROUND_TIMEOUT = 3600.0  # (a collection waits twice the replay window: 601 s by default)


COMMANDS = {"place": ["place", "--min-gain", str(MIN_GAIN)], "gc": ["gc"]}


def start(cluster_file: str, seconds: float, what: str = "place") -> threading.Thread:
    """Start the rounds of `swarm place` (or `swarm gc`: what="gc") in a daemon thread
    (which only waits on child processes)."""
    if seconds <= 0:
        raise ValueError(f"--auto-{what} needs a positive number of seconds, not {seconds:g}")
    thread = threading.Thread(target=_rounds, args=(cluster_file, seconds, what),
                              name=f"swarm-auto{what}", daemon=True)
    thread.start()
    return thread


def _rounds(cluster_file: str, seconds: float, what: str) -> None:
    stop = threading.Event()
    while not stop.wait(seconds):
        run_round(cluster_file, what)


def _swarm(*args: str) -> list[str]:
    """The `swarm` command line, run by this interpreter."""
    return [sys.executable, "-m", "swarm.cli", *args]


def _env() -> dict:
    """The environment of a command a node runs: its own swarm package first on the path."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_round(cluster_file: str, what: str = "place") -> subprocess.CompletedProcess | None:
    """One `swarm place --min-gain MIN_GAIN` (or `swarm gc`); its report goes to the node's
    log. (A collection's round lasts its wait too: twice the replay window.)"""
    try:
        done = subprocess.run(_swarm(*COMMANDS[what][:1], "--cluster", cluster_file,
                                     *COMMANDS[what][1:]),
                              capture_output=True, text=True, env=_env(), timeout=ROUND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("auto-%s: the round failed: %s", what, e)
        return None
    report = (done.stdout + done.stderr).strip().replace("\n", "; ")
    if done.returncode:
        log.warning("auto-%s: swarm %s exited %d: %s", what, what, done.returncode, report)
    else:
        log.info("auto-%s: %s", what, report)
    return done


def take_over(cluster_file: str, node: str, heir: str, directory: str) -> None:
    """`swarm node remove NODE --failover` in a process of its own, detached (machine/
    failover.py: this node is the heir; it restarts during the command, which goes on),
    its output in `<directory>/failover-NODE.log`."""
    env = _env()
    env.pop("SWARM_PARENT_PID", None)  # (a node of a local cluster must not stop it)
    logfile = os.path.join(directory, f"failover-{node}.log")
    command = " ".join(shlex.quote(a) for a in _swarm(
        "node", "remove", node, "--failover", heir, "--cluster", cluster_file))
    try:  # (through sh: the command is nobody's child once sh is gone - no zombie)
        subprocess.run(["sh", "-c", f"{command} >>{shlex.quote(logfile)} 2>&1 &"],
                       env=env, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        log.error("failover of %s: the command did not start: %s", node, e)
