"""Local clusters that outlive the command that started them: `swarm up` and `swarm down`.

    swarm up --nodes 3 --dir .swarm    # writes .swarm/cluster.toml, starts n1..n3 detached
    swarm down --dir .swarm            # stops them; the cluster file and the stores stay

A directory holds one cluster: `cluster.toml` (0600, it holds the secret) and, per node, its
store (`n1/`), its log (`n1.log`) and, while it runs, its pid (`n1.pid`). `up` on a directory
whose nodes are down starts them again from the same file - same secret, same endpoints, same
stores, so the Refs created before are still there. Nodes that are already running are left
alone; if all of them are, `up` refuses.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from swarm.client import Cluster
from swarm.embedded import start_nodes
from swarm.node.config import ClusterConfig, local_config

CLUSTER_FILE = "cluster.toml"
DEFAULT_DIR = ".swarm"
STOP_SECONDS = 10.0  # how long `down` waits for a node to exit before SIGKILL


class UpError(Exception):
    """`swarm up` refused or failed; the message says why and what to do."""


def cluster_file(directory: str) -> str:
    return os.path.join(directory, CLUSTER_FILE)


def up(directory: str, n: int | None = None, timeout: float = 30.0,
       auto_place: float | None = None, auto_gc: float | None = None,
       curve: bool = False) -> tuple[ClusterConfig, list[str]]:
    """Start the cluster of `directory` (creating it with n nodes, default 3, if it has no
    cluster file; `curve`: with CURVE keys); return its config and the nodes started.
    Returns once they all answer. `auto_place`, `auto_gc`: write that period into the cluster
    file (0 turns it off)."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:  # (a file of that name, no permission)
        raise UpError(f"cannot use {directory} as the cluster's directory: "
                      + ("it is a file" if os.path.isfile(directory) else e.strerror)) from None
    path = os.path.abspath(cluster_file(directory))
    if os.path.exists(path):
        config = ClusterConfig.load(path)
        if n is not None and n != len(config.nodes):
            raise UpError(f"{path} describes {len(config.nodes)} nodes, not {n}: leave out "
                          f"--nodes to start it, or use another --dir for a new cluster")
        if curve and not config.curve:
            raise UpError(f"{path} has no CURVE keys: `swarm keys --dir {directory}` adds them")
        running = running_nodes(config)
        live = [name for name in config.names if name not in config.fenced and name not in
                config.heirs]  # (not those declared gone or removed: they refuse to start)
        if running >= set(live):
            raise UpError(f"a cluster is already running in {directory} "
                          f"({', '.join(live)}); `swarm down --dir {directory}` "
                          f"stops it")
        names = [name for name in live if name not in running]
    else:
        config = local_config(n or 3, directory, curve_keys=curve)
        names = config.names
    if auto_place is not None:
        config.auto_place = auto_place
    if auto_gc is not None:
        config.auto_gc = auto_gc
    if auto_place is not None or auto_gc is not None or not os.path.exists(path):
        config.save(path)
    procs = start_nodes(config, names, detached=True)
    for name, proc in procs.items():
        with open(pid_file(config, name), "w") as f:
            f.write(f"{proc.pid}\n")
    try:
        _wait_started(config, procs, timeout)
    except BaseException:
        for name, proc in procs.items():  # leave nothing half-started behind
            proc.kill()
            proc.wait()
            _remove_pid_file(config, name)
        raise
    return config, names


def down(path: str, wait: float = STOP_SECONDS) -> list[str]:
    """Stop every node of the cluster file: a `stop` message to each node that answers, then
    SIGKILL for a node started here (pid file) that has not exited after `wait` seconds.
    Keeps the cluster file and the stores. Returns one line per node saying what happened."""
    if not os.path.exists(path):
        return [f"no cluster file at {path}: nothing to stop"]
    config = ClusterConfig.load(path)
    pids = {name: pid for name in config.names if (pid := node_pid(config, name))}
    cluster = Cluster(config)
    try:
        answering = cluster.ping(timeout=1.0)
        for name in answering:
            cluster.send(name, "stop", {})
        elsewhere = answering - set(pids)  # started by hand (swarm-node): no pid file here
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if elsewhere:
                elsewhere &= cluster.ping(elsewhere, timeout=0.3)
            else:
                time.sleep(0.1)
            if not elsewhere and not any(node_pid(config, name) for name in pids):
                break
    finally:
        cluster.close()
    report = []
    for name in config.names:
        if name in config.fenced and name not in pids:
            continue  # (declared gone, or removed)
        if name in pids and node_pid(config, name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids[name], signal.SIGKILL)
            report.append(f"{name}: did not stop within {wait:g} s: killed (pid {pids[name]})")
        elif name in pids:
            report.append(f"{name}: stopped (pid {pids[name]})")
        elif name in elsewhere:
            report.append(f"{name}: still running after {wait:g} s (it was not started from "
                          f"this directory: stop it where it runs)")
        elif name in answering:
            report.append(f"{name}: stopped")
        else:
            report.append(f"{name}: was not running")
        _remove_pid_file(config, name)
    return report


