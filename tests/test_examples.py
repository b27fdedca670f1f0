"""Every example and the demo run as a new user runs them."""

import glob
import os
import subprocess
import sys

import pytest
from helpers import ROOT

from swarm.driver import run_migrating, run_native

# examples that need no cluster (Ref examples run on real nodes in test_nodes.py)
EXAMPLES = [p for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))
            if "import Ref" not in open(p).read() and "Ref," not in open(p).read()]
MULTI = os.path.join(ROOT, "tests", "programs", "multimodule", "main.py")


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_example_migrates(path):
    native, migrated = run_native(path), run_migrating(path, subprocess=True)
    assert migrated.error is None and migrated.suspensions > 0
    # the tour prints pids, which differ when it migrates: compare the rest of each line
    strip = [ln.split(" in process")[0] for ln in native.stdout.splitlines()]
    assert [ln.split(" in process")[0] for ln in migrated.stdout.splitlines()][:-1] == strip[:-1]


def test_tour_really_changes_process():
    out = run_migrating(os.path.join(ROOT, "examples", "tour.py"), subprocess=True)
    assert out.result == 2  # two worker processes took turns
    pids = {ln.rsplit(" ", 1)[1] for ln in out.stdout.splitlines() if "in process" in ln}
    assert len(pids) == 2 and str(os.getpid()) not in pids


def test_demo_runs_as_a_process():
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "swarm.demo"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("bumble bee read on n1\nhoney bee read on n2\nstingless bee read on n3\n"
            in done.stdout)
    assert "the program ran on n1 -> n2 -> n3 -> n1 -> n2 -> n3" in done.stdout
    assert done.stdout.count("  hop ") == 5


@pytest.mark.parametrize("processes", [False, True])
def test_user_modules_beside_the_script_migrate(processes):
    native, migrated = run_native(MULTI), run_migrating(MULTI, subprocess=processes)
    assert native.error is None
    assert (migrated.stdout, migrated.result, migrated.error) == \
        (native.stdout, native.result, native.error)
    assert migrated.suspensions >= 10  # frames inside shapes.py were captured too
