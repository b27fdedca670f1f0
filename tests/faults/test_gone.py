"""A node that stays down, and a client that disappears.

- Programs that need a node that does not come back fail, after the cluster's hop timeout,
  with an error naming that node; the programs that do not need it finish.
- A client SIGKILLed while its program runs: the program finishes, and what it printed and
  returned is kept, so another client (`swarm result ID`) gets all of it.
"""

import os
import signal
import subprocess
import sys

from helpers import ROOT, run_at_once, swarm_cli, write

import swarm

SETUP = """
from swarm import Ref
RESULT = {n: [Ref(100, at=n).id, n] for n in ("n1", "n2", "n3")}
"""

MOVE = """
import sys
from swarm.refs import Ref
a, b = Ref._handle(sys.argv[1], sys.argv[2]), Ref._handle(sys.argv[3], sys.argv[4])
a.set(a.get() - 1)
b.set(b.get() + 1)
RESULT = "moved"
"""


def test_programs_needing_a_node_that_stays_down_fail_clearly_and_the_rest_finish(tmp_path):
    with swarm.local_cluster(3, hop_timeout=3.0) as cluster:
        refs = cluster.run_file(write(tmp_path, "setup.py", SETUP), timeout=60).value
        cluster.kill("n3")  # for good
        pairs = [("n1", "n2"), ("n2", "n1"), ("n1", "n3"), ("n3", "n2"), ("n2", "n3")] * 2
        path = write(tmp_path, "move.py", MOVE)
        outcomes = run_at_once(cluster, [(path, [*refs[a], *refs[b]]) for a, b in pairs],
                               timeout=60)
        for i, (a, b) in enumerate(pairs):
            out = outcomes[i]
            if "n3" in (a, b):
                assert out.error is not None and out.error.startswith("HopTimeout"), out.error
                assert "node n3 did not accept the program within 3 s" in out.error
            else:
                assert out.error is None and out.value == "moved", out.traceback


READ_N3 = """
import sys
from swarm.refs import Ref
RESULT = Ref._handle(sys.argv[1], "n3").get()
"""


def test_a_fetch_from_a_node_that_stays_down_fails_after_the_timeout(tmp_path):
    """Under the fetch policy the program asks n3 for the value: with n3 gone for good, the
    question times out like a hop (it used to wait for ever)."""
    with swarm.local_cluster(3, hop_timeout=2.0) as cluster:
        refs = cluster.run_file(write(tmp_path, "setup.py", SETUP), timeout=60).value
        path = write(tmp_path, "read.py", READ_N3)
        out = cluster.run_file(path, argv=[refs["n3"][0]], policy="fetch", timeout=60)
        assert out.error is None and out.value == 100
        cluster.kill("n3")
        out = cluster.run_file(path, argv=[refs["n3"][0]], policy="fetch", timeout=60)
        assert out.error is not None and out.error.startswith("TimeoutError: node n3 did "
                                                              "not answer"), out.error
        assert "within 2 s" in out.error


DETACHED = """
from swarm import move_to, here
import time
for i in range(8):
    move_to(("n2", "n3")[i % 2])
    print("step", i, "on", here())
    t = time.time()
    while time.time() - t < 0.2:   # long enough for its client to be gone
        pass
RESULT = {"steps": 8}
"""

CLIENT = """
import sys, time
from swarm.client import connect
c = connect(sys.argv[1])
program = c.submit(sys.argv[2])
c.confirm(program)   # written on n1
print(program, flush=True)
time.sleep(600)   # killed meanwhile
"""


def test_a_client_that_disappears_gets_its_output_later(tmp_path):
    with swarm.local_cluster(3) as cluster:
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, cluster.config.path,
             write(tmp_path, "detached.py", DETACHED)],
            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
        program = client.stdout.readline().strip()  # written on n1 once this is printed
        os.kill(client.pid, signal.SIGKILL)
        client.wait()
        client.stdout.close()

        out = cluster.wait(program, timeout=60)  # another client, which never submitted it
        assert out.error is None and out.value == {"steps": 8}
        assert out.stdout == "".join(f"step {i} on {('n2', 'n3')[i % 2]}\n" for i in range(8))

        done = swarm_cli("result", program, "--cluster", cluster.config.path)
        assert done.returncode == 0, done.stderr
        assert done.stdout == out.stdout  # kept, so anyone may ask again

