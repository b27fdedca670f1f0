"""Atomic blocks one after another (bench/atomic.py): N blocks of each kind, timed inside the
program. RESULT: {kind: [seconds of each block]}.

Kinds: `one-node` (with atomic(): a read and a write of a Ref on this node), `decorated`
(the same as an @atomic function), `two-node` (a transfer between a Ref here and one on
another node), `update` (Ref.update on this node, for scale)."""

import sys
import time

import swarm
from swarm import Ref, here, move_to, nodes

N = int(sys.argv[1])
home = here()
a = Ref(0)
b = Ref(0, at=[n for n in nodes() if n != home][0])
move_to(home)  # (creating b there moved the program)
RESULT = {}


@swarm.atomic
def bump(r):
    r.set(r.get() + 1)


def plus_one(v):
    return v + 1


for kind in ("one-node", "decorated", "two-node", "update"):
    times = []
    for _ in range(N):
        start = time.perf_counter()
        if kind == "one-node":
            with swarm.atomic():
                a.set(a.get() + 1)
        elif kind == "decorated":
            bump(a)
        elif kind == "two-node":
            with swarm.atomic():
                a.set(a.get() - 1)
                b.set(b.get() + 1)
        else:
            a.update(plus_one)
        times.append(time.perf_counter() - start)
    RESULT[kind] = times
