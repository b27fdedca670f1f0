from swarm import checkpoint
# subprocess
def inner(n):
    for i in range(n):
        checkpoint()
        got = yield i
        if got:
            print("inner got", got)
    return "inner-done"
def outer():
    r = yield from inner(3)
    print("result", r)
    yield from [10, 11]
    checkpoint()
g = outer()
print(next(g))
print(g.send("hello"))
checkpoint()
rest = []
for x in g:
    rest.append(x)
print(rest)
def solve(n, row=0, cols=()):
    if row == n:
        yield cols
        return
    for c in range(n):
        if all(c != x and abs(c - x) != row - i for i, x in enumerate(cols)):
            yield from solve(n, row + 1, cols + (c,))
checkpoint()
RESULT = len(list(solve(6)))
