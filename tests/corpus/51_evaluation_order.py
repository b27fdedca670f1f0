from swarm import checkpoint
# Evaluation order with checkpointing sub-expressions: call arguments
# (positional, starred, keyword, double-starred), binary operators,
# subscript/attribute assignment targets, augmented assignment, tuple
# unpacking, f-strings, slices, and dict/list displays.

order = []


def v(tag, val):
    order.append(tag)
    checkpoint()
    return val


def show(*a, **kw):
    return a, sorted(kw.items())


class Box:
    def __init__(self):
        self.items = {"k": 1}
        self.n = 10


def take(label):
    print(label, order)
    r = list(order)
    del order[:]
    return r


results = []
results.append(show(v("a", 1), *v("b", [2, 3]), v("c", 4), k=v("d", 5), **v("e", {"z": 6})))
results.append(take("call"))
results.append(v("a", 2) + v("b", 3) * v("c", 4) - v("d", 1) ** v("e", 2))
results.append(take("binops"))
box = Box()
grid = [[0, 0], [0, 0]]
grid[v("row", 1)][v("col", 0)] = v("value", 9)
results.append(take("subscript-assign"))
box.items[v("key", "k")] += v("inc", 5)
box.n -= v("dec", 3)
results.append(take("augmented"))
a, (b, c), *rest = v("rhs", [1, (2, 3), 4, 5])
results.append(take("unpack"))
s = f"{v('f1', 'x')}-{v('f2', 3):03d}-{v('f3', 2.5)!r}"
results.append(take("fstring"))
seq = list(range(10))
sl = seq[v("lo", 2):v("hi", 8):v("step", 2)]
results.append(take("slice"))
disp = {v("k1", "a"): v("v1", 1), v("k2", "b"): v("v2", 2)}
lst = [v("l1", 1), *v("l2", (2, 3)), v("l3", 4)]
results.append(take("displays"))
cmp = (v("x", 1), v("y", 2)) < (v("z", 1), v("w", 3))
results.append(take("tuple-compare"))
checkpoint()
print("values", grid, box.items, box.n, a, b, c, rest, s, sl, disp, lst, cmp)
RESULT = (results, grid, box.items, box.n, s, sl, disp, lst)
