"""`swarm node remove` on real nodes (swarm/adoption.py; the node's side: swarm/node/adopt.py and
machine/fences.py; the protocol's simulation: tests/test_sim_adopt.py): the node stops and its
mirror takes its store, while programs run - nothing lost, nothing done twice, every program
completes, single-Ref histories stay linearizable; as a newcomer runs it; and for a node
killed for good (`--force`)."""

import json
import os
import signal
import threading
import time

from helpers import swarm_cli, write
from moneyscripts import READ_ALL, SETUP, TRANSFER, Clients, check_money, transfers
from test_grow import LIN_SETUP, whole

import swarm
from cluster.apply import place
from swarm.adoption import remove
from swarm.fencing import reload_fences
from swarm.membership import add_local
from tests.histories import linear
from tests.histories.singleref import PROGRAM, read_history, start_clients

START, CLIENTS, TRANSFERS = 1000, 4, 90


def _remove(cluster, name: str) -> str:
    heir = remove(cluster.config.path, name, say=lambda text: None)
    reload_fences(cluster)  # (what the file says now: the clients sharing it route too)
    return heir


def test_two_joins_and_a_removal_while_money_moves(tmp_path):
    """The issue's test: n4 and n5 join a 3-node cluster and n2 leaves while transfers run
    from 4 clients (placement moving accounts mid-run); every transfer once, money conserved,
    bytes within 1.1x of the mean after placement, every copy whole on the new chain."""
    setup, transfer = write(tmp_path, "setup.py", SETUP), write(tmp_path, "t.py", TRANSFER)
    homes = [n for n in ("n1", "n2", "n3") for _ in range(8)]
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        handles = cluster.run_file(setup, argv=[json.dumps(homes), str(START)],
                                   timeout=60).value
        work = transfers(handles, TRANSFERS, seed=11)
        clients = Clients(cluster.config, transfer, handles)
        threads = [threading.Thread(target=clients.run, args=(work[i::CLIENTS],))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        steps = (("add", TRANSFERS // 6), ("add", TRANSFERS // 3), ("remove", TRANSFERS // 2))
        for step, after in steps:
            while len(clients.done) < after and any(t.is_alive() for t in threads):
                time.sleep(0.02)
            if step == "add":
                add_local(cluster)
                place(cluster)  # (Refs move while transfers use them)
            else:
                assert _remove(cluster, "n2") == "n3"
        for t in threads:
            t.join()
        assert clients.errors == []
        assert clients.results == {tid: tid for tid, *_ in work}  # every program completed
        final = place(cluster)
        out = cluster.run_file(write(tmp_path, "read.py", READ_ALL), argv=[json.dumps(handles)],
                               timeout=60)
        assert out.error is None, out.traceback
        accounts = out.value
        live = ["n1", "n3", "n4", "n5"]
        rows = whole(cluster, live)
        stats = cluster.stats()
    check_money(accounts, work, START * len(homes))
    held = {r["node"]: sum(r["refs"].values()) for r in stats}
    assert sorted(held) == live
    mean = sum(held.values()) / len(held)
    assert max(held.values()) <= 1.1 * mean + 1, (held, final.balance_after)
    assert {r["node"]: r["mirror"]["node"] for r in rows} == {
        "n1": "n3", "n3": "n4", "n4": "n5", "n5": "n1"}


def test_single_ref_operations_stay_linearizable_while_their_node_is_removed(tmp_path):
    """Gets, sets and updates of three Refs (one on each node) from 4 clients while n2 - the
    home of one of them - is removed (tests/histories: the history is checked)."""
    setup, program = write(tmp_path, "setup.py", LIN_SETUP), write(tmp_path, "p.py", PROGRAM)
    path = tmp_path / "ops.log"
    names = [f"p{i}" for i in range(12)]
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        handles = cluster.run_file(setup, timeout=60).value
        threads, errors = start_clients(cluster.config, program, handles, path, names, 10)
        time.sleep(1.0)
        assert _remove(cluster, "n2") == "n3"
        for t in threads:
            t.join()
        assert errors == []
    ops = read_history(path)
    assert len(ops) == 12 * 10 and all(op.end is not None for op in ops)
    assert [str(v) for v in linear.check(ops, 0)] == []


def test_swarm_node_remove_as_a_newcomer_runs_it(tmp_path):
    d = str(tmp_path / "c")
    assert swarm_cli("up", "--nodes", "3", "--dir", d).returncode == 0
    try:
        prog = write(tmp_path, "fill.py", "from swarm import Dict, Ref\nd = Dict('x')\n"
                                          "for i in range(30):\n"
                                          "    d[i] = Ref(bytes(3000), at=f'n{i % 3 + 1}').id\n"
                                          "Ref.named('total').set(30)\n")
        assert swarm_cli("run", "--dir", d, prog).returncode == 0
        out = swarm_cli("node", "remove", "n2", "--dir", d, "--place")
        assert out.returncode == 0, out.stderr
        assert "n2 removed: n3 has its store" in out.stdout and "balance" in out.stdout, \
            out.stdout
        check = write(tmp_path, "check.py", "from swarm import Dict, Ref\nd = Dict('x')\n"
                                            "print(len(d), sum(len(Ref.open(d[i]).get()) "
                                            "for i in range(30)), Ref.named('total').get())\n")
        out = swarm_cli("run", "--dir", d, check)
        assert out.stdout.strip() == "30 90000 30", out.stdout + out.stderr
        status = swarm_cli("status", "--dir", d).stdout
        assert "removed: n3" in status, status
        again = swarm_cli("node", "remove", "n2", "--dir", d)
        assert again.returncode == 1 and "removed or declared gone already" in again.stderr
        unknown = swarm_cli("node", "remove", "n9", "--dir", d)
        assert unknown.returncode == 1 and "unknown node 'n9'" in unknown.stderr
        swarm_cli("down", "--dir", d)  # (and up again: n2 stays out, the rest is there)
        assert swarm_cli("up", "--dir", d).returncode == 0
        out = swarm_cli("run", "--dir", d, check)
        assert out.stdout.strip() == "30 90000 30", out.stdout + out.stderr
    finally:
        swarm_cli("down", "--dir", d)


MAKE = "from swarm import Ref\nRESULT = [[r.id, r.hint] for r in (Ref(i, at='n2') for i in range(20))]\n"
SUM = "import json, sys\nfrom swarm.refs import Ref\nRESULT = sum(Ref._handle(*h).get() for h in json.loads(sys.argv[1]))\n"


def test_a_node_killed_for_good_is_removed_with_force_and_its_refs_are_served(tmp_path):
    """Failover by hand: n2 is SIGKILLed; `remove` refuses (it cannot tell that the copy is
    whole) and names --force; with it, n3 serves n2's Refs."""
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        handles = cluster.run_file(write(tmp_path, "make.py", MAKE), timeout=60).value
        whole(cluster, ["n1", "n2", "n3"])
        os.kill(cluster.procs["n2"].pid, signal.SIGKILL)
        cluster.procs["n2"].wait()
        try:
            remove(cluster.config.path, "n2", timeout=3, say=lambda text: None)
        except swarm.ClusterTimeout as e:
            assert "--force" in str(e), e
        else:
            raise AssertionError("a node that does not answer was removed without --force")
        t0 = time.monotonic()
        assert remove(cluster.config.path, "n2", force=True, say=lambda text: None) == "n3"
        took = time.monotonic() - t0
        reload_fences(cluster)
        out = cluster.run_file(write(tmp_path, "sum.py", SUM), argv=[json.dumps(handles)],
                               timeout=60)
        assert out.error is None, out.traceback
        assert out.value == sum(range(20)), out.value
    print(f"removed a killed node in {took:.2f} s")


DICT_LOOP = """
import sys, time
from swarm import Dict
d = Dict("counts")
for i in range(int(sys.argv[1])):
    k = f"k{i % 12}"
    d[k] = d.get(k, 0) + 1
    time.sleep(0.01)
RESULT = sum(d.values())
"""


def test_a_program_using_a_dict_across_the_removal_completes(tmp_path):
    """(helper-32's trial: collection steps sent to the node in its last moments were lost,
    the program failing after hop_timeout with TimeoutError.) A program updates a Dict whose
    shards live on every node while n2 is removed: it completes, every update kept."""
    prog = write(tmp_path, "loop.py", DICT_LOOP)
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        program = cluster.submit(prog, argv=["200"])
        time.sleep(1.5)
        assert _remove(cluster, "n2") == "n3"
        out = cluster.results([program], timeout=120)[program]
        assert out.error is None, out.traceback
        assert out.value == 200
