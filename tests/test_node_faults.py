"""Faults a node must survive: strangers' messages, SIGKILL, a peer that is down."""

import os
import pickle
import sqlite3
import threading
import time

import pytest
import zmq
from helpers import write

import swarm
import swarm.client
import swarm.node.config
from swarm.wire import PROTOCOL, decode
from swarm.wire.envelope import pack


class Evil:
    """Unpickling this creates a directory: the proof that a payload was unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


READ_REFS = """
from swarm import Ref, here
a = Ref("alpha", at="n2")
b = Ref("beta", at="n3")
print(a.get(), here(), b.get(), here())
"""


def raw_socket(cluster, node: str) -> zmq.Socket:
    sock = cluster.ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(cluster.config.nodes[node].endpoint)
    return sock


def test_strangers_messages_are_refused_unread_and_the_node_keeps_serving(tmp_path):
    marker = str(tmp_path / "unpickled")
    evil = pickle.dumps(Evil(marker))  # a Ref's value to create, as a blob
    control = decode.encode({"key": "k", "ref": None, "action": "create"})
    with swarm.local_cluster(3, max_message_bytes=1 << 20) as cluster:
        secret = cluster.config.secret
        sock = raw_socket(cluster, "n2")
        good = pack(secret, "fetch", "stranger", 1, control, (evil,))
        attacks = {
            "unsigned": [good[0][:-32] + b"\0" * 32, *good[1:]],
            "tampered": [good[0], good[1], evil + b"x"],
            "wrong secret": pack(b"not the cluster secret", "fetch", "stranger", 2, control,
                                 (evil,)),
            "old protocol": [b"SWARM/3", b"fetch", b"stranger", bytes(8), evil, good[0][-32:]],
            "garbage": [os.urandom(64)],
            "truncated": [good[0][:20]],
            "head only": [good[0]],
            "not a node": good,  # signed, but a stranger may not ask what nodes ask
            "signed malformed hop": pack(secret, "hop", "stranger", 4, b"\xff" * 40),
            # last: ZeroMQ's own size limit (MAXMSGSIZE) drops the connection that sends it
            "oversized": pack(secret, "fetch", "stranger", 3, control,
                              (evil + b"\0" * (2 << 20),)),
        }
        for frames in attacks.values():
            sock.send_multipart(frames)
        time.sleep(0.5)
        sock.close(0)
        assert not os.path.exists(marker), "a refused payload was unpickled"
        out = cluster.run_file(write(tmp_path, "read.py", READ_REFS), timeout=30)
        assert out.stdout == "alpha n2 beta n3\n" and out.error is None
        status = {row["node"]: row for row in cluster.status()}
        assert status["n2"]["refused"] >= len(attacks) - 1  # all but the oversized one, which
        assert PROTOCOL == b"SWARM/5"                       # ZeroMQ may drop unread first


WRITE = """
from swarm import Ref
r = Ref(0, at="n2")
for i in range(1, 51):
    r.set(i)
RESULT = r.id
"""

READ = """
from swarm import Ref, here
r = Ref._handle({ref_id!r}, "n2")
RESULT = (r.get(), here())
"""


def test_acknowledged_writes_survive_sigkill(tmp_path):
    with swarm.local_cluster(3) as cluster:
        out = cluster.run_file(write(tmp_path, "w.py", WRITE), timeout=30)
        assert out.error is None
        ref_id = out.value
        cluster.kill("n2")
        cluster.restart("n2")
        cluster.wait_ready()
        out = cluster.run_file(write(tmp_path, "r.py", READ.format(ref_id=ref_id)), timeout=30)
        assert out.error is None, out.traceback
        assert out.value == (50, "n2")


LONG_ON_N2 = """
import time
from swarm import move_to, here
move_to("n2")
start = time.time()
while time.time() - start < 2.0:
    pass
print("finished on", here())
"""


def _run_in_thread(cluster, path, box):
    box["out"] = cluster.run_file(path, timeout=60)


def test_accepted_continuation_resumes_after_sigkill(tmp_path):
    with swarm.local_cluster(3) as cluster:
        path = write(tmp_path, "long.py", LONG_ON_N2)
        box = {}
        worker = threading.Thread(target=_run_in_thread, args=(cluster, path, box))
        worker.start()
        time.sleep(1.0)  # n2 accepted the hop (persisted, acked) and is running it
        cluster.kill("n2")
        cluster.restart("n2")
        worker.join(60)
        out = box["out"]
        assert out.error is None and out.stdout == "finished on n2\n"


PING_PONG_LOG = """
from swarm import Ref, move_to
log = Ref([], at="n1")
for i in range(ROUNDS):
    log.set(log.get() + [i])   # on n1
    move_to("n2")
    move_to("n1")
