from swarm import checkpoint
# subprocess
# Each kind of place a function's one capture handler finds its point from (issue 15 item
# 17): a call (plain, a method, spanning lines), a `for` advancing a generator, a native
# `yield from`, `__enter__` of a `with` (at its keyword), a call in an `except ... as e`
# handler (the exception kept in a second name), two points at one position (the copies
# of a `finally` holding a point keep their own handlers), and resumed frames calling on.


def gen(n):
    for i in range(n):
        checkpoint()
        yield i


def inner(x):
    checkpoint()
    return x + 1


def deleg(n):
    r = yield from gen(n)
    checkpoint()
    return r


class Box:
    def __init__(self):
        self.log = []

    def __enter__(self):
        checkpoint()
        self.log.append("enter")
        return self

    def __exit__(self, *exc):
        self.log.append("exit")
        return False

    def add(self, v):
        checkpoint()
        self.log.append(v)
        return v


def outer(n):
    total = 0
    for v in gen(n):
        total += inner(v)
    with Box() as b:
        total += b.add(
            inner(2))
    try:
        raise ValueError(total)
    except ValueError as e:
        total += inner(e.args[0])
        total += e.args[0]
    for v in deleg(3):
        total += v
    try:
        total += inner(1)
    finally:
        total += inner(100)
    return total, b.log


RESULT = outer(3)
print(RESULT)
