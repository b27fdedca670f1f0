"""Atomic blocks across two nodes while nodes are SIGKILLed and restarted (docs/atomic.md,
"Crashes between the phases"): participants and coordinators die between the prepare and
the commit, and every block is committed once or not at all - never torn, never twice.

Each transfer moves money between accounts on two different nodes inside one block, run on
the debited account's node (the block's coordinator: two phases, a prepare on each node).
Clients run them from several threads while a killer thread SIGKILLs random nodes and starts
them again; every block pauses a little between its phases (SWARM_FAULT_TXN_PAUSE), so that
kills fall there. A program whose node died after its decision to commit was written ends with
PartlyDone (the block committed, not run again). Afterwards, every node up: every transfer
is in its two accounts' histories exactly once (completed or PartlyDone - no other error),
every total is conserved, no lock, prepare or decision is left on any node, and what each
completed block read and wrote has no anomaly (tests/histories/elle.py).

`make faults` (SWARM_LONG=1) runs it (make test's time: tests/test_atomic_durable.py is the
short one, each kill between the phases once, deterministically).
"""

import functools
import json
import random
import time
from collections import Counter

import pytest
from conftest import LONG
from helpers import node_log, wait_for, write
from test_money import NODES, READ_ALL, SETUP, with_killer

import swarm
from swarm.client import Cluster
from tests.histories import elle

ACCOUNTS, START = 6, 1000
TRANSFERS = 300 if LONG else 30
CLIENTS = 4
MIN_KILLS = 20 if LONG else 4
# (each kill stalls the blocks touching its node a second or more; and a program ended by
# PartlyDone at a node's restart has its result collected from that node - `collect?` - which
# a storm for the whole run kept refusing: each sent before the node's next restart)
MOST_KILLS = 40 if LONG else 8

TRANSFER = """
import sys
import swarm
from swarm import move_to
from swarm.refs import Ref
src, dst = Ref._handle(sys.argv[1], sys.argv[2]), Ref._handle(sys.argv[3], sys.argv[4])
tid, amount = sys.argv[5], int(sys.argv[6])
move_to(src.hint)                                  # the block's coordinator
with swarm.atomic(attempts=10_000):                # (a block cut by a kill holds its locks
    balance, seen_src = src.get()                  # until it is resolved: conflicts)
    src.set([balance - amount, seen_src + ["-" + tid]])
    balance, seen_dst = dst.get()
    dst.set([balance + amount, seen_dst + ["+" + tid]])
RESULT = [tid, seen_src, seen_dst]
"""


@pytest.mark.skipif(not LONG, reason="long: make faults (tests/test_atomic_durable.py is the "
                                      "short one: each kill between the phases, once)")
@pytest.mark.parametrize("pause", ["before", "after"])
def test_two_node_blocks_under_sigkill_commit_once_and_release_every_lock(
        tmp_path, monkeypatch, pause):
    """`pause`: every block waits 0.2 s between its phases, before (after) its decision
    (txnserve._fault_pause), so that more kills fall between them."""
    monkeypatch.setenv("SWARM_FAULT_TXN_PAUSE", f"{pause}:0.2")
    setup, transfer = write(tmp_path, "setup.py", SETUP), write(tmp_path, "t.py", TRANSFER)
    homes = [NODES[i % len(NODES)] for i in range(ACCOUNTS)]
    with swarm.local_cluster(3, directory=str(tmp_path / "cluster"), replicas=1) as cluster:
        out = cluster.run_file(setup, argv=[json.dumps(homes), str(START)], timeout=60)
        assert out.error is None, out.traceback
        handles = out.value
        rng = random.Random(11)
        work = []
        for i in range(TRANSFERS):
            src, dst = rng.sample(range(ACCOUNTS), 2)
            while homes[src] == homes[dst]:
                src, dst = rng.sample(range(ACCOUNTS), 2)
            work.append((f"t{i}", src, dst, rng.randint(1, 50)))
        results: dict[str, object] = {}
        times: dict[str, tuple[float, float]] = {}
        errors: list[str] = []
        partly: list[str] = []
        kills: list[str] = []

        def client(share: list[tuple]) -> None:
            c = Cluster(cluster.config)
            try:
                for j, (tid, a, b, amount) in enumerate(share):
                    while len(kills) < MIN_KILLS * j // len(share):
                        time.sleep(0.01)
                    start = time.monotonic()
                    o = c.run_file(transfer, argv=[*handles[a], *handles[b], tid,
                                                   str(amount)], timeout=600)
                    if o.error and o.error.startswith("PartlyDone"):  # (cut after its
                        partly.append(tid)  # decision: it names the block, or its writes)
                    elif o.error:
                        errors.append(f"{tid}: {o.error}")
                    else:
                        results[tid] = o.value
                        times[tid] = (start, time.monotonic())
            except Exception as e:
                errors.append(f"client: {type(e).__name__}: {e}")
            finally:
                c.close()

        with_killer(cluster, [functools.partial(client, work[i::CLIENTS])
                              for i in range(CLIENTS)], kills, 13, most=MOST_KILLS)
        assert errors == []
        left = wait_for(lambda: all(
            row["blocks"]["prepared"] == row["blocks"]["locks"] == row["blocks"]["decided"] == 0
            for row in cluster.status()), 60)
        rows = cluster.status()
        assert left, [row["blocks"] for row in rows]
        accounts = cluster.run_file(write(tmp_path, "read.py", READ_ALL),
                                    argv=[json.dumps(handles)], timeout=60).value

        logs = "".join(node_log(cluster, name) for name in NODES)
    resolved = logs.count("(asked of ") + logs.count("decision to commit sent again")
    # (txnserve._resolve and _drive: their counters restart with the nodes)
    print(f"{len(work)} two-node transfers, {len(kills)} nodes killed ({Counter(kills)}), "
          f"{len(partly)} PartlyDone, {resolved} blocks resolved after a cut")
    assert len(kills) >= MIN_KILLS - 1
    assert sum(balance for balance, _ in accounts) == START * ACCOUNTS
    for balance, history in accounts:
        assert balance == START + sum(
            -amount if entry[0] == "-" else amount
            for entry in history for tid, _, _, amount in work if tid == entry[1:])
    seen = Counter(entry for _, history in accounts for entry in history)
    expected = Counter([f"-{tid}" for tid, *_ in work] + [f"+{tid}" for tid, *_ in work])
    assert seen == expected  # every transfer once: none lost, none twice, none torn
    txns = []
    for tid, a, b, _ in work:
        if tid in results:
            _, seen_a, seen_b = results[tid]
            txns.append(elle.Txn(tid, [elle.read(a, seen_a), elle.append(a, "-" + tid),
                                       elle.read(b, seen_b), elle.append(b, "+" + tid)],
                                 start=times[tid][0], end=times[tid][1]))
        else:  # (PartlyDone: what it read is not known)
            txns.append(elle.Txn(tid, [elle.append(a, "-" + tid), elle.append(b, "+" + tid)],
                                 elle.INFO))
    txns.append(elle.Txn("end", [elle.read(i, h) for i, (_, h) in enumerate(accounts)]))
    assert [str(x) for x in elle.check(txns, realtime=True)] == []
