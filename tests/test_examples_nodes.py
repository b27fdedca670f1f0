"""Examples that need a cluster, run as a user runs them: `swarm run` as a real process,
starting its own nodes, in a directory of its own (no stray ./.swarm cluster is picked up)."""

import os
import re
import subprocess
import sys

from helpers import ROOT

BIG_DATA = os.path.join(ROOT, "examples", "big_data.py")
TIMING = re.compile(r"get \+ sum: \d+\.\d ms")


def swarm_run(tmp_path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "swarm.cli", "run", *args], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def documented_output(path: str) -> list[str]:
    """The lines under `$ swarm run ...` in the example's docstring."""
    lines = open(path).read().split('"""')[1].splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("$ swarm run"))
    block = []
    for ln in lines[start + 1:]:
        if not ln.startswith("    "):
            break
        block.append(ln.strip())
    return block


def test_big_data_as_documented_at_100_mib(tmp_path):
    # the full size: about 3 s here (most of it making the 13 million floats on n2)
    *lines, timing = swarm_run(tmp_path, BIG_DATA).splitlines()
    *documented, _ = documented_output(BIG_DATA)
    assert lines == documented
    assert TIMING.fullmatch(timing), timing


def test_big_data_takes_its_size_in_mib(tmp_path):
    count = 8 * 2**20 // 8
    *lines, timing = swarm_run(tmp_path, BIG_DATA, "--", "8").splitlines()
    assert lines == [f"made 8 MiB of floats ({count} values) on n2",
                     f"sum {count * (count - 1) // 2} computed on n2"]
    assert TIMING.fullmatch(timing), timing


def test_big_data_fetched_is_summed_on_n1(tmp_path):
    out = swarm_run(tmp_path, BIG_DATA, "2", "--policy", "fetch").splitlines()
    assert out[1] == f"sum {2**18 * (2**18 - 1) // 2} computed on n1"
