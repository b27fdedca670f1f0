"""Placement on real nodes: the access statistics every node keeps, and `swarm place`
moving Refs so that the same workload hops less, with every value kept."""

import json
import os
import subprocess
import time

import pytest
from helpers import swarm_cli

import swarm
from swarm.node.machine import access
from swarm.node.machine.access import AccessStats
from swarm.node.program import Program

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP = """
from swarm import Ref
# three pairs of Refs, each pair split over two nodes (as hash placement would do)
at = [("n1", "n2"), ("n2", "n3"), ("n3", "n1")]
RESULT = [[[r.id, r.hint] for r in (Ref(0, at=a), Ref(0, at=b))] for a, b in at]
"""

WORKLOAD = """
import json, sys
from swarm.refs import Ref
pairs = [[Ref._handle(*h) for h in pair] for pair in json.loads(sys.argv[1])]
for _ in range(int(sys.argv[2])):
    for pair in pairs:             # each pair is used together, many times over
        for _ in range(3):
            for r in pair:
                r.set(r.get() + 1)
RESULT = [[r.get() for r in pair] for pair in pairs]
"""


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def run(cluster, tmp_path, name, text, *argv, **kw):
    path = tmp_path / name
    path.write_text(text)
    out = cluster.run_file(str(path), argv=[str(a) for a in argv], timeout=120, **kw)
    assert out.error is None, out.traceback or out.error
    return out


def place_cli(cluster, *args: str) -> subprocess.CompletedProcess:
    done = swarm_cli("place", "--cluster", cluster.config.path, *args)
    assert done.returncode == 0, done.stderr
    return done


def test_swarm_place_groups_refs_used_together_and_loses_nothing(cluster, tmp_path):
    pairs = run(cluster, tmp_path, "setup.py", SETUP).value
    before = run(cluster, tmp_path, "work.py", WORKLOAD, json.dumps(pairs), 4, trace=True)
    assert before.value == [[12, 12]] * 3

    edges: dict = {}
    for report in cluster.stats():  # a -> b is counted where b is, b -> a where a is
        for a, b, weight in report["edges"]:
            edges[a, b] = edges.get((a, b), 0) + weight
    for (a, _), (b, _) in pairs:  # the pair's transitions were counted
        assert edges.get(tuple(sorted((a, b))), 0) >= 4 * 5  # a->b 3 times a round, b->a 2

    dry = place_cli(cluster, "--dry-run")
    assert "(dry run: nothing moved)" in dry.stdout
    assert {r["node"]: len(r["refs"]) for r in cluster.stats()} == {"n1": 2, "n2": 2,
                                                                     "n3": 2}
    done = place_cli(cluster)
    assert "3 moves" in done.stdout, done.stdout
    homes = {ref: r["node"] for r in cluster.stats() for ref in r["refs"]}
    for (a, _), (b, _) in pairs:
        assert homes[a] == homes[b]  # each pair on one node
    assert sorted(homes.values()) == ["n1", "n1", "n2", "n2", "n3", "n3"]  # balanced

    after = run(cluster, tmp_path, "work.py", WORKLOAD, json.dumps(pairs), 4, trace=True)
    assert after.value == [[24, 24]] * 3  # every write kept, through stale hints too
    assert len(after.trace) * 3 < len(before.trace), (len(before.trace), len(after.trace))


def test_place_plot_draws_the_graph_before_and_after(cluster, tmp_path):
    png = tmp_path / "placement.png"
    done = place_cli(cluster, "--dry-run", "--plot", str(png))
    assert f"plot: {png}" in done.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_the_placer_s_own_moves_are_not_counted(cluster, tmp_path):
    text = "from swarm import Ref\na, b = Ref(1, at='n2'), Ref(2, at='n3')\n" \
           "RESULT = a.get() + b.get()\n"
    before = {tuple(e[:2]) for r in cluster.stats() for e in r["edges"]}
    run(cluster, tmp_path, "quiet.py", text, record_access=False)
    assert {tuple(e[:2]) for r in cluster.stats() for e in r["edges"]} == before
    run(cluster, tmp_path, "counted.py", text)
    assert len({tuple(e[:2]) for r in cluster.stats() for e in r["edges"]}) > len(before)


def program() -> Program:
    return Program("p", "client", {})


