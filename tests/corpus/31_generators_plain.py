from swarm import checkpoint
# User generator functions that do NOT checkpoint themselves, consumed by for
# (with checkpoints in the loop body), by next() between checkpoints, by
# list()/sum(), and partially consumed generators held across checkpoints.


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def pairs(xs):
    for i, x in enumerate(xs):
        for y in xs[i + 1:]:
            yield x, y
    return "done"


out = []
for v in countdown(4):
    checkpoint()
    out.append(v)
print("countdown", out)
f = fib()
firsts = []
for _ in range(10):
    firsts.append(next(f))
    checkpoint()
print("fib", firsts)
checkpoint()
print("fib continues", next(f), next(f))
print("list", list(countdown(5)), "sum", sum(countdown(100)))
print("pairs", list(pairs("abc")))
p = pairs([1, 2, 3])
checkpoint()
print("first pair", next(p))
checkpoint()
rest = []
for pr in p:
    checkpoint()
    rest.append(pr)
print("rest", rest)
g = countdown(2)
next(g)
next(g)
checkpoint()
try:
    next(g)
except StopIteration:
    checkpoint()
    print("exhausted")
q = pairs([1])
try:
    next(q)
except StopIteration as e:
    print("return value", e.value)
print("default next", next(countdown(0), "dflt"))
RESULT = (out, firsts, rest)
