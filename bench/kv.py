"""`swarm place` on a key-value workload with locality, on a real 3-node cluster.

Method (`python -m bench.kv`):
- 40 tenants x 8 keys; each key is one Ref holding [counter, a 200-byte payload], created on
  ``hash_node(f"key{k}", NODES)`` - hash placement of the key;
- a request belongs to one tenant: it reads and increments 4 of that tenant's keys and, one
  time in ten, one key of another tenant (the locality is strong, not perfect). 400 requests,
  seed 11; each request is a program submitted to the front end n1 (bench/programs/kv.py);
- a warm-up pass (the access statistics), a measured pass on hash placement, `swarm place`
  (`cluster.apply.place`, clustered, balance 1.1), the handles' hints refreshed from the nodes'
  reports, and a measured pass after;
- every counter is checked at the end: three passes, so each key was incremented exactly three
  times per time a request names it (no write lost across the moves).

"ideal" is the model count for the tenants' planted homes (tenant t on node t mod 3): the hops
left are the front end's leg to the tenant and the cross-tenant reads.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

NODES = ["n1", "n2", "n3"]
TENANTS, KEYS_PER_TENANT, PER_REQUEST, CROSS, REQUESTS, SEED = 40, 8, 4, 0.1, 400, 11
PAYLOAD = 200
PROGRAM = Path(__file__).resolve().parent / "programs" / "kv.py"

SETUP = """
import json, sys
from swarm import Ref
RESULT = [[r.id, r.hint] for r in
          (Ref([0, "x" * int(sys.argv[2])], at=at) for at in json.loads(sys.argv[1]))]
"""


def workload() -> list[list[int]]:
    rng = random.Random(SEED)
    reqs = []
    for _ in range(REQUESTS):
        t = rng.randrange(TENANTS)
        own = rng.sample(range(t * KEYS_PER_TENANT, (t + 1) * KEYS_PER_TENANT), PER_REQUEST)
        if rng.random() < CROSS:
            other = rng.choice([u for u in range(TENANTS) if u != t])
            own.insert(rng.randrange(len(own) + 1), other * KEYS_PER_TENANT
                       + rng.randrange(KEYS_PER_TENANT))
        reqs.append(own)
    return reqs


def model_hops(reqs, node_of) -> float:
    """Hops per request if key k lives on node_of(k): node changes along n1 -> its keys."""
    total = 0
    for req in reqs:
        path = [NODES[0], *(node_of(k) for k in req)]
        total += sum(a != b for a, b in zip(path, path[1:], strict=False))
    return total / len(reqs)


def run_pass(cluster, handles, reqs) -> tuple[float, float]:
    """Every request once, one program each; hops per request and seconds."""
    hops, t0 = 0, time.perf_counter()
    for req in reqs:
        out = cluster.run_file(str(PROGRAM), argv=[json.dumps(handles), json.dumps([req])],
                               trace=True, timeout=300)
        if out.error:
            raise RuntimeError(f"request failed: {out.error}\n{out.traceback}")
        hops += len(out.trace)
    return hops / len(reqs), time.perf_counter() - t0


def measure() -> dict:
    import swarm
    from cluster.apply import place
    from cluster.policies import hash_node

    reqs = workload()
    n_keys = TENANTS * KEYS_PER_TENANT
    homes = [hash_node(f"key{k}", NODES) for k in range(n_keys)]
    res: dict = {"keys": n_keys, "requests": len(reqs)}
    with tempfile.TemporaryDirectory() as tmp, swarm.local_cluster(3) as cluster:
        setup = Path(tmp) / "setup.py"
        setup.write_text(SETUP)
        out = cluster.run_file(str(setup), argv=[json.dumps(homes), str(PAYLOAD)], timeout=120)
        if out.error:
            raise RuntimeError(f"setup failed: {out.error}\n{out.traceback}")
        handles = out.value
        run_pass(cluster, handles, reqs)  # warm-up: the access statistics
        res["hops_before"], res["pass_s_before"] = run_pass(cluster, handles, reqs)
        plan = place(cluster)
        res.update(moves=len(plan.moves), balance_before=plan.balance_before,
                   balance_after=plan.balance_after, cut_before=plan.cut_before,
                   cut_after=plan.cut_after)
        now = {ref: r["node"] for r in cluster.stats() for ref in r["refs"]}
        handles = [[i, now[i]] for i, _ in handles]
        res["hops_after"], res["pass_s_after"] = run_pass(cluster, handles, reqs)

        check = Path(tmp) / "check.py"
        check.write_text("import json, sys\nfrom swarm.refs import Ref\n"
                         "RESULT = [Ref._handle(*h).get()[0] for h in json.loads(sys.argv[1])]\n")
        counts = cluster.run_file(str(check), argv=[json.dumps(handles)], timeout=300).value
        named = Counter(k for req in reqs for k in req)
        res["lost_writes"] = sum(abs(counts[k] - 3 * named[k]) for k in range(n_keys))
        tenant_home = {k: now[handles[k][0]] for k in range(n_keys)}
    res["model_hash"] = model_hops(reqs, lambda k: homes[k])
    res["model_placed"] = model_hops(reqs, lambda k: tenant_home[k])
    res["model_ideal"] = model_hops(reqs, lambda k: NODES[(k // KEYS_PER_TENANT) % 3])
    return res


def print_table(res: dict) -> None:
    print(f"key-value: {TENANTS} tenants x {KEYS_PER_TENANT} keys ({PAYLOAD} B payloads), "
          f"{res['requests']} requests of {PER_REQUEST} keys of one tenant (+1 other tenant's "
          f"key in {CROSS:.0%}), each a program submitted to n1")
    ratio = res["hops_before"] / res["hops_after"] if res["hops_after"] else float("inf")
    print("| placement | hops/request | model | pass s |")
    print("|---|---:|---:|---:|")
    print(f"| hash | {res['hops_before']:.2f} | {res['model_hash']:.2f} | "
          f"{res['pass_s_before']:.2f} |")
    print(f"| after swarm place | {res['hops_after']:.2f} | {res['model_placed']:.2f} | "
          f"{res['pass_s_after']:.2f} |")
    print(f"| ideal (each tenant on one node) | - | {res['model_ideal']:.2f} | - |")
    print(f"hops ratio {ratio:.2f}x; {res['moves']} moves; balance {res['balance_before']:.3f}"
          f" -> {res['balance_after']:.3f}; lost writes {res['lost_writes']}")


def main() -> dict:
    t0 = time.perf_counter()
    res = measure()
    res["total_s"] = round(time.perf_counter() - t0, 1)
    print_table(res)
    print(f"total {res['total_s']} s (cluster start-up included)")
    if res["lost_writes"]:
        res["errors"] = [f"{res['lost_writes']} writes lost"]
    return res


if __name__ == "__main__":
    main()
