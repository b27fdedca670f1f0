from swarm import checkpoint
# subprocess
# Defect class 12: a suspension reached through C code - sorted(key=...), max(key=...),
# list.sort(key=...), map(), list() over a generator that suspends, functools.partial - is
# seen before anything unwinds: the program goes on there without moving, and migrates at
# the other points as before. Natively and migrated, the same output.
import functools


def key(x):
    checkpoint()
    return -x


def gen(n):
    for i in range(n):
        checkpoint()
        yield i * i


def add(a, b):
    checkpoint()
    return a + b


def main():
    xs = [3, 1, 2]
    checkpoint()
    print(sorted(xs, key=key), max(xs, key=key), min(xs, key=lambda v: key(v) * 2))
    ys = list(xs)
    ys.sort(key=key)
    print(ys, list(map(key, xs)), list(gen(4)), sum(gen(3)))
    inc = functools.partial(add, 1)
    print(inc(41))
    checkpoint()
    return ys


RESULT = main()
print(sorted([5, 4], key=key))
