"""A large hop to a node that is slow to take it (here: paused) is not sent again every
second - each copy used to be queued in memory on both nodes, and nodes grew until the
kernel killed them (trial 17, finding 1; swarm/node/machine/pacing.py) - and still arrives
once the node wakes, through the reconnect the pause causes (what the old connection held
is refused as `replaced connection`, a stream cut by it as `cut stream`: wire/gate.py,
wire/chunks.py)."""

import os
import signal
import time

from helpers import wait_for, write

import swarm

HOLDS = """
from swarm import here, move_to
big = bytes(range(256)) * (48 * 2**20 // 256)       # 48 MiB in a local: the hop carries it
move_to("n2")
RESULT = (here(), len(big), big[-1])
"""


def test_a_large_hop_to_a_paused_node_is_sent_again_seldom_and_arrives(tmp_path):
    with swarm.local_cluster(2, hop_timeout=60) as cluster:
        pid = cluster.procs["n2"].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            program = cluster.submit(write(tmp_path, "holds.py", HOLDS))
            time.sleep(8)  # n1 sends the hop, and would send it again every second
        finally:
            os.kill(pid, signal.SIGCONT)
        out = cluster.wait(program, timeout=120)
        assert out.error is None, out.traceback
        assert out.value == ("n2", 48 * 2**20, 255)
        rows: dict = {}

        def acknowledged() -> bool:  # (the ack may come a little after the result: n2
            rows.update((row["node"], row) for row in cluster.status())  # writes the hop,
            return rows["n1"]["unacked"] == 0  # then acks it; its program ran meanwhile)

        assert wait_for(acknowledged, timeout=10), rows["n1"]
    # sent once, then again after 1 s + its bytes at 20 MB/s (3.5 s), then 7 s later
    # (before: about once a second while n2 slept, 7 copies of 48 MiB queued)
    assert rows["n1"]["resent"] <= 2, rows["n1"]
