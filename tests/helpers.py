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


def captured(path: str):
    """The continuation of the script at `path` at its first suspension, captured in this
    process (compiled as the driver compiles it; the capture policy is reset after)."""
    from swarm.compiler.hook import user_modules
    from swarm.continuation.capture import Capture
    from swarm.continuation.primitives import set_policy
    from swarm.driver import _always, _start

    set_policy(_always)
    try:
        with user_modules([os.path.dirname(path)]):
            _, run = _start(path)
            try:
                run()
            except Capture as c:
                return c.continuation()
        raise AssertionError(f"{path} finished without suspending")
    finally:
        set_policy(None)


def swarm_cli(*args: str, cwd=None, input: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """`swarm ARGS...` as a user runs it: a process of its own, this checkout on its path."""
    return subprocess.run([sys.executable, "-m", "swarm.cli", *args], cwd=cwd, input=input,
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                          text=True, timeout=timeout)


def run_at_once(cluster, runs: list, timeout: float = 180.0) -> list:
    """Run programs at the same moment, each from a client of its own (sockets are per
    thread): `runs` is [(path, argv)]; their outcomes in that order (an exception where a
    client failed)."""
    from swarm.client import Cluster

    outcomes: list = [None] * len(runs)
    start = threading.Barrier(len(runs))

    def client(i: int, path: str, argv: list) -> None:
        c = Cluster(cluster.config)
        try:
            start.wait()
            outcomes[i] = c.run_file(path, argv=argv, timeout=timeout)
        except Exception as e:  # the caller sees it among the outcomes
            outcomes[i] = e
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i, path, argv))
               for i, (path, argv) in enumerate(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def failures(outcomes: list) -> list[str]:
    """What went wrong in run_at_once's outcomes: errors, tracebacks, client exceptions."""
    return [repr(o) if isinstance(o, Exception) else o.traceback or o.error
            for o in outcomes if isinstance(o, Exception) or o.error]


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


class UnpickleProof:
    """Unpickling this runs a shell command that appends a line to `path`: the number of
    lines is the number of times a payload carrying it was unpickled."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"echo unpickled >> '{self.path}'",))


def times_unpickled(path) -> int:
    try:
        with open(path) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def node_log(cluster, name: str) -> str:
    with open(os.path.join(os.path.dirname(cluster.config.path), f"{name}.log")) as f:
        return f.read()


def stop_cluster(client, procs: dict) -> None:
    """Stop the nodes of a test's cluster (started with start_nodes) and wait for them, killing
    any that does not stop within 20 s."""
    import subprocess

    client.shutdown()
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def fill(path) -> None:
    """Write zeros to `path` until its disk is full (a small tmpfs: tests of full disks)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
