from swarm import checkpoint
# subprocess
# Five distinct functions then a 56-deep recursive chain (61+ frames), checkpoints on the
# way down and on the way back up.

trace = []


def level(n, acc):
    checkpoint()
    marker = n * 3 + 1
    if n == 0:
        checkpoint()
        trace.append("bottom")
        return acc + [marker]
    res = level(n - 1, acc + [marker])
    checkpoint()
    if n % 10 == 0:
        trace.append(n)
    return res + [marker - 1]


def f5(v):
    checkpoint()
    r = level(55, [v])
    checkpoint()
    return len(r), r[:3], r[-3:]


def f4(v):
    a = v + 4
    checkpoint()
    return f5(a), a


def f3(v):
    a = v + 3
    checkpoint()
    res = f4(a)
    checkpoint()
    return res, a


def f2(v):
    a = v + 2
    res = f3(a)
    checkpoint()
    return res, a


def f1(v):
    a = v + 1
    checkpoint()
    return f2(a), a


out = f1(0)
print("out", out)
print("trace", trace)
checkpoint()
RESULT = (out, trace)