def running_nodes(config: ClusterConfig) -> set[str]:
    """Nodes that answer a ping, or whose pid file names a live node process (a node busy
    running a program may be slow to answer, but it still holds its port)."""
    alive = {name for name in config.names if node_pid(config, name)}
    cluster = Cluster(config)
    try:
        return alive | cluster.ping(timeout=1.0)
    finally:
        cluster.close()


def node_pid(config: ClusterConfig, name: str) -> int | None:
    """The pid in the node's pid file, if that process is alive and is that node.

    Discussion: a pid file can outlive its process (a reboot, a SIGKILL), and the pid may
    since belong to an unrelated process, which `down` must never kill. So where /proc exists
    the process's command line must be `swarm.node_main --config <this cluster file> --name
    <name>` (or swarm-node): a node of the same name in another cluster's directory is not
    this one. That also tells a zombie (empty command line: exited, not reaped by its new
    parent) from a node.
    """
    try:
        with open(pid_file(config, name)) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return None
    with contextlib.suppress(ChildProcessError):  # our own child: reap it if it exited
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's: the command line check decides
    if not os.path.isdir("/proc"):
        return pid  # no /proc (macOS): trust the pid file
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    node = b"swarm.node_main" in argv or any(a.endswith(b"swarm-node") for a in argv)
    named = _arg(argv, b"--name")
    same = (name.encode() in argv if named is None else named == name.encode()) and \
        _same_config(pid, argv, config)
    return pid if node and same else None


def _arg(argv: list[bytes], flag: bytes) -> bytes | None:
    """The value after `flag` in a command line (`--flag value` or `--flag=value`)."""
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + b"="):
            return a[len(flag) + 1:]
    return None


def _same_config(pid: int, argv: list[bytes], config: ClusterConfig) -> bool:
    """Whether the node process `pid` was started with this cluster file (a node of the same
    name in another cluster's directory is another node). Its `--config` is read relative to
    that process's own directory; if that cannot be read (or the flag was abbreviated), the
    name decides alone."""
    path = _arg(argv, b"--config")
    if path is None:
        return True
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return True
    theirs = os.path.realpath(os.path.join(cwd, os.fsdecode(path)))
    return theirs == os.path.realpath(config.path)


def pid_file(config: ClusterConfig, name: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(config.path)), f"{name}.pid")


def kill(config: ClusterConfig, name: str, pid: int) -> None:
    """SIGKILL a node started from this directory (its pid file named it)."""
    if node_pid(config, name) == pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def forget_pid(config: ClusterConfig, name: str) -> None:
    """A node that is no more (removed): its pid file goes."""
    _remove_pid_file(config, name)


def _remove_pid_file(config: ClusterConfig, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(pid_file(config, name))


def _wait_started(config: ClusterConfig, procs: dict, timeout: float) -> None:
    """Until every started node answers; a node that exits meanwhile fails at once."""
    cluster = Cluster(config)
    try:
        pending = set(procs)
        deadline = time.monotonic() + timeout
        while pending:
            pending -= cluster.ping(pending)
            for name in sorted(pending):
                if procs[name].poll() is not None:
                    raise UpError(f"node {name} exited at start (code {procs[name].returncode})"
                                  f":\n{tail(config, name)}")
            if pending and time.monotonic() > deadline:
                raise UpError(f"nodes {sorted(pending)} did not answer within {timeout:g} s; "
                              f"see their logs in {os.path.dirname(config.path)}")
    finally:
        cluster.close()


def tail(config: ClusterConfig, name: str, lines: int = 10) -> str:
    log = os.path.join(os.path.dirname(config.path), f"{name}.log")
    with open(log, errors="replace") as f:
        return "".join(f.readlines()[-lines:]) + f"(from {log})"
