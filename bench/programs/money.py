"""The money workload of issue 20 (tests/test_atomic.py, bench/isolation.py): two accounts, one
on n1 and one on n2; 10 programs each move money between them 10 times, while 10 readers each
check 10 times that the sum is still the total. RESULT: (torn reads, final total, commits).

argv: MODE - `atomic` (transfers and reads inside swarm.atomic()) or `plain` (without).
"""

import random
import sys

import swarm
from swarm import Ref, move_to, nodes, spawn

MODE = sys.argv[1]
TOTAL, WRITERS, READERS, TIMES = 2000, 10, 10, 10


def transfer(i, a, b):
    move_to(nodes()[i % len(nodes())])
    rng = random.Random(i)
    for _ in range(TIMES):
        x = rng.randint(-50, 50)
        if MODE == "atomic":
            with swarm.atomic():
                a.set(a.get() - x)
                b.set(b.get() + x)
        else:
            a.set(a.get() - x)
            b.set(b.get() + x)
    return TIMES


@swarm.atomic
def total(a, b):
    return a.get() + b.get()


def reader(i, a, b):
    move_to(nodes()[i % len(nodes())])
    torn = 0
    for _ in range(TIMES):
        seen = total(a, b) if MODE == "atomic" else a.get() + b.get()
        torn += seen != TOTAL
    return torn


a = Ref(TOTAL // 2, at="n1")
b = Ref(TOTAL // 2, at="n2")
writers = [spawn(transfer, i, a, b) for i in range(WRITERS)]
readers = [spawn(reader, i, a, b) for i in range(READERS)]
done = sum(f.get() for f in writers)
torn = sum(f.get() for f in readers)
RESULT = (torn, a.get() + b.get(), done)
print(MODE, "torn", torn, "of", READERS * TIMES, "total", RESULT[1], "transfers", done)
