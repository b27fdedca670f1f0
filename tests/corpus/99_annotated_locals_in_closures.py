from swarm import checkpoint
# subprocess
# Annotated locals that a nested function uses (the compiler boxes them into cells): with a
# value, alone (`x: int`, assigned later), assigned by the suspension point itself, in
# functions, methods and generators. CPython never evaluates a local's annotation: one naming
# nothing must not raise, and the function's __annotations__ holds only its parameters.


def produce(v):
    checkpoint()
    return v


def with_value():
    xs: list = [1, 2]
    def first(): return xs[0]
    checkpoint()
    xs.append(3)
    return first(), xs


def alone_then_assigned():
    n: int
    def get(): return n
    n = produce(5)
    checkpoint()
    return get()


def assigned_at_a_point():
    total: int = produce(10)
    bump = lambda d: total + d  # noqa: E731
    checkpoint()
    return bump(1)


def set_by_the_closure():
    count: int
    def inc():
        nonlocal count
        count = produce(count + 1)
    count = 0
    inc()
    inc()
    return count


def never_evaluated():
    label: no_such_name = "ok"  # noqa: F821
    def show(): return label
    checkpoint()
    return show()


class Counter:
    def __init__(self):
        self.seen = []

    def run(self, n: int) -> int:
        acc: int = 0
        step: int
        def add(k):
            nonlocal acc
            acc += k * step
        step = produce(2)
        for i in range(n):
            add(i)
            checkpoint()
        self.seen.append(acc)
        return acc


def gen(n):
    last: int = -1
    def peek(): return last
    for i in range(n):
        last = produce(i)
        yield peek()


print("value", with_value())
print("alone", alone_then_assigned())
print("point", assigned_at_a_point())
print("closure", set_by_the_closure())
print("unevaluated", never_evaluated())
c = Counter()
print("method", c.run(4), c.seen)
print("gen", list(gen(3)))
print("annotations", sorted(Counter.run.__annotations__), with_value.__annotations__)
RESULT = c.run(3)
