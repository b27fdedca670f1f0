"""`swarm up` / `swarm down` as a user runs them: the real CLI in subprocesses, detached node
processes that outlive the command that started them, stores that outlive the nodes."""

import contextlib
import os
import signal
import stat
import subprocess

import helpers
import pytest
from helpers import ROOT, write

HELLO = os.path.join(ROOT, "examples", "hello.py")


@pytest.fixture
def swarm_cli(tmp_path):
    """Runs `swarm ARGS...` in tmp_path; afterwards SIGKILLs every node a pid file still names
    (the nodes are detached: nothing else would stop them if a test fails midway)."""

    def run(*args: str, check: int | None = 0) -> subprocess.CompletedProcess:
        done = helpers.swarm_cli(*args, cwd=tmp_path)
        if check is not None:
            assert done.returncode == check, done.stdout + done.stderr
        return done

    yield run
    for pid_file in tmp_path.rglob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def node_pids(directory) -> list[int]:
    return [int(p.read_text()) for p in sorted(directory.glob("n*.pid"))]


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an exited node whose new parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


MAKE = """
from swarm import Ref
print(Ref("kept across restarts", at="n2").id)
"""

READ = """
import sys
from swarm import Ref, here
print(Ref._handle(sys.argv[1], "n2").get(), "on", here())
"""


def test_up_run_down_up_keeps_the_refs(swarm_cli, tmp_path):
    d = tmp_path / "cluster"
    out = swarm_cli("up", "--nodes", "3", "--dir", str(d)).stdout
    path = d / "cluster.toml"
    assert str(path) in out and f"swarm run --cluster {path} FILE.py" in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # it holds the secret
    pids = node_pids(d)
    assert len(pids) == 3 and all(map(is_running, pids))

    rows = swarm_cli("status", "--dir", str(d)).stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["n1", "n2", "n3"]

    done = swarm_cli("run", "--cluster", str(path), "--show-node", HELLO)
    assert done.stdout == ("bumble bee read on n1\nhoney bee read on n2\n"
                           "stingless bee read on n3\n")
    assert "ran on n1 -> n2 -> n3" in done.stderr
    ref_id = swarm_cli("run", "--dir", str(d), write(tmp_path, "make.py", MAKE)).stdout.strip()
    # what it suggests names the cluster as the user did (it said --cluster for --dir)
    detached = swarm_cli("run", "--detach", "--dir", str(d), write(tmp_path, "m2.py", MAKE))
    program = detached.stdout.strip()
    assert detached.stderr == f"its output: swarm result {program} --dir {d}\n", detached
    assert swarm_cli("result", program, "--dir", str(d)).stdout.startswith("n2.")

    out = swarm_cli("down", "--dir", str(d)).stdout
    assert "n1: stopped" in out and "kept" in out
    assert not any(map(is_running, pids)) and node_pids(d) == []
    assert path.exists() and (d / "n2" / "store.sqlite").exists()
    assert swarm_cli("status", "--dir", str(d), check=1).stdout.count("down") == 3

    out = swarm_cli("up", "--dir", str(d), "--auto-place", "3600").stdout  # same file:
    assert "n1 runs swarm place every 3600 s" in out  # same secret, endpoints and stores
    assert "auto_place = 3600" in path.read_text()
    done = swarm_cli("run", "--cluster", str(path), write(tmp_path, "read.py", READ), ref_id)
    assert done.stdout == "kept across restarts on n2\n"
    swarm_cli("down", "--dir", str(d))
    assert node_pids(d) == []


def test_up_twice_refuses_and_the_default_dir_is_dot_swarm(swarm_cli, tmp_path):
    swarm_cli("up", "--nodes", "2")
    pids = node_pids(tmp_path / ".swarm")
    assert len(pids) == 2
    done = swarm_cli("up", check=1)
    assert "already running" in done.stderr
    assert node_pids(tmp_path / ".swarm") == pids and all(map(is_running, pids))
    assert "describes 2 nodes" in swarm_cli("up", "--nodes", "3", check=1).stderr

    rows = swarm_cli("status").stdout.splitlines()[1:]  # ./.swarm by default
    assert [r.split()[0] for r in rows] == ["n1", "n2"]
    src = "from swarm import nodes, here\nprint(nodes(), here())\n"
    done = swarm_cli("run", write(tmp_path, "where.py", src))  # on ./.swarm's cluster
    assert done.stdout == "['n1', 'n2'] n1\n"
    assert "n2: stopped" in swarm_cli("down").stdout
    assert not any(map(is_running, pids))


def test_a_dead_node_is_restarted_alone(swarm_cli, tmp_path):
    d = tmp_path / "c"
    swarm_cli("up", "--dir", str(d))
    n1, n2, n3 = node_pids(d)
    os.kill(n2, signal.SIGKILL)
    out = swarm_cli("up", "--dir", str(d)).stdout
    assert "n2: running" in out and "n1, n3: already running" in out
    assert node_pids(d)[0] == n1 and node_pids(d)[2] == n3 and node_pids(d)[1] != n2
    swarm_cli("down", "--dir", str(d))


def test_down_on_nothing_is_fine(swarm_cli, tmp_path):
    done = swarm_cli("down", "--dir", str(tmp_path / "none"))
    assert "nothing to stop" in done.stdout
    assert "nothing to stop" in swarm_cli("down").stdout  # no ./.swarm either


def test_a_pid_file_naming_a_node_of_another_cluster_is_not_that_node(tmp_path):
    """`swarm down` (and a failover's stop) kill what a pid file names only if it is that node
    of this cluster file: a process with the same node name started with another directory's
    cluster file is left alone (localcluster.node_pid)."""
    import sys

    from swarm.localcluster import node_pid, pid_file
    from swarm.node.config import local_config

    mine, other = tmp_path / "mine", tmp_path / "other"
    configs = {}
    for d in (mine, other):
        d.mkdir()
        configs[d] = local_config(3, str(d))
        configs[d].save(str(d / "cluster.toml"))
        configs[d].path = str(d / "cluster.toml")
    sleeper = "import time; time.sleep(60)"
    procs = {}
    try:
        for d, where in ((mine, "mine"), (other, "other")):  # (the same command line as a
            procs[where] = subprocess.Popen(  # node's; relative --config, as `swarm up` runs)
                [sys.executable, "-c", sleeper, "swarm.node_main", "--config", "cluster.toml",
                 "--name", "n1"], cwd=d)
        with open(pid_file(configs[mine], "n1"), "w") as f:
            f.write(str(procs["other"].pid))
        assert node_pid(configs[mine], "n1") is None  # another cluster's n1
        with open(pid_file(configs[mine], "n1"), "w") as f:
            f.write(str(procs["mine"].pid))
        assert node_pid(configs[mine], "n1") == procs["mine"].pid
        assert node_pid(configs[mine], "n2") is None  # (no pid file)
        with open(pid_file(configs[mine], "n2"), "w") as f:
            f.write(str(procs["mine"].pid))
        assert node_pid(configs[mine], "n2") is None  # n1's process is not n2
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
