from swarm import checkpoint
# List comprehensions whose element expressions and conditions call
# checkpointing functions, at top level, in functions, with closures over
# locals and with the comprehension variable not leaking.

calls = []


def g(x):
    calls.append(x)
    checkpoint()
    return x * x


def keep(x):
    checkpoint()
    return x % 2 == 1


xs = [1, 2, 3, 4, 5]
squares = [g(x) for x in xs]
print("squares", squares)
odd_sq = [g(x) for x in xs if keep(x)]
print("odd_sq", odd_sq)


def inside(n, offset):
    base = n * 10
    checkpoint()
    r = [g(i) + base + offset for i in range(n) if keep(i + offset)]
    checkpoint()
    return r, base


print("inside", inside(5, 1))
pairs = [(a, g(b)) for a in "xy" for b in range(3) if keep(b + 1)]
print("pairs", pairs)
x = "outer-x"
leak = [g(x) for x in [7]]
print("x unchanged", x, leak)
print("calls", calls)
RESULT = (squares, odd_sq, pairs, calls)
