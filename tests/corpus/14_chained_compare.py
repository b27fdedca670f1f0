from swarm import checkpoint
# Chained comparisons whose operands call checkpointing functions. Each operand
# is evaluated at most once, and evaluation stops at the first false link.

order = []


def v(tag, x):
    order.append(tag)
    checkpoint()
    return x


def lo():
    return v("lo", 1)


def mid():
    return v("mid", 5)


def hi():
    return v("hi", 5)


r1 = lo() < mid() <= hi()
print("r1", r1, order)
order.clear()
r2 = v("a", 3) < v("b", 2) < v("c", 9)
print("r2", r2, order)
order.clear()
r3 = v("a", 1) < v("b", 2) < v("c", 3) < v("d", 4) != v("e", 4)
print("r3", r3, order)
order.clear()
r4 = v("a", 1) == v("b", 1) is not v("c", None) in v("d", [1, 2])
print("r4", r4, order)


def in_range(x):
    checkpoint()
    return lo() <= x < v("top", 10)


r5 = [in_range(x) for x in (0, 1, 9, 10)]
print("r5", r5)
order.clear()
if lo() < v("m", 3) < hi():
    checkpoint()
    print("if chain true", order)
RESULT = (r1, r2, r3, r4, r5)
