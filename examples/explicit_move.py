"""`move_to(node)`: go to a node on purpose, to make and use data next to where it lives.

    $ swarm run examples/explicit_move.py
    the cluster: n1, n2, n3; starting on n1
    n1: made readings 0..999 here, their sum is 332833500
    n2: made readings 1000..1999 here, their sum is 2331833500
    n3: made readings 2000..2999 here, their sum is 6330833500
    back on n1: total 8995500500 from 3 Refs left where they were made
    a shard read again on n3, where it stayed: 1000 readings
    move_to('n9'): ValueError: unknown node 'n9'; the cluster has ['n1', 'n2', 'n3']
"""
from swarm import Ref, here, move_to, nodes


def make_and_sum(first):
    # A Ref made without `at` lives where the program is now: the shard is made on this
    # node, read here (no hop), and only its handle and its sum leave the function. (Work
    # in a function: a module global holding the readings would travel with the program.)
    shard = Ref([x * x for x in range(first, first + 1000)])
    return shard, sum(shard.get())


print(f"the cluster: {', '.join(nodes())}; starting on {here()}")
shards, total = [], 0
for i, node in enumerate(nodes()):
    move_to(node)  # the program goes to `node` (a no-op on the node it is already on)
    shard, part = make_and_sum(i * 1000)
    shards.append(shard)
    total += part
    print(f"{here()}: made readings {i * 1000}..{i * 1000 + 999} here, their sum is {part}")

move_to("n1")  # home, carrying the handles and the running total - not the readings
print(f"back on {here()}: total {total} from {len(shards)} Refs left where they were made")
count = len(shards[-1].get())  # touching a shard later moves the program to it, as usual
print(f"a shard read again on {here()}, where it stayed: {count} readings")
try:
    move_to("n9")  # not a node of this cluster: refused before anything moves
except ValueError as e:
    print(f"move_to('n9'): ValueError: {e}")
