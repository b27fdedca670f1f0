"""Atomic blocks and Ref.update: the same answers under every policy (docs/atomic.md).

    $ swarm run examples/atomic_transfer.py
    moved 10 twenty times from n1 to n2: n1 has 800, n2 has 1200
    the readers saw 2000 every time: True
    a counter updated 100 times: 100 with update(), 100 in blocks

    $ swarm run --policy fetch examples/atomic_transfer.py
    moved 10 twenty times from n1 to n2: n1 has 800, n2 has 1200
    the readers saw 2000 every time: True
    a counter updated 100 times: 100 with update(), 100 in blocks
"""
import swarm
from swarm import Ref, move_to, nodes, spawn

a = Ref(1000, at="n1")
b = Ref(1000, at="n2")


@swarm.atomic
def move(amount):
    # both writes or neither, and no other block sees one without the other
    a.set(a.get() - amount)
    b.set(b.get() + amount)


@swarm.atomic
def total():
    return a.get() + b.get()


def mover(i):
    move_to(nodes()[i % 3])
    for _ in range(5):
        move(10)


def reader(i):
    move_to(nodes()[i % 3])
    return all(total() == 2000 for _ in range(10))


def counter(i, updated, blocked):
    move_to(nodes()[i % 3])
    for _ in range(10):
        updated.update(lambda v: v + 1)  # runs where the value lives, atomically
        with swarm.atomic():             # a read and a write, atomically
            blocked.set(blocked.get() + 1)


updated, blocked = Ref(0, at="n3"), Ref(0, at="n3")
tasks = [spawn(mover, i) for i in range(4)]
readers = [spawn(reader, i) for i in range(4)]
counters = [spawn(counter, i, updated, blocked) for i in range(10)]
for t in tasks + counters:
    t.get()
print(f"moved 10 twenty times from n1 to n2: n1 has {a.get()}, n2 has {b.get()}")
print(f"the readers saw 2000 every time: {all(r.get() for r in readers)}")
print(f"a counter updated 100 times: {updated.get()} with update(), {blocked.get()} in blocks")
