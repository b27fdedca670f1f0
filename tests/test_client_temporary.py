"""The directory of a temporary cluster whose process was SIGKILLed is removed when the next
temporary cluster starts - and nothing else: not a directory without the marker, nor one
whose process is alive (swarm/tempdirs.py). Real processes: a script that starts a cluster
and is killed, its node that stops by itself, then a new cluster."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from helpers import ROOT, wait_for

from swarm import tempdirs
from swarm.embedded import local_cluster

KEEPS_A_CLUSTER = """\
import time
from swarm.embedded import local_cluster
cluster = local_cluster(1)
print(cluster.directory, flush=True)
time.sleep(120)
"""


def test_a_killed_processs_directory_goes_at_the_next_start_and_nothing_else():
    owner = subprocess.Popen([sys.executable, "-c", KEEPS_A_CLUSTER], text=True,
                             stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        left = owner.stdout.readline().strip()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    with open(os.path.join(left, tempdirs.OWNER_FILE)) as f:
        pids = [pid for pid, _ in json.load(f)["processes"]]
    assert pids[0] == owner.pid and len(pids) == 2  # it, and its node
    assert wait_for(lambda: not os.path.exists(f"/proc/{pids[1]}"), timeout=30)  # (stops)
    assert os.path.isdir(left)
    unmarked = tempfile.mkdtemp(prefix=tempdirs.PREFIX)  # not provably ours
    alive = tempfile.mkdtemp(prefix=tempdirs.PREFIX)  # ours, and its process lives
    tempdirs.mark(alive, [])
    try:
        with local_cluster(1):
            assert not os.path.exists(left)
            assert os.path.isdir(unmarked) and os.path.isdir(alive)
    finally:
        shutil.rmtree(unmarked)
        shutil.rmtree(alive)


def test_a_pid_taken_by_another_process_does_not_keep_a_directory(tmp_path):
    """The marker's pid is alive but started at another time: the pid was reused."""
    directory = tempfile.mkdtemp(prefix=tempdirs.PREFIX, dir=tmp_path)
    with open(os.path.join(directory, tempdirs.OWNER_FILE), "w") as f:
        json.dump({"processes": [[os.getpid(), tempdirs.start_time(os.getpid()) - 1]]}, f)
    assert tempdirs.remove_leftovers(str(tmp_path)) == [directory]
