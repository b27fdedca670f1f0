"""Questions to other nodes that end without their answer, on real processes (machine/
questions.py, machine/answers.py, swarm/node/asking.py, refserve.py):

- a program cancelled while it waits for a node that does not answer (SIGSTOPped) stops
  asking it: its question is dropped, not sent again every second for ever; one waiting
  for a node declared gone ends with NodeGone, and its question goes too;
- a question whose serving dies of a BaseException (here: SystemExit, raised by unpickling
  the value a program sets) is answered with that error - the program fails naming it, and
  a copy asked again gets the same answer - instead of waiting for ever.
"""

import os
import signal
import time

from helpers import write

import swarm
from swarm import asknodes

WAITS_FOR_N2 = """
import os, sys, time
from swarm import Ref
r = Ref(0, at="n2")                         # asked of n2 (--policy fetch)
with open(sys.argv[1], "w") as f:
    f.write(r.id)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
r.set(1)                                    # asked of n2, which is stopped: waits
RESULT = "set"
"""

SETS_AGAIN = """
import sys
from swarm.refs import Ref
Ref._handle(sys.argv[1], "n2").set(2)      # asked of n2, stopped again: waits
"""


def n1_status(cluster) -> dict:
    """n1's status row (asked of n1 alone: n2 is stopped, and would not answer)."""
    return asknodes.ask(cluster, ["n1"], "status?", {}, "status", 10)["n1"]


def wait_for(check, what: str, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


def test_a_cancelled_program_stops_asking_and_one_waiting_on_a_gone_node_ends(tmp_path):
    with swarm.local_cluster(2) as cluster:
        n2 = cluster.procs["n2"].pid
        made, go = str(tmp_path / "made"), str(tmp_path / "go")
        program = cluster.submit(write(tmp_path, "job.py", WAITS_FOR_N2), [made, go],
                                 policy="fetch")
        try:
            wait_for(lambda: os.path.exists(made) and open(made).read(), "r was not made")
            os.kill(n2, signal.SIGSTOP)
            before = n1_status(cluster)["asked_again"]
            open(go, "w").close()
            # the set waits for n2, and is asked again every second
            row = wait_for(lambda: (s := n1_status(cluster))["asked_again"] >= before + 2
                           and s, "the set was not asked again")
            assert row["asking"] == 1
            assert cluster.cancel(program) == "cancelled"
            out = cluster.results([program], timeout=30)[program]
            assert out.error == "KeyboardInterrupt: cancelled", out.error
            # its question is dropped: not asked again (the resend round is every second)
            row = wait_for(lambda: (s := n1_status(cluster))["asking"] == 0 and s,
                           "the cancelled program's question is still asked")
            time.sleep(1.5)
            assert n1_status(cluster)["asked_again"] == row["asked_again"]

            # one waiting for n2 when n2 is declared gone ends, and its question goes too
            ref = open(made).read()
            waiting = cluster.submit(write(tmp_path, "again.py", SETS_AGAIN), [ref],
                                     policy="fetch")
            wait_for(lambda: n1_status(cluster)["asking"] == 1, "the set was not asked")
            cluster.fence("n2")
            out = cluster.results([waiting], timeout=30)[waiting]
            assert out.error.startswith("NodeGone: node n2 was declared gone: set"), out.error
            assert n1_status(cluster)["asking"] == 0
        finally:
            os.kill(n2, signal.SIGCONT)
