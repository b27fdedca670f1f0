"""One of several programs running atomic blocks at once (bench/atomic.py, the cost of a
conflict): `N` two-node blocks, each moving 1 from the Ref whose id is argv[2] (on the
program's node) to the one whose id is argv[3] (on another node), as an @atomic function.
RESULT: the seconds of its N blocks."""

import sys
import time

import swarm
from swarm import Ref, move_to

N = int(sys.argv[1])
src, dst = Ref.open(sys.argv[2]), Ref.open(sys.argv[3])
move_to(src.hint)


@swarm.atomic(attempts=10_000)
def transfer(a, b):
    a.set(a.get() - 1)
    b.set(b.get() + 1)


start = time.perf_counter()
for _ in range(N):
    transfer(src, dst)
RESULT = time.perf_counter() - start