def test_statistics_stay_bounded_and_keep_the_heaviest_edges(monkeypatch):
    monkeypatch.setattr(access, "MAX_EDGES", 100)
    stats, prog = AccessStats(), program()
    for _ in range(50):  # a heavy edge first
        stats.record(prog, "hot-a")
        stats.record(prog, "hot-b")
    for i in range(1000):  # then a long tail of edges seen once each
        stats.record(prog, f"cold-{i}")
    assert len(stats.edges) <= 100
    assert ("hot-a", "hot-b") in stats.edges


def test_statistics_fade_with_time():
    stats, prog = AccessStats(), program()
    stats.record(prog, "a")
    stats.record(prog, "b")
    assert stats.report("n1", {}, now=access.HALF_LIFE * 2)["edges"] == [["a", "b", 0.25]]


def test_a_program_s_first_refs_are_tied_to_its_first_one_too():
    """A list read, then each thing it names: each is tied to the list (not only the first
    to it, and each to the one before), for the next STAR Refs only."""
    stats, prog = AccessStats(), program()
    for ref in ("list", "a", "b", "c"):
        stats.record(prog, ref)
    assert set(stats.edges) == {("a", "list"), ("a", "b"), ("b", "list"), ("b", "c"),
                                ("c", "list")}
    assert stats.edges["a", "list"] == 1.0  # (a just after the list: counted once)
    for i in range(access.STAR + 10):
        stats.record(prog, f"r{i:03d}")
    tied = {b for a, b in stats.edges if a == "list"} | {a for a, b in stats.edges
                                                         if b == "list"}
    assert len(tied) == access.STAR  # a, b, c and the next STAR - 3, no more


READ_THREE = """
import sys
from swarm.refs import Ref
x, y, z = (Ref._handle(i, h) for i, h in zip(sys.argv[1::2], sys.argv[2::2]))
RESULT = x.get() + y.get() + z.get()
"""


def test_the_first_ref_travels_with_the_program(tmp_path):
    """x on n1, y on n2, z on n3, read in turn (three hops): z is tied to x on n3, where the
    program arrived knowing its first Ref from its hop's meta."""
    with swarm.local_cluster(3, directory=str(tmp_path / "c")) as c:
        made = run(c, tmp_path, "make.py", "from swarm import Ref\nRESULT = [[r.id, r.hint] "
                   "for r in (Ref(1, at='n1'), Ref(2, at='n2'), Ref(3, at='n3'))]\n").value
        out = run(c, tmp_path, "read.py", READ_THREE, *[v for ref in made for v in ref])
        assert out.value == 6 and out.route[-1] == "n3", out.route
        x, z = made[0][0], made[2][0]
        on_n3 = {tuple(e[:2]) for r in c.stats() if r["node"] == "n3" for e in r["edges"]}
        assert tuple(sorted((x, z))) in on_n3, on_n3


def test_auto_place_moves_refs_used_together_on_its_own(tmp_path):
    """`auto_place` in the cluster file: the first node runs `swarm place --min-gain` every
    second; the pairs end up together with nobody asking, and a settled cluster stays put."""
    with swarm.local_cluster(3, directory=str(tmp_path / "c"), auto_place=1.0) as c:
        pairs = run(c, tmp_path, "setup.py", SETUP).value
        before = run(c, tmp_path, "work.py", WORKLOAD, json.dumps(pairs), 4, trace=True)

        def together() -> bool:
            homes = {ref: r["node"] for r in c.stats() for ref in r["refs"]}
            return all(homes[a] == homes[b] for (a, _), (b, _) in pairs)

        deadline = time.monotonic() + 60
        while not together() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert together(), (tmp_path / "c" / "n1.log").read_text()
        after = run(c, tmp_path, "work.py", WORKLOAD, json.dumps(pairs), 4, trace=True)
        assert after.value == [[24, 24]] * 3
        assert len(after.trace) * 3 < len(before.trace)
        deadline = time.monotonic() + 60  # a round on the settled cluster (however busy the
        while time.monotonic() < deadline:  # machine is, a round comes every second or so)
            rounds = [line for line in (tmp_path / "c" / "n1.log").read_text().splitlines()
                      if "auto-place:" in line]
            if len(rounds) >= 2 and "3 moves" not in rounds[-1]:
                break
            time.sleep(0.5)
    logs = {name: (tmp_path / "c" / f"{name}.log").read_text() for name in ("n1", "n2", "n3")}
    rounds = [line for line in logs["n1"].splitlines() if "auto-place:" in line]
    assert any("3 moves" in line for line in rounds), rounds
    assert "nothing moved" in rounds[-1] or "0 moves" in rounds[-1], rounds
    assert "auto-place" not in logs["n2"] + logs["n3"]  # one placer per cluster
