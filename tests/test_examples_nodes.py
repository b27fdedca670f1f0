"""Examples that need a cluster, run as a user runs them: `swarm run` as a real process,
starting its own nodes, in a directory of its own (no stray ./.swarm cluster is picked up).
Each documented run (a `$ swarm run ...` line in the example's docstring and the indented
block under it) is run with the same arguments and must print exactly that block."""

import os
import re
import shlex
import subprocess

from helpers import ROOT, swarm_cli

EXAMPLES = os.path.join(ROOT, "examples")
BIG_DATA = os.path.join(EXAMPLES, "big_data.py")
TIMING = re.compile(r"get \+ sum: \d+\.\d ms")


def run_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    done = swarm_cli("run", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done


def swarm_run(tmp_path, *args: str) -> str:
    return run_cli(tmp_path, *args).stdout


def documented_runs(path: str) -> list[tuple[list[str], list[str]]]:
    """Each `$ swarm run [OPTIONS] examples/X.py [ARGS]` in the example's docstring: (what
    follows `swarm run`, the file as FILE, and the lines of the indented block under it).
    Options come before the file, as `swarm run` takes them (all after it is the
    program's)."""
    lines = open(path).read().split('"""')[1].splitlines()
    runs = []
    for i, line in enumerate(lines):
        if not line.strip().startswith("$ swarm run"):
            continue
        args = ["FILE" if a.startswith("examples/") else a
                for a in shlex.split(line.strip(), comments=True)[3:]]  # after `$ swarm run`
        block = []
        for ln in lines[i + 1:]:
            if not ln.startswith("    "):
                break
            block.append(ln.strip())
        runs.append((args, block))
    return runs


def documented_output(path: str) -> list[str]:
    """The lines under the first `$ swarm run ...` in the example's docstring."""
    return documented_runs(path)[0][1]


def run_as_documented(tmp_path, name: str, run: int = 0, extra: tuple = ()) -> list[str]:
    """Run the example's `run`-th documented command (plus `extra` arguments); assert it
    prints the documented lines; return what it wrote to stderr, line by line."""
    path = os.path.join(EXAMPLES, name)
    args, documented = documented_runs(path)[run]
    args = [path if a == "FILE" else a for a in args]
    done = run_cli(tmp_path, *extra, *args)  # (extra: swarm's options, e.g. --show-node)
    assert done.stdout.splitlines() == documented
    return done.stderr.splitlines()


def test_force_remote_as_documented(tmp_path):
    # creating the Ref on n3 took the program there; each read moved it to its Ref
    stderr = run_as_documented(tmp_path, "force_remote.py", 0, ("--show-node",))
    assert stderr[-1] == "[swarm] ran on n1 -> n3 -> n1 -> n3"


def test_force_remote_with_the_fetch_policy_as_documented(tmp_path):
    stderr = run_as_documented(tmp_path, "force_remote.py", 1, ("--show-node",))
    assert documented_runs(os.path.join(EXAMPLES, "force_remote.py"))[1][0] == \
        ["--policy", "fetch", "FILE"]
    assert stderr[-1] == "[swarm] ran on n1"  # the values came to the program


def test_explicit_move_as_documented(tmp_path):
    stderr = run_as_documented(tmp_path, "explicit_move.py", 0, ("--show-node",))
    assert stderr[-1] == "[swarm] ran on n1 -> n2 -> n3 -> n1 -> n3"


def test_relocate_as_documented(tmp_path):
    stderr = run_as_documented(tmp_path, "relocate.py", 0, ("--show-node",))
    # the stale handle's read: from n1 (the index) forwarded to n3, then to n2
    assert stderr[-1] == "[swarm] ran on n1 -> n3 -> n1 -> n3 -> n2"


def test_spawn_futures_as_documented(tmp_path):
    run_as_documented(tmp_path, "spawn_futures.py")


def test_big_data_as_documented_at_100_mib(tmp_path):
    # the full size: about 3 s here (most of it making the 13 million floats on n2)
    *lines, timing = swarm_run(tmp_path, BIG_DATA).splitlines()
    *documented, _ = documented_output(BIG_DATA)
    assert lines == documented
    assert TIMING.fullmatch(timing), timing


def test_big_data_takes_its_size_in_mib(tmp_path):
    count = 8 * 2**20 // 8
    *lines, timing = swarm_run(tmp_path, BIG_DATA, "8").splitlines()
    assert lines == [f"made 8 MiB of floats ({count} values) on n2",
                     f"sum {count * (count - 1) // 2} computed on n2"]
    assert TIMING.fullmatch(timing), timing


def test_big_data_fetched_is_summed_on_n1(tmp_path):
    out = swarm_run(tmp_path, "--policy", "fetch", BIG_DATA, "2").splitlines()
    assert out[1] == f"sum {2**18 * (2**18 - 1) // 2} computed on n1"


def test_atomic_transfer_as_documented_under_each_policy(tmp_path):
    for run in range(len(documented_runs(os.path.join(EXAMPLES, "atomic_transfer.py")))):
        run_as_documented(tmp_path, "atomic_transfer.py", run)
