"""A cancel that meets a program between two nodes, on real processes (machine/state.py
_run, program.arriving, continuation/resume.py Raise): the program is resumed with
KeyboardInterrupt raised where it waits - its `except` and `finally` blocks run, and the Ref
writes they make (hops included) are made - where it used to be dropped on arrival, its
handlers skipped (outside trial 17, finding 4). And SIGTERM to `swarm run` cancels the
program as Ctrl-C does (finding 7: it used to end `swarm run` alone, the program running on).

- a hop in flight: n2 is SIGSTOPped, the program's hop to it waits in n1's outbox while it
  is cancelled; n2, continued, takes the hop and the cancel (in either order): the program
  gets the interrupt at its `far.get()`, and its `finally` hops back to n1 to write there;
- the machine alone (the simulator's node as the harness): a hop of a cancelled program is
  resumed with the interrupt, a task's first hop (never started) is not run; a node that
  handed the program on lately answers the cancel `forwarded`, not `unknown`;
- Ctrl-C (SIGINT) or SIGTERM to `swarm run` of a program hopping between two nodes (nearly
  always in flight or just arrived when the signal comes), as the trial did: exit status
  130 or 143, the `finally`'s output and Ref writes, the traceback.
"""

import os
import re
import signal
import subprocess
import sys
import time

import msgpack
import pytest
from helpers import ROOT, wait_for, write

import swarm
from swarm import asknodes
from swarm.node import machine as m
from tests.sim.world import Faults, World

HOPS = """
import os, sys, traceback
from swarm import Ref, here
near, far = Ref(1, at="n1"), Ref(1, at="n2")
done = Ref("not run", at="n1")
with open(sys.argv[1], "w") as f:
    f.write(f"{done.id} {far.id}")
while not os.path.exists(sys.argv[2]):   # (the test may pause n2 meanwhile)
    near.get()
n = 0
try:
    while True:                          # hops to n2, and back to n1
        n += far.get()
        n += near.get()
except KeyboardInterrupt as e:
    at = [f.line for f in traceback.extract_tb(e.__traceback__) if f.filename == __file__]
    print("interrupted at", at[-1], "on", here())
    raise
finally:
    print("finally on", here())
    # hops after the interrupt (to n2 when it came on n1, and to n1): not interrupted again
    far.set(-1)
    done.set(f"finally ran, n > 0: {n > 0}")
"""

READ = """
import sys
from swarm.refs import Ref
done, far = sys.argv[1].split()
print(Ref._handle(done, "n1").get(), Ref._handle(far, "n2").get(), sep=" | ")
"""


def hop(program: str, hop_id: str, now: float, **more) -> m.HopReceived:
    meta = {"program": program, "client": "c9-0123abcd-1", "modules": {}, "argv": [],
            "hop_checkpoints": False, "seq": 0, "route": ["n2"], "hop_id": hop_id,
            "from": "n2", **more}
    return m.HopReceived("n2", meta, msgpack.packb(meta), {}, b"continuation", now)


def test_the_machine_resumes_a_hop_that_comes_after_the_cancel_with_the_interrupt():
    n1 = World(1, n=2, faults=Faults()).nodes["n1"]
    done = []
    n1.execute = done.append  # (what the machine tells its shell to do)
    now = n1.world.now
    n1.handle(m.CancelRequested("c9-0123abcd-1", "c9-0123abcd-7"))
    n1.handle(hop("c9-0123abcd-7", "h1", now))  # it moved here after the cancel
    n1.handle(hop("c9-0123abcd-7/f1", "h2", now, task="f1", start=True))  # a task, unstarted
    n1.handle(hop("c9-0123abcd-8", "h3", now))  # another program
    resumed = [(i.hop_id, i.interrupt) for i in done if isinstance(i, m.Resume)]
    assert resumed == [("h1", True), ("h3", False)]
    logged = [i.text for i in done if isinstance(i, m.Log)]
    assert any("(hop h2) not run: KeyboardInterrupt: cancelled" in t for t in logged), logged


def test_a_node_that_handed_the_program_on_lately_answers_a_cancel_forwarded():
    """n2 may read the cancel before the hop, and n1 the hop's ack before the cancel: n1
    must not answer `unknown` then (nor n2: the client would give up on a program that
    runs its `finally` unseen)."""
    n1 = World(1, n=2, faults=Faults()).nodes["n1"]
    done = []
    n1.execute = done.append
    meta = {"program": "c9-0123abcd-7", "client": "c9-0123abcd-1", "modules": {},
            "argv": [], "hop_checkpoints": False, "seq": 0, "route": ["n1"],
            "hop_id": "h9", "from": "n1"}
    n1.handle(m.HopSent("n2", meta, b"continuation", None, False))
    n1.handle(m.AckReceived("n2", ["h9"]))  # n2 took it
    n1.handle(m.CancelRequested("c9-0123abcd-1", "c9-0123abcd-7"))
    assert [i.node for i in done if isinstance(i, m.Send) and i.kind == "cancel"] == ["n2"]
    # answered once the cancel is on disk (a node that died before would run the program
    # again from its last hop, after telling its client it was cancelled: test_sim_cancels)
    assert not [i for i in done if isinstance(i, m.AnswerCancel)]
    for _ in range(3):  # (the writes under way, then the one holding the cancel)
        if any(isinstance(i, m.Persist) for i in done):
            done[:] = [i for i in done if not isinstance(i, m.Persist)]
            n1.handle(m.Committed(n1.world.now))
    assert [i.state for i in done if isinstance(i, m.AnswerCancel)] == ["forwarded"]


