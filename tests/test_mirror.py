"""Copies of a node's store on its mirror, with real nodes (docs/nodes.md, "Copies of a node's
store"): the ways a node's store can be lost or go wrong that its copy must survive - a disk
deleted, a first start that died before it asked its mirror, a store that went back in time,
a mirror that lost its own disk twice while nothing was written, a store written before it
had a mirror. Each time, a value acknowledged before is read back. (The simulator runs the
protocol under thousands of seeds: tests/test_sim_mirror.py; the money workload with disks
deleted: tests/faults/test_money.py.)"""

import os
import shutil
import time

from helpers import write

import swarm
from swarm.node.store import Store

MAKE = "from swarm import Ref\nr = Ref(1234, at='n1')\nRESULT = [r.id, r.hint]\n"
SET = "import sys\nfrom swarm.refs import Ref\nRef._handle(sys.argv[1], sys.argv[2]).set(5678)\n"
READ = "import sys\nfrom swarm.refs import Ref\nRESULT = Ref._handle(sys.argv[1], sys.argv[2]).get()\n"


def whole(cluster, wait: float = 30.0) -> dict:
    """Every node's mirror row once every copy is whole - as the node sees it and as its
    mirror does: a mirror that restarted with its disk lost holds no copy until the node
    sends it one, while the node's row may still show the copy it had (ci42: n1's disk
    lost right after n2's restart, and nothing to restore it from) - AssertionError if not
    in time."""
    until = time.time() + wait
    while True:
        status = {r["node"]: r for r in cluster.status()}
        rows = {name: r["mirror"] for name, r in status.items()}
        if len(rows) == 3 and all(
                m["state"] == "live" and m["have"] == m["seq"] and m["exposed"] == 0
                and status[m["node"]]["copies"]["copies"].get(name) == m["seq"]
                for name, m in rows.items()):
            return rows
        assert time.time() < until, f"copies not whole after {wait} s: {rows}"
        time.sleep(0.2)


def read(cluster, tmp_path, handle) -> object:
    out = cluster.run_file(write(tmp_path, "read.py", READ), argv=handle, timeout=60)
    assert out.error is None, out.traceback
    return out.value


def test_a_node_gets_its_store_back_however_it_was_lost(tmp_path):
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as cluster:
        handle = cluster.run_file(write(tmp_path, "make.py", MAKE), timeout=60).value
        n1 = cluster.config.nodes["n1"].dir
        whole(cluster)
        cluster.kill("n1")
        shutil.copytree(n1, tmp_path / "n1-old")  # (a disk image of n1, before the set)
        cluster.restart("n1")
        out = cluster.run_file(write(tmp_path, "set.py", SET), argv=handle, timeout=60)
        assert out.error is None, out.traceback
        whole(cluster)

        # its store goes back in time (a disk or VM image restored, a power cut): the copy,
        # further on, is taken - not replaced by the older store
        cluster.kill("n1")
        shutil.rmtree(n1)
        shutil.copytree(tmp_path / "n1-old", n1)
        cluster.restart("n1")
        assert read(cluster, tmp_path, handle) == 5678
        whole(cluster)

        # its disk lost, then a first start that died before it asked its mirror (it left
        # a new, empty store): the next start still asks, and gets the copy
        cluster.kill("n1")
        shutil.rmtree(n1)
        os.makedirs(n1)
        Store(f"{n1}/store.sqlite").close()
        cluster.restart("n1")
        assert read(cluster, tmp_path, handle) == 5678

        # its mirror loses its disk twice while nothing is written: the copy is made again
        # each time; then n1's own disk is lost, and the copy brings it back
        for _ in range(2):
            whole(cluster)
            cluster.kill("n2")
            shutil.rmtree(cluster.config.nodes["n2"].dir)
            cluster.restart("n2")
        whole(cluster)
        cluster.kill("n1")
        shutil.rmtree(n1)
        cluster.restart("n1")
        assert read(cluster, tmp_path, handle) == 5678
        assert "restored from the copy n2 keeps" in (tmp_path / "c" / "n1.log").read_text()


def test_a_store_written_before_it_had_a_mirror_is_copied_when_it_gets_one(tmp_path):
    with swarm.local_cluster(3, directory=str(tmp_path / "c"), replicas=1) as cluster:
        handle = cluster.run_file(write(tmp_path, "make.py", MAKE), timeout=60).value
        for name in ("n1", "n2", "n3"):
            cluster.kill(name)
        cluster.config.replicas = 2  # (or a cluster made before copies: the default is 2)
        cluster.config.save(cluster.config.path)
        for name in ("n2", "n3", "n1"):
            cluster.restart(name)
        rows = whole(cluster)
        assert rows["n1"]["node"] == "n2"
        cluster.kill("n1")
        shutil.rmtree(cluster.config.nodes["n1"].dir)
        cluster.restart("n1")
        assert read(cluster, tmp_path, handle) == 1234
