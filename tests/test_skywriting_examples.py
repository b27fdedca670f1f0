"""examples/skywriting/, run as a user runs them: `swarm run` as a real process starting its
own three nodes. The expected results are computed here in plain Python, not written down."""

import json
import os
import sys
from collections import Counter

from helpers import ROOT, swarm_cli

EXAMPLES = os.path.join(ROOT, "examples", "skywriting")
sys.path.insert(0, EXAMPLES)

import logreg  # noqa: E402 - the examples' own Python steps
import wordcount  # noqa: E402


def swarm_run(tmp_path, script: str, *args: str, options=()) -> tuple[list[str], str]:
    """(the lines printed on stdout, stderr) of `swarm run [OPTIONS] examples/skywriting/SCRIPT
    ARGS`."""
    done = swarm_cli("run", *options, os.path.join(EXAMPLES, script), *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr


def test_hello(tmp_path):
    lines, _ = swarm_run(tmp_path, "hello.sw")
    assert lines == ["Hello, world!", '"Hello, world!"']


def test_fib_with_a_spawn_per_call(tmp_path):
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    lines, stderr = swarm_run(tmp_path, "fib.sw", "12", options=["--trace"])
    assert lines == [str(fib(12))]
    spawned_to = {line.split()[4] for line in stderr.splitlines() if line.endswith(
        "spawn _sk_task")}
    assert len(spawned_to) == 3, "the tasks did not spread over the three nodes"


def test_wordcount_with_the_mapreduce_library(tmp_path):
    lines, _ = swarm_run(tmp_path, "wordcount.sw")
    counts = Counter(w for text in wordcount.CHUNKS
                     for w in text.lower().replace("&", " ").split()
                     for w in ["".join(c for c in w if c.isalpha())] if w)
    expected = sorted(counts.items(), key=lambda wn: (-wn[1], wn[0]))[:5]
    assert lines == [f"{w} {n}" for w, n in expected] + ["5"]


def test_logistic_regression_converges_to_the_plain_python_weights(tmp_path):
    lines, stderr = swarm_run(tmp_path, "logreg.sw", "3", "600", options=["--trace"])
    weights, iterations = logreg.reference(3, 600)
    assert lines[0] == f"converged after {iterations} iterations"
    assert json.loads(lines[1]) == weights  # the same arithmetic in the same order
    # the partitions were made on different nodes, and every gradient task went to its
    # partition: a trace line is "ms program from -> to bytes us why"
    hops = [line.split() for line in stderr.splitlines()[2:]]
    spawns = [h[4] for h in hops if h[-1] == "_sk_exec"]
    partitions, rest = spawns[:3], spawns[3:]
    assert len(set(partitions)) >= 2, partitions
    for i in range(iterations):
        assert rest[5 * i:5 * i + 3] == partitions, i
