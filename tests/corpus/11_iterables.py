from swarm import checkpoint
# subprocess
# for-loops over every kind of iterable with a checkpoint inside each loop body:
# list, tuple, str, dict, keys(), values(), items(), set of ints, range,
# enumerate, zip, reversed, and a dict mutated (values only) during iteration.

log = []

for x in [3, 1, 2]:
    checkpoint()
    log.append(("list", x))
for x in (10, 20):
    checkpoint()
    log.append(("tuple", x))
for ch in "héllo":
    checkpoint()
    log.append(("str", ch))
d = {"one": 1, "two": 2, "three": 3}
for k in d:
    checkpoint()
    log.append(("dict", k))
for k in d.keys():
    checkpoint()
    log.append(("keys", k))
for v in d.values():
    checkpoint()
    log.append(("values", v))
for k, v in d.items():
    checkpoint()
    d[k] = v * 10
    log.append(("items", k, v))
for n in {5, 3, 9, 1}:
    checkpoint()
    log.append(("set", n))
for i in range(10, 0, -3):
    checkpoint()
    log.append(("range", i))
for i, s in enumerate(["a", "b", "c"], start=1):
    checkpoint()
    log.append(("enumerate", i, s))
for a, b in zip([1, 2, 3, 4], "xyz"):
    checkpoint()
    log.append(("zip", a, b))
for x in reversed([7, 8, 9]):
    checkpoint()
    log.append(("reversed", x))
for x in reversed(range(3)):
    checkpoint()
    log.append(("reversed-range", x))
for i, (a, b) in enumerate(zip(range(3), reversed("abc"))):
    checkpoint()
    log.append(("enum-zip-rev", i, a, b))
for k, v in sorted(d.items()):
    checkpoint()
    log.append(("sorted-items", k, v))


def in_function(data):
    out = []
    for key, values in data.items():
        for idx, v in enumerate(values):
            checkpoint()
            out.append((key, idx, v))
    for t in zip(*data.values()):
        checkpoint()
        out.append(t)
    return out


fr = in_function({"p": [1, 2], "q": [3, 4]})
for entry in log:
    print(*entry)
print("fr", fr)
print("d", d)
RESULT = (log, fr, d)
