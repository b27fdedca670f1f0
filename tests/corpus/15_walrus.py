from swarm import checkpoint
# Assignment expressions (walrus) binding results of checkpointing calls, in
# if/while conditions, comprehensions and plain expressions.


def f(x):
    checkpoint()
    return x * 2


def reader(data):
    pos = 0

    def read():
        nonlocal pos
        checkpoint()
        if pos >= len(data):
            return None
        pos += 1
        return data[pos - 1]
    return read


if (n := f(21)) > 40:
    checkpoint()
    print("n", n)

rd = reader([3, 1, 4, 1, 5])
chunks = []
while (item := rd()) is not None:
    checkpoint()
    chunks.append(item)
print("chunks", chunks, "item", item)

ys = [y for x in range(6) if (y := f(x)) % 4 == 0]
print("ys", ys, "y leaked", y)
total = (a := f(1)) + (b := f(a)) + f(b)
print("total", total, a, b)


def g(xs):
    out = []
    for x in xs:
        if (d := f(x)) > 5 and (e := f(d)) < 30:
            checkpoint()
            out.append((d, e))
    return out


print("g", g([1, 3, 4, 7]))
RESULT = (n, chunks, ys, y, total, g([5, 6]))
