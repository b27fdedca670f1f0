from swarm import checkpoint
# Conditional expressions `a if c else b` where a, b and c call checkpointing
# functions; only the chosen branch must run.

calls = []


def val(tag, v):
    calls.append(tag)
    checkpoint()
    return v


def test(c):
    checkpoint()
    return c


r1 = val("a1", 1) if test(True) else val("b1", 2)
print("r1", r1, calls)
r2 = val("a2", 1) if test(False) else val("b2", 2)
print("r2", r2, calls)


def nested(n):
    return (val("neg", "negative") if n < 0 else
            val("zero", "zero") if n == 0 else
            val("big", "big") if val("check", n) > 100 else
            val("small", "small"))


rs = [nested(n) for n in (-5, 0, 500, 5)]
print("rs", rs)
print("calls", calls)
checkpoint()
z = (val("x", 10) if val("c", 0) else 7) + (val("y", 20) if val("c2", 1) else 0)
print("z", z, calls[-4:])
RESULT = (r1, r2, rs, z, calls)
