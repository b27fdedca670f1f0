from swarm import checkpoint
# subprocess
# Closures reading outer variables and `nonlocal` counters modified across
# checkpoints; cells shared between several inner functions; the outer
# function checkpointing while inner ones hold references to its cells.


def make_counter(start, step):
    count = start
    history = []

    def bump():
        nonlocal count
        checkpoint()
        count += step
        history.append(count)
        checkpoint()
        return count

    def peek():
        checkpoint()
        return count, list(history)

    def reset(to):
        nonlocal count
        checkpoint()
        old = count
        count = to
        return old

    return bump, peek, reset


bump, peek, reset = make_counter(10, 5)
print("bump", bump(), bump())
checkpoint()
print("peek", peek())
print("reset", reset(0), peek())
print("bump again", bump())


def outer():
    total = 0
    label = "tot"

    def add(n):
        nonlocal total
        checkpoint()
        total += n

    for i in range(5):
        add(i)
        checkpoint()
        print("outer sees", label, total)
    label = "final"

    def show():
        checkpoint()
        return label + "=" + str(total)

    return show()


print(outer())


def deep_closure(a):
    def mid(b):
        def inner(c):
            checkpoint()
            return a + b + c
        checkpoint()
        return inner(b * 2)
    x = mid(a * 3)
    checkpoint()
    return x


print("deep", deep_closure(1), deep_closure(5))
RESULT = (peek(), outer(), deep_closure(2))
