"""The money workload's programs (tests/faults/test_money.py, tests/test_grow.py): accounts
are Refs holding [balance, history]; a transfer debits one and credits another, each on its
own node, and writes its id into both histories."""

import random

SETUP = """
import json, sys
from swarm import Ref
RESULT = [[r.id, r.hint] for r in (Ref([int(sys.argv[2]), []], at=at)
                                   for at in json.loads(sys.argv[1]))]
"""

TRANSFER = """
import sys
from swarm.refs import Ref
src, dst = Ref._handle(sys.argv[1], sys.argv[2]), Ref._handle(sys.argv[3], sys.argv[4])
tid, amount = sys.argv[5], int(sys.argv[6])
balance, history = src.get()              # on the debited account's node
src.set([balance - amount, history + ["-" + tid]])
balance, history = dst.get()              # on the credited account's node
dst.set([balance + amount, history + ["+" + tid]])
RESULT = tid
"""

READ_ALL = """
import json, sys
from swarm.refs import Ref
RESULT = [Ref._handle(*h).get() for h in json.loads(sys.argv[1])]
"""


def transfers(handles: list, n: int, seed: int) -> list[tuple]:
    """n transfers between accounts on different nodes: (tid, src, dst, amount)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        src, dst = rng.sample(range(len(handles)), 2)
        while handles[src][1] == handles[dst][1]:
            dst = rng.randrange(len(handles))
        out.append((f"t{i}", src, dst, rng.randint(1, 50)))
    return out
