"""`python -m bench.hops --cpu` at a tiny size: both nodes' main threads measured (CPU and
run-queue wait per round trip, from schedstat), no timing judged."""

from bench.hops import swarm_cpu


def test_cpu_per_round_trip_is_measured_on_both_nodes():
    res = swarm_cpu(rounds=30, warm=5)
    assert res["available"], res.get("why")
    assert res["round_trip_us"] > 0
    assert set(res["nodes"]) == {"n1", "n2"}
    for figures in res["nodes"].values():
        # every round trip resumes the program on each node: its main thread ran
        assert figures["cpu_us"] > 0 and figures["wait_us"] >= 0
