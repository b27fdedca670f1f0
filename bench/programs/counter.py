"""The counter workload of issue 20 (bench/isolation.py runs it): 50 programs each add 1 to one
counter 10 times, all at once, spread over the nodes; RESULT is the final count (500 when no
update is lost).

argv: MODE TAG - MODE is `ref` (r.set(r.get() + 1)), `dict` (d[k] = d.get(k, 0) + 1),
`update` (r.update(lambda v: v + 1)), `atomic` (r.set(r.get() + 1) inside swarm.atomic())
or `dict-atomic` (d[k] = d.get(k, 0) + 1 inside swarm.atomic());
TAG names the Dict (a fresh one per run).
"""

import sys

import swarm
from swarm import Dict, Ref, move_to, nodes, spawn

MODE, TAG = sys.argv[1], sys.argv[2]
PROGRAMS, TIMES = 50, 10


def plus_one(v):
    return v + 1


def one(i, r, d):
    move_to(nodes()[i % len(nodes())])  # start on every node in turn
    for _ in range(TIMES):
        if MODE == "ref":
            r.set(r.get() + 1)
        elif MODE == "dict":
            d[TAG] = d.get(TAG, 0) + 1
        elif MODE == "update":
            r.update(plus_one)
        elif MODE == "atomic":
            with swarm.atomic():
                r.set(r.get() + 1)
        elif MODE == "dict-atomic":
            with swarm.atomic():
                d[TAG] = d.get(TAG, 0) + 1
        else:
            raise ValueError(MODE)


r = Ref(0, at="n2")
d = Dict("counter-" + TAG)
futures = [spawn(one, i, r, d) for i in range(PROGRAMS)]
for f in futures:
    f.get()
RESULT = d.get(TAG) if MODE.startswith("dict") else r.get()
print(MODE, RESULT)
