from swarm import checkpoint
# subprocess
# Generators whose bodies call checkpoint() (before/after yields, in loops, in
# try/finally), consumed by for loops and next() in user code; two generators
# interleaved; a generator that calls a checkpointing function.

log = []


def produce(n):
    log.append("produce start")
    checkpoint()
    for i in range(n):
        checkpoint()
        log.append("yielding %d" % i)
        yield i * i
        checkpoint()
        log.append("resumed after %d" % i)
    checkpoint()
    log.append("produce end")


def helper(x):
    checkpoint()
    return x + 0.5


def with_helper(xs):
    total = 0
    for x in xs:
        total += x
        v = helper(total)
        yield v


def guarded(n):
    try:
        for i in range(n):
            checkpoint()
            yield i
    finally:
        log.append("guarded finally")


res = []
for v in produce(3):
    checkpoint()
    res.append(v)
print("for", res)

gen = produce(2)
a = next(gen)
checkpoint()
b = next(gen)
try:
    next(gen)
except StopIteration:
    checkpoint()
    log.append("stop")
print("next", a, b)

g1 = with_helper([1, 2, 3])
g2 = guarded(3)
inter = []
for _ in range(3):
    inter.append(next(g1))
    checkpoint()
    inter.append(next(g2))
print("interleaved", inter)
for v in g2:
    print("never", v)


def consumer():
    acc = []
    for v in with_helper(range(4)):
        checkpoint()
        acc.append(v)
    return acc


print("consumer", consumer())
for line in log:
    print(" ", line)
RESULT = (res, a, b, inter, log)
