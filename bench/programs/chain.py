"""A call chain that suspends at its leaf: the unit of capture/resume cost per frame."""
from swarm import checkpoint


def chain(n, acc, label):
    if n == 0:
        checkpoint()
        return acc
    x = n * 2
    return chain(n - 1, acc + x, label)
