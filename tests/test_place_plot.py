"""`swarm place --plot`: a picture that never moves data by itself (only with --apply), whose
title says what moved, with weighted edges and the heaviest Refs labelled."""

import json

import pytest
from helpers import swarm_cli
from test_place import SETUP, WORKLOAD, run

import swarm
from cluster.graph import access_graph
from cluster.placer import plan
from cluster.plot import heaviest, short_id, size_text, title
from cluster.policies import keep


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def homes(cluster) -> dict:
    return {ref: r["node"] for r in cluster.stats() for ref in r["refs"]}


def place(cluster, *args: str):
    return swarm_cli("place", "--cluster", cluster.config.path, *args)


def test_plot_alone_moves_nothing_and_apply_carries_the_plan_out(cluster, tmp_path):
    pairs = run(cluster, tmp_path, "setup.py", SETUP).value
    run(cluster, tmp_path, "work.py", WORKLOAD, json.dumps(pairs), 3)
    before = homes(cluster)

    png = tmp_path / "look.png"
    done = place(cluster, "--plot", str(png))
    assert done.returncode == 0, done.stderr
    assert "(plot only: nothing moved; add --apply to carry out the plan)" in done.stdout
    assert "3 moves" in done.stdout, done.stdout
    assert homes(cluster) == before  # the picture moved nothing
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    refused = place(cluster, "--plot", str(png), "--apply", "--dry-run")
    assert refused.returncode == 2 and "contradict" in refused.stderr

    moved_png = tmp_path / "moved.png"
    done = place(cluster, "--plot", str(moved_png), "--apply")
    assert done.returncode == 0, done.stderr
    assert "nothing moved" not in done.stdout
    after = homes(cluster)
    for (a, _), (b, _) in pairs:
        assert after[a] == after[b]  # each pair used together now on one node
    assert moved_png.stat().st_size > 20_000


def graph():
    """Two heavy pairs split over two nodes, a light Ref, a Ref nobody touched."""
    return access_graph([
        {"node": "n1", "refs": {"n1.aaaaaaaa.1": 4096, "n1.aaaaaaaa.2": 100,
                                "n1.aaaaaaaa.3": 10},
         "edges": [["n1.aaaaaaaa.1", "n2.bbbbbbbb.1", 9.0],
                   ["n1.aaaaaaaa.2", "n2.bbbbbbbb.2", 5.0]]},
        {"node": "n2", "refs": {"n2.bbbbbbbb.1": 2048, "n2.bbbbbbbb.2": 50, "lonely": 1},
         "edges": [["n1.aaaaaaaa.3", "n2.bbbbbbbb.2", 0.5]]}])


def test_the_title_says_what_moves_and_the_hops_before_and_after():
    g = graph()
    p = plan(g, ["n1", "n2"], balance=2.0)
    assert p.moves, p
    text = title(p, applied=False)
    assert text.startswith(f"swarm place: {len(p.moves)} Refs (")
    assert "would move (not carried out)" in text
    assert f"cut weight (hops) {p.cut_before:.6g} -> {p.cut_after:.6g}" in text
    for m in p.moves:
        assert f"{m.src}->{m.dst}" in text
    assert " moved: " in title(p, applied=True)
    nothing = plan(g, ["n1", "n2"], policy=keep)
    assert title(nothing, applied=False).startswith("swarm place: nothing to move")


def test_the_heaviest_refs_by_traffic_get_labels():
    g = graph()
    assert heaviest(g, 2) == ["n1.aaaaaaaa.1", "n2.bbbbbbbb.1"]  # 9.0 each, bigger first
    assert "lonely" not in heaviest(g, 10)  # no traffic, no label
    assert short_id("n1.329b165e.18") == "n1.329b…18"
    assert size_text(4096) == "4 KiB" and size_text(100) == "100 B"
