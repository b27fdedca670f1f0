"""`swarm logs`, `swarm ps`, `swarm cancel` and Ctrl-C of `swarm run`, run as a user runs them.

`cancel` needs the nodes' answer (`cancelled`: docs/programs.md); until they give it, the
test checks what the client does: it asks them, and says in one line, within its timeout,
that no node answered.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT, swarm_cli, wait_for, write

from swarm.embedded import local_cluster


@pytest.fixture
def cluster(tmp_path):
    with local_cluster(2, directory=str(tmp_path / "c")) as c:
        yield c


def swarm_process(*args: str, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "swarm.cli", *args], cwd=cwd,
                            env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_logs_of_one_node_all_nodes_and_the_last_lines(cluster):
    path = cluster.config.path
    for name in ("n1", "n2"):
        with open(os.path.join(os.path.dirname(path), f"{name}.log"), "a") as f:
            f.write(f"first line of {name}\nlast line of {name}\n")
    one = swarm_cli("logs", "n2", "--cluster", path)
    assert one.returncode == 0 and one.stdout.endswith("first line of n2\nlast line of n2\n")
    assert "n1" not in one.stdout
    last = swarm_cli("logs", "-n", "1", "--cluster", path)
    log_dir = os.path.dirname(path)
    assert last.stdout == (f"==> {log_dir}/n1.log <==\nlast line of n1\n\n"
                           f"==> {log_dir}/n2.log <==\nlast line of n2\n")
    unknown = swarm_cli("logs", "n9", "--cluster", path)
    assert unknown.returncode == 1
    assert unknown.stderr == f"swarm logs: no node 'n9' in {path} (its nodes: n1, n2)\n"


def test_logs_follow_shows_what_a_node_logs_next(cluster):
    follower = swarm_process("logs", "n1", "-f", "--cluster", cluster.config.path)
    try:
        time.sleep(0.5)  # it has printed the log so far; what n1 logs next must follow
        # a submission that names no source it sent: n1 refuses it, and logs why
        cluster.send("n1", "submit", {"program": "p", "sources": {}, "entry": "nowhere",
                                      "modules": {}})
        lines: list[str] = []
        assert wait_for(lambda: lines.append(follower.stdout.readline()) or
                        "'nowhere' is not among the sources" in lines[-1], timeout=20), lines
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=20) == 0


PARKED = """\
import time
from swarm import spawn

def slow():
    time.sleep(8)
    return 1

print(spawn(slow).get())
"""


def test_ps_lists_the_programs_on_the_cluster(cluster, tmp_path):
    path = cluster.config.path
    done = swarm_cli("ps", "--cluster", path, timeout=60)
    assert done.returncode == 0 and done.stdout.split() == ["PROGRAM", "NODE", "AGE", "STATE"]
    program = cluster.submit(write(tmp_path, "parked.py", PARKED))
    assert wait_for(lambda: program in swarm_cli("ps", "--cluster", path, timeout=60).stdout,
                    timeout=30)
    rows = [line.split() for line in swarm_cli("ps", "--cluster", path).stdout.splitlines()]
    mine = [row for row in rows if row[0].startswith(program)]
    assert any(row[0] == program and row[1] in ("n1", "n2") for row in mine), rows
    assert cluster.results([program], timeout=60)[program].stdout == "1\n"


def test_cancel_of_a_program_no_node_knows_says_so(cluster):
    path = cluster.config.path
    done = swarm_cli("cancel", "c1-0123abcd-1", "--cluster", path, "--timeout", "5",
                     timeout=60)
    assert done.returncode == 1
    assert "no node of the cluster knows program c1-0123abcd-1" in done.stderr
    done = swarm_cli("cancel", "nonsense", "--cluster", path, timeout=60)
    assert done.returncode == 1 and "'nonsense' is not a program id" in done.stderr


LOOP = """\
import sys
import time

open(sys.argv[1], "w").close()   # started: the test may interrupt now
for _ in range(50):              # 5 s
    time.sleep(0.1)
print("not interrupted")
"""


def test_ctrl_c_on_a_running_cluster_asks_it_to_cancel_and_exits_130(cluster, tmp_path):
    started = tmp_path / "started"
    script = write(tmp_path, "loop.py", LOOP)
    run = swarm_process("run", "--cluster", cluster.config.path, script, str(started))
    try:
        assert wait_for(started.exists, timeout=30)
        run.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    # it was stopped where it ran (in time.sleep): it did not print, and its end is shown
    # as python shows a script's on Ctrl-C (the traceback naming where it was)
    assert (run.returncode, out) == (130, "")
    assert err.startswith("Traceback (most recent call last):\n") and err.endswith(
        "KeyboardInterrupt: cancelled\n(raised on n1)\n"), err
    assert "time.sleep(0.1)" in err


def test_ctrl_c_with_temporary_nodes_stops_them_and_exits_130(tmp_path):
    started = tmp_path / "started"
    script = write(tmp_path, "loop.py", LOOP)
    run = swarm_process("run", "--nodes", "1", script, str(started))
    try:
        assert wait_for(started.exists, timeout=30)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130
    assert err.startswith("\nKeyboardInterrupt: program c") and "stopped with its temporary " \
                                                                  "nodes" in err


def test_a_detached_program_ends_with_its_own_status_in_swarm_result(cluster, tmp_path):
    script = write(tmp_path, "leave.py", "import sys\nprint('leaving')\nsys.exit(3)\n")
    detached = swarm_cli("run", "--detach", "--cluster", cluster.config.path, script)
    assert detached.returncode == 0, detached.stderr
    program = detached.stdout.strip()
    done = swarm_cli("result", program, "--cluster", cluster.config.path, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "leaving\n", "")
