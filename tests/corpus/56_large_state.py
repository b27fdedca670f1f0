from swarm import checkpoint
# Larger data carried across checkpoints: a 20k-element list, a dict of 2k
# entries, nested lists, bytes, tuples sharing sub-objects (aliasing must be
# preserved across a resume), floats, big ints, frozensets of ints.

big = list(range(20000))
table = {i: str(i) * 3 for i in range(2000)}
shared = [1, 2, 3]
alias = {"a": shared, "b": shared, "t": (shared, shared)}
blob = bytes(range(256)) * 4
bigint = 3 ** 300
fs = frozenset(range(0, 100, 7))
floats = [i / 7 for i in range(10)]
checkpoint()
print("sum big", sum(big), "len table", len(table), table[1999])


def mutate():
    checkpoint()
    shared.append(4)
    big[-1] = -1
    checkpoint()
    return alias["b"], alias["t"][1] is alias["a"], alias["a"] is shared


print("mutate", mutate())
checkpoint()
print("aliasing", alias["a"] is alias["b"], alias["t"][0] is shared, shared)
print("blob", len(blob), blob[250:260], sum(blob) % 1000)
print("bigint", bigint % 1000003, len(str(bigint)))
print("fs", sorted(fs), 14 in fs)
print("floats", floats[1], sum(floats), repr(0.1 + 0.2))
self_ref = [1]
self_ref.append(self_ref)
checkpoint()
print("self_ref", self_ref[1] is self_ref, len(self_ref))
print("big tail", big[-3:], "sum", sum(big))
RESULT = (sum(big), table[7], alias["a"], bigint % 97, sorted(fs))
