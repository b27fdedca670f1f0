"""The long garbage collection test (the short one: tests/test_gc.py): 10,000 programs each
make five temporary Refs, on two nodes; one collection gives the stores back. Run with
SWARM_LONG=1 (`make faults`); skipped otherwise. About a minute on a 2-core machine."""

import os

import pytest

import swarm
from bench.gc import report

pytestmark = pytest.mark.skipif(os.environ.get("SWARM_LONG") != "1",
                                reason="long: run with SWARM_LONG=1 (make faults)")


def test_10000_programs_temporary_refs_are_collected(tmp_path):
    with swarm.local_cluster(3) as cluster:
        r = report(cluster, str(tmp_path), 10_000)
    print(r)
    start, after = r["start"], r["after_gc"]
    assert r["after_programs"]["refs"] >= start["refs"] + 50_000, r
    assert after["refs"] <= start["refs"] * 1.1 and after["bytes"] <= start["bytes"] * 1.1, r
    assert r["deleted"] == 50_000, r
