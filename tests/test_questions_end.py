"""Questions to other nodes that end without their answer, on real processes (machine/
questions.py, machine/answers.py, swarm/node/asking.py, refserve.py):

- a program cancelled while it waits for a node that does not answer (SIGSTOPped) stops
  asking it: its question is dropped, not sent again every second for ever - also the one
  its `finally` asks then (the program is dropped a second after the cancel, as one that
  goes on running is: kernel.abandon_overdue); one waiting for a node declared gone ends
  with NodeGone, and its question goes too;
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
try:
    r.set(1)                                # asked of n2, which is stopped: waits
finally:
    r.set(-1)                               # a cleanup: asks n2 again (still stopped)
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


BOMBS = """
from swarm import Ref, move_to


def explode(park):
    import time
    from swarm.node import traps
    if park:  # the serving parks (n2 serves the others): copies of the question come
        traps.run_in_thread(time.sleep, park)
    raise SystemExit("unpickled a Bomb")


class Bomb:
    \"\"\"Unpickling it raises SystemExit (a BaseException), where it is unpickled.\"\"\"
    def __init__(self, park):
        self.park = park

    def __reduce__(self):
        return (explode, (self.park,))


move_to("n2")
move_to("n1")           # (n2 keeps the program's source: `explode` unpickles there)
r = Ref(0, at="n2")
errors = []
for park in (0, 2.5):   # 2.5 s: the set is asked again (every second) while it is served
    try:
        r.set(Bomb(park))    # asked of n2 (--policy fetch), with an id
    except Exception as e:
        errors.append(e.args[0])
try:
    Ref(Bomb(0), at="n2")
except Exception as e:
    errors.append(f"{type(e).__name__}: {e}")
RESULT = errors, r.get()
"""


def test_a_question_whose_serving_dies_of_a_base_exception_is_answered_with_it(tmp_path):
    """Before: n2's greenlet serving the set died of SystemExit without an answer; the
    question's id stayed in answers.serving, the copies asked again joined it there, and
    the program waited for ever (and a Ref made there got the id None)."""
    with swarm.local_cluster(2) as cluster:
        out = cluster.run_file(write(tmp_path, "bombs.py", BOMBS), policy="fetch",
                               timeout=60)
        assert out.error is None, out.traceback
        errors, value = out.value
        assert len(errors) == 3 and value == 0, out.value  # nothing was set
        for e in errors[:2]:
            assert e.startswith("SystemExit: unpickled a Bomb (raised on n2 while it served "
                                "set n2."), e
        assert errors[2].startswith("RemoteError: SystemExit: unpickled a Bomb (raised on n2 "
                                    "while it served create"), errors[2]
        n1 = next(s for s in cluster.status() if s["node"] == "n1")
        assert n1["asked_again"] >= 1 and n1["asking"] == 0  # copies came while served
        assert "SystemExit: unpickled a Bomb" in cluster.log("n2")  # with its traceback


SLOW_COMMIT = """
import sys
import swarm
from swarm import Ref, move_to


def slow(marker, value):
    import sys, time
    from swarm.node import traps
    frame = sys._getframe()                # (the question n2 serves: refserve.answer's)
    while "request" not in frame.f_locals:
        frame = frame.f_back
    if frame.f_locals["request"].action == "txn-commit":  # (not its prepare)
        open(marker, "a").close()          # (the test cancels the program now)
        traps.run_in_thread(time.sleep, 1.5)   # n2 commits slowly (it serves the others)
    return value


class Slow:
    \"\"\"Unpickled - on n2, when the block commits there - slowly.\"\"\"
    def __init__(self, marker, value):
        self.marker, self.value = marker, value

    def __reduce__(self):
        return (slow, (self.marker, self.value))


move_to("n2")
move_to("n3")           # (n2 and n3 keep the program's source: `slow` unpickles there)
b, c = Ref(0, at="n2"), Ref(0, at="n3")
with open(sys.argv[2], "w") as f:
    f.write(f"{b.id} {c.id}")
move_to("n1")
with swarm.atomic():    # prepared on n2 and n3, then committed on n2, then on n3
    b.set(Slow(sys.argv[1], 1))
    c.set(1)
    print("in the block")
RESULT = "committed"
"""

READ_BOTH = """
import sys
from swarm.refs import Ref
b, c = Ref._handle(sys.argv[1], "n2"), Ref._handle(sys.argv[2], "n3")
c.set(c.get() + 1)      # (c is not locked)
RESULT = [b.get(), c.get()]
"""


def test_a_block_cancelled_while_it_commits_commits_on_every_node(tmp_path):
    """A cancel while the block waits for n2's commit: before, the interrupt stopped it
    there - n3, prepared, was never told to commit (c stayed locked, its write lost) while
    n2 committed: a torn block. Now the commit is finished first (txnserve
    ._commit_everywhere), then the program is cancelled."""
    with swarm.local_cluster(3) as cluster:
        marker, ids = str(tmp_path / "committing"), str(tmp_path / "ids")
        program = cluster.submit(write(tmp_path, "block.py", SLOW_COMMIT), [marker, ids])
        wait_for(lambda: os.path.exists(marker), "the block did not commit")
        assert cluster.cancel(program) == "cancelled"
        out = cluster.results([program], timeout=30)[program]
        assert out.error == "KeyboardInterrupt: cancelled", out.error
        assert out.stdout == "in the block\n"  # (printed when the block committed)
        read = cluster.run_file(write(tmp_path, "read.py", READ_BOTH),
                                open(ids).read().split(), timeout=30)
        assert read.error is None and read.value == [1, 2], (read.error, read.value)
