"""Node processes a program starts on this machine: `start_nodes` (as `swarm up` and `swarm
node add` start them, detached or as children) and `LocalCluster` / `local_cluster()`, a
cluster in a directory of its own that stops with the program (`swarm.local_cluster`,
`make demo`, the tests).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile

from swarm import tempdirs
from swarm.client import Cluster
from swarm.node.config import ClusterConfig, local_config


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_nodes(config: ClusterConfig, names=None, detached: bool = False,
                args: tuple = ()) -> dict[str, subprocess.Popen]:
    """Start node processes (default: all), each appending its output to <name>.log beside
    the cluster file. `detached`: in a session of their own, so they outlive the caller and
    its terminal (swarm up); else they stop within a second or so of the caller's end,
    even if it was killed (SIGKILL leaves no time to stop them)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _root() + os.pathsep + env.get("PYTHONPATH", "")
    if config.hash_seed is not None:  # one str hash seed for the cluster (process.py)
        env["PYTHONHASHSEED"] = str(config.hash_seed)
    env.pop("SWARM_PARENT_PID", None)
    if not detached:  # they stop once this process is gone (shell.py), however it ended
        env["SWARM_PARENT_PID"] = str(os.getpid())
    procs = {}
    for name in names or config.names:
        with open(os.path.join(os.path.dirname(config.path), f"{name}.log"), "ab") as log:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "swarm.node_main", "--config", config.path, "--name",
                 name, *args], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=detached)
    return procs


class LocalCluster(Cluster):
    """n node processes on loopback in a directory of their own, stopped on exit; a temporary
    one unless `directory` is given, removed then (or by the next temporary cluster, if this
    process was killed: swarm/tempdirs.py). `curve`: with CURVE keys (every link encrypted
    and authenticated, as between machines)."""

    def __init__(self, n: int = 3, directory: str | None = None, curve: bool = False,
                 **settings) -> None:
        self._tmp = None
        if directory is None:  # (with a marker: a later one removes it if we are SIGKILLed)
            tempdirs.remove_leftovers()
            self._tmp = tempfile.TemporaryDirectory(prefix=tempdirs.PREFIX)
            tempdirs.mark(self._tmp.name, [])
        self.directory = directory or self._tmp.name
        os.makedirs(self.directory, exist_ok=True)
        config = local_config(n, self.directory, curve_keys=curve)
        for key, value in settings.items():  # max_message_bytes, hop_timeout, replay_window
            setattr(config, key, value)
        config.save(os.path.join(self.directory, "cluster.toml"))
        self.procs = start_nodes(config)
        self._mark()
        super().__init__(config)
        try:
            self.wait_ready()
        except BaseException:
            self.shutdown()
            raise

    def kill(self, name: str) -> None:
        """SIGKILL one node (fault injection)."""
        self.procs[name].kill()
        self.procs[name].wait()

    def restart(self, name: str) -> None:
        self.procs.update(start_nodes(self.config, [name]))
        self._mark()

    def _mark(self) -> None:
        if self._tmp is not None:
            tempdirs.mark(self.directory, [p.pid for p in self.procs.values()])

    def shutdown(self) -> None:
        """Stop the nodes (waiting for them to exit), then remove the temporary directory."""
        with contextlib.suppress(Exception):
            self._stop_nodes()
        for p in self.procs.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def local_cluster(n: int = 3, directory: str | None = None, curve: bool = False,
                  **settings) -> LocalCluster:
    return LocalCluster(n, directory, curve, **settings)