RESULT = log.get()
"""


def test_a_ping_pong_survives_sigkills_and_runs_every_step_once(tmp_path):
    """n2 is killed while the program ping-pongs through it: hops it had sent but not yet
    written are sent again by the re-run after the restart, under the same ids, and n1 takes
    them once - two copies of the program would append twice to the log on n1."""
    path = write(tmp_path, "pp.py", PING_PONG_LOG.replace("ROUNDS", "1500"))
    with swarm.local_cluster(2) as cluster:
        box = {}
        worker = threading.Thread(target=_run_in_thread, args=(cluster, path, box))
        worker.start()
        for pause in (0.4, 1.2, 1.2):
            time.sleep(pause)
            cluster.kill("n2")
            cluster.restart("n2")
        worker.join(90)
        out = box["out"]
        assert out.error is None, out.traceback
        assert out.value == list(range(1500))


def test_acks_that_no_hop_takes_along_are_sent_on_their_own(tmp_path):
    """Acks wait for a hop to ride on; a program that ends where it went sends none back,
    so its ack goes alone and the sender's outbox empties (no hop resent forever)."""
    src = "from swarm import move_to, here\nmove_to('n2')\nRESULT = here()\n"
    with swarm.local_cluster(2) as cluster:
        assert cluster.run_file(write(tmp_path, "p.py", src), timeout=30).value == "n2"
        store = os.path.join(cluster.config.nodes["n1"].dir, "store.sqlite")
        deadline = time.monotonic() + 5
        while True:
            with sqlite3.connect(store) as db:
                (unacked,) = db.execute("SELECT COUNT(*) FROM outbox").fetchone()
            if unacked == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert unacked == 0
        with sqlite3.connect(os.path.join(cluster.config.nodes["n2"].dir,
                                          "store.sqlite")) as db:
            assert db.execute("SELECT COUNT(*) FROM done").fetchone() == (1,)


def test_hop_to_a_node_that_is_down_is_delivered_when_it_returns(tmp_path):
    src = "from swarm import move_to, here\nmove_to('n3')\nRESULT = here()\n"
    with swarm.local_cluster(3) as cluster:
        cluster.kill("n3")
        box = {}
        worker = threading.Thread(target=_run_in_thread,
                                  args=(cluster, write(tmp_path, "p.py", src), box))
        worker.start()
        time.sleep(1.5)
        cluster.restart("n3")
        worker.join(60)
        assert box["out"].error is None and box["out"].value == "n3"


def test_a_program_waits_for_a_node_that_stays_down_until_it_is_declared_gone(tmp_path):
    """A hop is never failed on a timeout (its receiver may be running it): the program
    waits, and its client is told so; it ends - NodeGone, its outcome unknown - only once an
    operator declares the node gone, and then the node may not come back."""
    src = "from swarm import move_to\nprint('leaving')\nmove_to('n3')\nprint('arrived')\n"
    with swarm.local_cluster(3, hop_timeout=1.5) as cluster:
        cluster.kill("n3")
        program = cluster.submit(write(tmp_path, "p.py", src))
        with pytest.raises(swarm.client.ClusterTimeout):
            cluster.results([program], timeout=6)  # waiting, not failed
        run = cluster._runs[program]
        assert run.waiting is not None and run.waiting[0] == "n3", run.waiting
        assert "".join(run.printed) == "leaving\n" and run.result is None
        cluster.fence("n3")
        out = cluster.results([program], timeout=30)[program]
        assert out.stdout == "leaving\n"
        assert out.error.startswith(f"NodeGone: {program} was last on a node declared gone "
                                    f"(n3); its outcome is unknown"), out.error
        assert swarm.node.config.ClusterConfig.load(cluster.config.path).fenced == ["n3"]
        cluster.restart("n3")  # a node declared gone may not come back
        assert cluster.procs["n3"].wait(30) == 2
        log = open(os.path.join(os.path.dirname(cluster.config.path), "n3.log")).read()
        assert "node n3 was declared gone" in log


def test_kernel_is_the_only_code_switching_greenlets():
    """Only swarm/node/kernel.py imports greenlet, and no other module calls .switch() or
    .throw() (generators.abandon() calls the generator type's own throw, which takes
    nothing else)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    offenders = []
    for folder, _, files in os.walk(os.path.join(root, "swarm")):
        for f in files:
            if not f.endswith(".py") or f == "kernel.py":
                continue
            text = open(os.path.join(folder, f)).read()
            if "import greenlet" in text or "from greenlet" in text or ".switch(" in text:
                offenders.append(f)
            if ".throw(" in text:
                offenders.append(f)
    assert offenders == []


def test_abandon_refuses_anything_but_a_generator():
    from greenlet import greenlet

    from swarm.continuation.generators import abandon

    with pytest.raises(TypeError):
        abandon([greenlet(lambda: None)])
