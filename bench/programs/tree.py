"""Method-heavy walks over a recursively built binary tree."""

DEPTH = 14
WALKS = 8


class Leaf:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def total(self):
        return self.value

    def depth(self):
        return 1

    def count(self):
        return 1

    def visit(self, fn):
        fn(self.value)

    def mapped(self, fn):
        return Leaf(fn(self.value))


class Node:
    __slots__ = ("left", "right", "weight")

    def __init__(self, left, right, weight):
        self.left = left
        self.right = right
        self.weight = weight

    def total(self):
        return self.weight + self.left.total() + self.right.total()

    def depth(self):
        return 1 + max(self.left.depth(), self.right.depth())

    def count(self):
        return 1 + self.left.count() + self.right.count()

    def visit(self, fn):
        fn(self.weight)
        self.left.visit(fn)
        self.right.visit(fn)

    def mapped(self, fn):
        return Node(self.left.mapped(fn), self.right.mapped(fn), fn(self.weight))


def build(depth, seed=1):
    if depth == 0:
        return Leaf(seed % 10)
    return Node(build(depth - 1, seed * 2), build(depth - 1, seed * 2 + 1), seed % 7)


class Collector:
    def __init__(self):
        self.seen = 0
        self.acc = 0

    def __call__(self, value):
        self.seen += 1
        self.acc = (self.acc * 31 + value) % 1_000_003


def run():
    tree = build(DEPTH)
    checksum = 0
    for i in range(WALKS):
        collector = Collector()
        tree.visit(collector)
        checksum += tree.total() + tree.depth() + tree.count() + collector.acc
        tree = tree.mapped(lambda v, i=i: (v + i) % 11)
    return checksum
