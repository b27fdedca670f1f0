"""A collection's steps asked of other nodes are done once (swarm/node/collchain.py), with
real nodes: a program whose node is SIGKILLed after its append was answered runs again and
asks again - answered as the first time, not appended again, though the List's tail moved
on meanwhile. (The kill storm: tests/faults/test_colls_kill.py; the protocol under every
fault: tests/test_sim_colls.py.)"""

import os
import threading
import time

from helpers import write

import swarm
from swarm.node.colldata import root_id

NAME = "once-2"  # root and chunk 0 on n2, chunk 1 on n3 (chunk=2)
assert root_id(NAME, ["n1", "n2", "n3"]).startswith("n2.")

APPENDS_THEN_WAITS = f"""
import os, sys, time
from swarm import Dict, List
flag = sys.argv[1]
i = List({NAME!r}, chunk=2).append("mine")   # asked of n2 (fetch): done there, answered
Dict("once-d")["k"] = "set"                   # an implicit call: asked, under any policy
open(flag + ".ready", "a").close()  # (another program appends 3; n1 is killed; it runs again)
deadline = time.time() + 60
while not os.path.exists(flag + ".go") and time.time() < deadline:
    time.sleep(0.05)
RESULT = i
"""

OTHERS = f"""
from swarm import Dict, List
l = List({NAME!r}, chunk=2)
for v in ("a", "b", "c"):
    l.append(v)          # chunk 0 fills: the tail moves on to chunk 1, on n3
Dict("once-d")["k"] = "other"
"""

READ = f"""
from swarm import Dict, List
RESULT = [list(List({NAME!r})), Dict("once-d")["k"]]
"""


def test_an_append_asked_of_another_node_is_not_done_again_after_a_crash(tmp_path):
    """Before: the program ran again from its submission, asked n2 to append again, and n2
    - its tail now chunk 1 - appended "mine" a second time, at index 4 (the SIGKILL test
    under --policy fetch made 2 of 96 appends three times). Now its asks carry ids and
    follow the route their kept answers give: the second run gets index 0 again, the List
    holds "mine" once, and the Dict's key keeps the other program's later value."""
    flag = str(tmp_path / "flag")
    with swarm.local_cluster(3, directory=str(tmp_path / "cluster")) as cluster:
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(out=cluster.run_file(
            write(tmp_path, "p.py", APPENDS_THEN_WAITS), argv=[flag], policy="fetch",
            node="n1", timeout=120)))
        runner.start()
        deadline = time.monotonic() + 60
        while not os.path.exists(flag + ".ready") and time.monotonic() < deadline:
            time.sleep(0.01)
        others = cluster.run_file(write(tmp_path, "o.py", OTHERS), node="n3", timeout=60)
        assert others.error is None, others.traceback
        os.remove(flag + ".ready")
        cluster.kill("n1")
        cluster.restart("n1")
        while not os.path.exists(flag + ".ready") and time.monotonic() < deadline:
            time.sleep(0.01)  # (it ran again, up to where it waits)
        open(flag + ".go", "w").close()
        runner.join()
        out = outcome["out"]
        assert out.error is None, out.traceback
        assert out.value == 0
        read = cluster.run_file(write(tmp_path, "r.py", READ), timeout=60)
        assert read.error is None, read.traceback
        assert read.value == [["mine", "a", "b", "c"], "other"]
        assert sum(row["answered_again"] for row in cluster.status()) >= 2
