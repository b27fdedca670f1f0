"""A node that stays down, and a client that disappears.

- Programs that need a node that does not come back wait for it (their clients are told),
  and the programs that do not need it finish; once the operator declares it gone, those
  that were waiting end with NodeGone, naming it. So do reads asked of it (the fetch
  policy); a write asked of it fails after hop_timeout, saying it may have been done.
- A client SIGKILLed while its program runs: the program finishes, and what it printed and
  returned is kept, so another client (`swarm result ID`) gets all of it.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT, swarm_cli, write

import swarm
import swarm.client

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


def test_programs_needing_a_node_that_stays_down_wait_until_it_is_declared_gone(tmp_path):
    with swarm.local_cluster(3, hop_timeout=2.0) as cluster:
        refs = cluster.run_file(write(tmp_path, "setup.py", SETUP), timeout=60).value
        cluster.kill("n3")  # for good
        pairs = [("n1", "n2"), ("n2", "n1"), ("n1", "n3"), ("n3", "n2"), ("n2", "n3")] * 2
        path = write(tmp_path, "move.py", MOVE)
        ids = [cluster.submit(path, [*refs[a], *refs[b]], node=a if a != "n3" else "n1")
               for a, b in pairs]
        done = {}
        deadline = time.monotonic() + 60
        while len(done) < 4 and time.monotonic() < deadline:  # the four without n3
            try:
                done.update(cluster.results([p for p in ids if p not in done], timeout=1))
            except swarm.client.ClusterTimeout:
                done.update({p: cluster._runs.pop(p).outcome() for p in ids
                             if p in cluster._runs and cluster._runs[p].done})
        for i, (a, b) in enumerate(pairs):
            if "n3" not in (a, b):
                assert done[ids[i]].error is None and done[ids[i]].value == "moved"
            else:
                assert ids[i] not in done  # waiting for n3, not failed
        waiting = [ids[i] for i, (a, b) in enumerate(pairs) if "n3" in (a, b)]

        def told_they_wait() -> bool:  # after hop_timeout
            cluster._absorb_incoming(0.2)
            return all(cluster._runs[p].waiting and cluster._runs[p].waiting[0] == "n3"
                       for p in waiting)

        deadline = time.monotonic() + 30
        while not told_they_wait():
            assert time.monotonic() < deadline, {p: cluster._runs[p].waiting for p in waiting}
        cluster.fence("n3")
        ended = cluster.results(waiting, timeout=60)
        for p in waiting:
            assert ended[p].error.startswith(f"NodeGone: {p} was last on a node declared "
                                             f"gone (n3)"), ended[p].error


READ_N3 = """
import sys
from swarm.refs import Ref
RESULT = Ref._handle(sys.argv[1], "n3").get()
"""

WRITE_N3 = """
import sys
from swarm.refs import Ref
Ref._handle(sys.argv[1], "n3").set(7)
"""


def test_a_fetch_from_a_node_that_stays_down_waits_until_it_is_declared_gone(tmp_path):
    """Under the fetch policy the program asks n3. A read - and a write, which carries an id
    that n3 would answer once (machine/answers.py) - is asked again until n3 answers, for as
    long as it takes (like a hop), and ends with NodeGone once n3 is declared gone."""
    with swarm.local_cluster(3, hop_timeout=2.0) as cluster:
        refs = cluster.run_file(write(tmp_path, "setup.py", SETUP), timeout=60).value
        path = write(tmp_path, "read.py", READ_N3)
        out = cluster.run_file(path, argv=[refs["n3"][0]], policy="fetch", timeout=60)
        assert out.error is None and out.value == 100
        cluster.kill("n3")
        writer = cluster.submit(write(tmp_path, "write.py", WRITE_N3), argv=[refs["n3"][0]],
                                policy="fetch")
        reader = cluster.submit(path, argv=[refs["n3"][0]], policy="fetch")
        with pytest.raises(swarm.client.ClusterTimeout):
            cluster.results([reader, writer], timeout=3 * 2.0)  # longer than hop_timeout
        cluster.fence("n3")
        ended = cluster.results([reader, writer], timeout=60)
        assert ended[reader].error.startswith("NodeGone: node n3 was declared gone: get"), \
            ended[reader].error
        assert ended[writer].error.startswith("NodeGone: node n3 was declared gone: set"), \
            ended[writer].error


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