def n1_rows(cluster) -> list:
    """n1's rows of programs? (asked of n1 alone: n2 is stopped)."""
    return asknodes.ask(cluster, ["n1"], "programs?", {"programs": None}, "programs",
                        10)["n1"]["programs"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with swarm.local_cluster(2, directory=str(tmp_path_factory.mktemp("c"))) as c:
        yield c


def test_a_cancel_that_meets_a_hop_in_flight_resumes_it_with_keyboardinterrupt(cluster,
                                                                               tmp_path):
    n2 = cluster.procs["n2"].pid
    made, go = str(tmp_path / "made"), str(tmp_path / "go")
    program = cluster.submit(write(tmp_path, "hops.py", HOPS), [made, go], node="n1")
    try:
        assert wait_for(lambda: os.path.exists(made) and open(made).read(), timeout=60)
        ids = open(made).read()
        os.kill(n2, signal.SIGSTOP)
        open(go, "w").close()
        # its hop to n2 waits in n1's outbox (n2 takes nothing while it is stopped)
        assert wait_for(lambda: any(row["program"] == program and row["state"] in (
            "sent", "waiting") for row in n1_rows(cluster)), timeout=60)
        assert asknodes.cancel(cluster, program, timeout=2.0) == ("forwarded", ["n2"])
    finally:
        os.kill(n2, signal.SIGCONT)
    out = cluster.results([program], timeout=60)[program]
    assert out.error == "KeyboardInterrupt: cancelled", out.error
    # raised at the suspension point on n2, handled there; its finally ran on, hopping
    assert out.stdout == ("interrupted at n += far.get() on n2\nfinally on n2\n"), \
        out.stdout
    assert out.traceback.startswith("Traceback (most recent call last):\n"), \
        out.traceback
    assert out.traceback.endswith("KeyboardInterrupt: cancelled\n(raised on n1)\n"), \
        out.traceback
    read = cluster.run_file(write(tmp_path, "read.py", READ), [ids], timeout=60)
    assert (read.error, read.stdout) == (None, "finally ran, n > 0: False | -1\n"), read


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_to_swarm_run_cancels_a_program_between_nodes_and_its_finally_runs(
        cluster, tmp_path, sig, status):
    made, go = str(tmp_path / "made"), str(tmp_path / "go")
    open(go, "w").close()  # (it hops at once)
    run = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "run", "--cluster", cluster.config.path,
         write(tmp_path, "hops.py", HOPS), made, go], env=dict(os.environ, PYTHONPATH=ROOT),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: os.path.exists(made) and open(made).read(), timeout=60)
        run.send_signal(sig)  # Ctrl-C's; SIGTERM: kill's, a service manager's, a CI job's
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == status, (run.returncode, out, err)
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("interrupted at n += ") and \
        lines[1].startswith("finally on n"), (out, err)
    said = "swarm run: SIGTERM: program c" in err and "is stopped as Ctrl-C stops it" in err
    assert said == (sig == signal.SIGTERM), err
    assert "Traceback (most recent call last):\n" in err and err.endswith(
        "KeyboardInterrupt: cancelled\n(raised on n1)\n"), err
    read = cluster.run_file(write(tmp_path, "read.py", READ), [open(made).read()],
                            timeout=60)
    assert read.error is None and read.stdout.startswith("finally ran") and \
        read.stdout.endswith(" | -1\n"), read


SPIN_SW = """
function spin(n) { i = 0; while (i < n) { i = i + 1; } return i; }
print("spinning");
total = 0;
while (total >= 0) { total = total + spin(1000); }
return total;
"""


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_to_swarm_run_of_a_skywriting_script_exits_as_python_would(
        cluster, tmp_path, sig, status):
    """A .sw script ended by Ctrl-C exits 130 (SIGTERM: 143) as a Python program does, with
    one line at the script's line it was stopped at - it exited 1 with a bare
    `KeyboardInterrupt: cancelled` (outside trial 17)."""
    path = write(tmp_path, "spin.sw", SPIN_SW)
    run = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "run", "--cluster", cluster.config.path, path],
        env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline() == "spinning\n"
        run.send_signal(sig)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == status, (run.returncode, out, err)
    last = err.splitlines()[-1]
    assert re.fullmatch(rf"{re.escape(path)}:(2|5):\d+: KeyboardInterrupt: cancelled - the "
                        r"script stopped here \((in spin|at its top level), on n\d\)", last), err
    assert ("SIGTERM: program" in err) == (sig == signal.SIGTERM), err


TICKS = """
import time
print("ticking", flush=True)
while True:
    time.sleep(0.05)
"""


def test_two_sigterms_to_swarm_run_on_its_own_nodes_end_it_once(tmp_path):
    """`timeout` sends SIGTERM to `swarm run`, then again to its process group: the second
    one, while the temporary nodes were being stopped, broke the stop half-way - exit 130
    and forty lines of swarm's own traceback (the newcomer trial of 2026-12-08)."""
    run = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "run", "--nodes", "2",
         write(tmp_path, "ticks.py", TICKS)], env=dict(os.environ, PYTHONPATH=ROOT),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert run.stdout.readline() == "ticking\n"
        run.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 143, (run.returncode, err)
    assert "Traceback" not in err and "swarm/" not in err, err
