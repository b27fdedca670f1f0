"""Nodes join while money moves and nodes are SIGKILLed with their disks deleted (issue 19:
"a test adds two nodes to a 3-node cluster ... while the money workload runs: 0 lost, 0
duplicated, balance at most 1.1 after placement"; the short version without kills is
tests/test_grow.py).

Clients run transfers between accounts on n1-n3; a grower adds n4, then n5, each followed by
`swarm place --rebalance`; a killer SIGKILLs a random member every so often and deletes its
directory, once every copy is whole (one failure at a time), and starts it again. Afterwards:
every transfer completed once, money conserved, no acknowledged write missing, bytes within
1.1x of the mean, every copy whole on the new mirror chain.
"""

import json
import random
import shutil
import threading
import time
from collections import Counter

import pytest
from conftest import LONG
from helpers import write
from moneyscripts import READ_ALL, SETUP, TRANSFER, Clients, transfers

import swarm
from cluster.apply import place
from cluster.policies import rebalance
from swarm.membership import add_local

START, CLIENTS = 1000, 6
TRANSFERS, KILLS = 600, 10


def whole(cluster, wait: float = 60.0) -> bool:
    until = time.time() + wait
    while time.time() < until:
        try:
            rows = cluster.status()
        except Exception:  # (a node starting again)
            rows = []
        if len(rows) == len(cluster.config.names) and all(
                r["mirror"]["state"] == "live" and r["mirror"]["have"] == r["mirror"]["seq"]
                and r["mirror"]["exposed"] == 0 for r in rows):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not LONG, reason="long: make faults (tests/test_grow.py is the short one)")
def test_transfers_while_nodes_join_and_members_lose_their_disks(tmp_path):
    setup, transfer = write(tmp_path, "setup.py", SETUP), write(tmp_path, "t.py", TRANSFER)
    homes = [n for n in ("n1", "n2", "n3") for _ in range(8)]
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        handles = cluster.run_file(setup, argv=[json.dumps(homes), str(START)],
                                   timeout=60).value
        work = transfers(handles, TRANSFERS, seed=13)
        kills, not_whole = [], []
        lock = threading.Lock()  # (the grower and the killer take turns with the cluster)
        stop = threading.Event()

        def pace(j: int, n: int) -> None:  # (the kills fall among the transfers)
            while len(kills) < KILLS * j // n and not stop.is_set():
                time.sleep(0.01)

        clients = Clients(cluster.config, transfer, handles, timeout=600, pace=pace)
        results, errors, done = clients.results, clients.errors, clients.done

        def grower() -> None:
            for after in (TRANSFERS // 4, TRANSFERS // 2):
                while len(done) < after:
                    time.sleep(0.05)
                with lock:
                    add_local(cluster)
                    place(cluster, policy=rebalance)

        def killer() -> None:
            rng = random.Random(3)
            while len(kills) < KILLS and not stop.is_set():
                time.sleep(rng.uniform(0.5, 1.5))
                with lock:
                    if not whole(cluster):
                        not_whole.append(time.time())
                        continue
                    name = rng.choice(cluster.config.names)
                    cluster.kill(name)
                    shutil.rmtree(cluster.config.nodes[name].dir, ignore_errors=True)
                    kills.append(name)
                    time.sleep(rng.uniform(0.05, 0.5))
                    cluster.restart(name)

        threads = [threading.Thread(target=clients.run, args=(work[i::CLIENTS],))
                   for i in range(CLIENTS)] + [threading.Thread(target=grower),
                                                threading.Thread(target=killer)]
        for t in threads:
            t.start()
        for t in threads[:CLIENTS]:
            t.join()
        stop.set()
        for t in threads[CLIENTS:]:
            t.join()
        cluster.wait_ready()
        assert errors == []
        assert results == {tid: tid for tid, *_ in work}
        assert cluster.config.names == ["n1", "n2", "n3", "n4", "n5"]
        assert len(kills) == KILLS, kills
        place(cluster, policy=rebalance)
        accounts = cluster.run_file(write(tmp_path, "read.py", READ_ALL),
                                    argv=[json.dumps(handles)], timeout=120).value
        assert whole(cluster), cluster.status()
        stats = cluster.stats()
    print(f"{len(work)} transfers, kills {Counter(kills)}, copies not whole {len(not_whole)}")
    total = sum(balance for balance, _ in accounts)
    seen = Counter(entry for _, history in accounts for entry in history)
    expected = Counter([f"-{tid}" for tid, *_ in work] + [f"+{tid}" for tid, *_ in work])
    assert total == START * len(homes)
    assert +(seen - expected) == Counter()
    assert +(expected - seen) == Counter()
    held = {r["node"]: sum(r["refs"].values()) for r in stats}
    assert max(held.values()) <= 1.1 * sum(held.values()) / len(held) + 1, held
