from swarm import checkpoint
# Dict and set comprehensions (sets of small ints only) with checkpointing key
# and value expressions and conditions.


def key(s):
    checkpoint()
    return s.upper()


def val(s):
    checkpoint()
    return len(s)


def ok(s):
    checkpoint()
    return "a" in s


words = ["apple", "kiwi", "banana", "fig", "grape"]
d1 = {key(w): val(w) for w in words}
print("d1", d1)
d2 = {w: val(w) * 2 for w in words if ok(w)}
print("d2", d2)
s1 = {val(w) for w in words}
print("s1", sorted(s1))
s2 = {val(w) % 3 for w in words if not ok(w)}
print("s2", sorted(s2))


def invert(d):
    checkpoint()
    return {v: key(k) for k, v in d.items()}


inv = invert({"x": 1, "y": 2})
print("inv", inv)
checkpoint()
nested = {k: {i: val(k * i) for i in range(1, 3)} for k in ["ab", "c"]}
print("nested", nested)
RESULT = (d1, d2, sorted(s1), sorted(s2), inv, nested)
