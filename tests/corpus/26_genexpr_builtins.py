from swarm import checkpoint
# subprocess
# Generator expressions with checkpointing element/condition expressions,
# passed directly to sum, any, all, list, tuple, set, min, max, sorted,
# "".join; short-circuit of any/all must hold; genexp iterated by a for.

seen = []


def g(x):
    seen.append(x)
    checkpoint()
    return x * 3


def pred(x):
    seen.append(("p", x))
    checkpoint()
    return x > 2


xs = [4, 1, 5, 2, 3]
print("sum", sum(g(x) for x in xs))
print("sum-start", sum((g(x) for x in xs[:2]), 100))
del seen[:]
print("any", any(pred(x) for x in [1, 2, 3, 4, 5]), seen)
del seen[:]
print("all", all(pred(x) for x in [5, 4, 1, 6]), seen)
print("list", list(g(x) for x in range(3)))
print("tuple", tuple(g(x) for x in range(2)))
print("set", sorted(set(g(x) % 4 for x in range(6))))
print("min", min(g(x) for x in xs), "max", max(g(x) for x in xs if pred(x)))
print("sorted", sorted(g(x) for x in xs))
print("join", "".join(str(g(x)) for x in range(4)))
print("join-sep", "-".join(chr(97 + g(x) % 26) for x in range(5)))


def f(n):
    checkpoint()
    total = sum(g(i) for i in range(n) if pred(i))
    checkpoint()
    return total


print("f", f(6))
gen = (g(x) for x in range(4))
checkpoint()
acc = []
for v in gen:
    checkpoint()
    acc.append(v)
print("for over genexp", acc)
gen2 = (g(x) + 1 for x in [10, 20, 30])
first = next(gen2)
checkpoint()
second = next(gen2)
rest = []
for v in gen2:
    rest.append(v)
print("next/next/for", first, second, rest)
RESULT = (acc, first, second, rest, f(4))
