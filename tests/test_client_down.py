"""A client with a node of its cluster down: submitting never blocks (a submission waits to be
accepted and starts when the node comes back, or a timeout says it was not accepted), and
`swarm ps` / `swarm cancel` / `swarm run` go on with the live nodes, naming the node that
did not answer. Real node processes, one of them SIGKILLed."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from helpers import ROOT, swarm_cli, write

from swarm.client import ClusterTimeout
from swarm.embedded import local_cluster


@pytest.fixture
def cluster(tmp_path):
    with local_cluster(2, directory=str(tmp_path / "c")) as c:
        yield c


FLOOD = textwrap.dedent("""\
    import sys
    from swarm.client import Cluster
    from swarm.node.config import ClusterConfig

    cluster = Cluster(ClusterConfig.load(sys.argv[1]))
    for _ in range(1100):   # more than ZeroMQ queues for a node (1,000): a send would block
        cluster.submit(sys.argv[2], node="n2")
    rows, silent = cluster.programs(timeout=1)
    print("submitted", silent)
    cluster.close()
""")


def test_submitting_to_a_node_that_is_down_never_blocks_and_starts_when_it_is_back(
        cluster, tmp_path):
    script = write(tmp_path, "p.py", "print('ran')\n")
    cluster.kill("n2")
    flood = subprocess.run([sys.executable, "-c", FLOOD, cluster.config.path, script],
                           env={"PYTHONPATH": ROOT}, capture_output=True, text=True,
                           timeout=120)  # (it was stuck for ever in a send)
    assert (flood.returncode, flood.stdout) == (0, "submitted ['n2']\n"), flood.stderr
    program = cluster.submit(script, node="n2")
    with pytest.raises(ClusterTimeout) as e:
        cluster.results([program], timeout=1)
    assert str(e.value).startswith(f"n2 has not accepted program {program} in 1 s (n2 down, "
                                   f"or unreachable from here?): it is not known to have "
                                   f"started")
    cluster.restart("n2")  # the submission, sent again, is accepted, and the program runs
    outcome = cluster.results([program], timeout=60)[program]
    assert (outcome.stdout, outcome.error, outcome.route) == ("ran\n", None, ["n2"])


PARKED = """\
import time
print('started', flush=True)
time.sleep(60)
"""


def test_ps_and_cancel_with_a_node_down_show_the_live_nodes_and_name_it(cluster, tmp_path):
    path = cluster.config.path
    program = cluster.submit(write(tmp_path, "slow.py", PARKED), node="n1")
    cluster.confirm(program)
    cluster.kill("n2")
    done = swarm_cli("ps", "--cluster", path, "--timeout", "1", timeout=60)
    assert done.returncode == 1 and done.stdout.splitlines()[1].split()[:2] == [program, "n1"]
    assert done.stderr == ("swarm ps: n2 did not answer within 1 s (down, or unreachable from "
                           "here): its programs are not listed\n")
    done = swarm_cli("cancel", program, "--cluster", path, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"{program}: cancelled\n"), done.stderr
    assert done.stderr == ("swarm cancel: n2 did not answer (down, or unreachable from here): "
                           "it has not recorded the cancel\n")
    outcome = cluster.results([program], timeout=30)[program]
    assert outcome.error == "KeyboardInterrupt: cancelled"
    done = swarm_cli("run", "--cluster", path, write(tmp_path, "p.py", "print('hi')\n"))
    assert (done.returncode, done.stdout) == (0, "hi\n"), done.stderr  # (it needs n1 only)
    assert done.stderr == ("swarm run: n2 did not answer within 1 s (down, or unreachable "
                           "from here): if the program needs it, it waits for it\n")
    cluster.kill("n1")  # no node answers: one line, as before
    done = swarm_cli("ps", "--cluster", path, "--timeout", "1", timeout=60)
    assert done.returncode == 1 and done.stderr == (
        f"swarm ps: the cluster of {path} is not running: no node answered within 1 s (nodes "
        f"n1, n2) (`swarm up --dir {tmp_path / 'c'}` starts it)\n")


def test_sources_go_as_hashes_once_kept_and_again_to_a_node_that_lost_them(cluster, tmp_path):
    """Once a node has accepted a submission, the same client names its sources by hash; a node
    that lost its store (a new node of that name) answers `sources?` and gets their text."""
    write(tmp_path, "helper.py", "def shout(s):\n    return s.upper() + '!'\n")
    script = write(tmp_path, "p.py", "import helper\nprint(helper.shout('ran'))\n")
    first = cluster.run_file(script, node="n2", timeout=60)
    assert (first.stdout, first.error) == ("RAN!\n", None)
    program = cluster.submit(script, node="n2")  # both sources named as kept, none sent
    sent = cluster.kept.submission_for("n2", cluster._runs[program].submission)
    assert sent["sources"] == {} and len(sent["kept"]) == 2
    assert cluster.results([program], timeout=60)[program].stdout == "RAN!\n"
    write(tmp_path, "helper.py", "def shout(s):\n    return s.upper() + '?'\n")
    program = cluster.submit(script, node="n2")  # only the changed module is sent
    sent = cluster.kept.submission_for("n2", cluster._runs[program].submission)
    assert [name for name, _, _ in sent["sources"].values()] == ["helper"], sent
    assert cluster.results([program], timeout=60)[program].stdout == "RAN?\n"

    cluster.kill("n2")  # n2 comes back as a new node: no store, no sources
    shutil.rmtree(os.path.join(os.path.dirname(cluster.config.path), "n2"))
    cluster.restart("n2")
    cluster.wait_ready()
    program = cluster.submit(script, node="n2")  # named as kept: n2 asks for them
    assert cluster.kept.submission_for("n2", cluster._runs[program].submission)["sources"] == {}
    outcome = cluster.results([program], timeout=60)[program]
    assert (outcome.stdout, outcome.error, outcome.route) == ("RAN?\n", None, ["n2"])
    # n2 keeps them now (from its answer on, the client sent their text, and n2 accepted it)
    again = cluster.run_file(script, node="n2", timeout=60)
    assert (again.stdout, again.error) == ("RAN?\n", None)
