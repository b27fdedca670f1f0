"""`python -m bench.hoprev` at a tiny size: a revision's tree extracted with git archive and its
own nodes measured (the tree's swarm, not this checkout's), no timing judged."""

import os
import subprocess

import pytest

from bench import hoprev

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git(*args) -> str:
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_revision_is_measured_in_its_own_tree(tmp_path, monkeypatch):
    try:
        head = _git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    monkeypatch.chdir(ROOT)
    tree = hoprev.extract("HEAD", str(tmp_path))
    assert os.path.basename(tree) == head
    assert os.path.exists(os.path.join(tree, "swarm", "node", "shell.py"))
    assert hoprev.extract("HEAD", str(tmp_path)) == tree  # (made once)
    res = hoprev.measure(tree, rounds=20, size=64)
    assert "error" not in res, res.get("error")
    assert res["swarm"] == os.path.join(tree, "swarm")  # the tree's code ran, not ours
    assert res["round_trip_us"] > 0
    for node in ("n1", "n2"):
        assert res[node]["cpu_us"] > 0 and res[node]["wait_us"] >= 0
        assert res[node]["all_threads_us"] >= res[node]["cpu_us"]
