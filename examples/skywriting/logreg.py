"""The numeric steps of examples/skywriting/logreg.sw, for Skywriting's `python` executor
(this module ships to the nodes like any program code), and the same loop in plain Python to
check the script against (`reference`).

A point is [x1, x2, label]; the model is P(label = 1) = sigmoid(w0 + w1 x1 + w2 x2), fitted by
batch gradient descent on the mean log loss.
"""

import math
import random

RATE = 2.0  # the step on the mean gradient
TOLERANCE = 1e-3  # converged when no weight moves more than this in one step
TRUE_W = (-1.0, 2.0, -3.0)  # the weights the labels are drawn from


def partition(index: int, size: int) -> list:
    """`size` points of partition `index`, the same on every node (seeded by the index)."""
    rng = random.Random(index)
    points = []
    for _ in range(size):
        x1, x2 = rng.uniform(-2, 2), rng.uniform(-2, 2)
        p = _sigmoid(TRUE_W[0] + TRUE_W[1] * x1 + TRUE_W[2] * x2)
        points.append([x1, x2, 1 if rng.random() < p else 0])
    return points


def gradient(points: list, w: list) -> list:
    """The partition's share of the gradient: [sum of errors * features, point count]."""
    g = [0.0, 0.0, 0.0]
    for x1, x2, label in points:
        error = _sigmoid(w[0] + w[1] * x1 + w[2] * x2) - label
        g[0] += error
        g[1] += error * x1
        g[2] += error * x2
    return [g, len(points)]


def update(w: list, *gradients) -> list:
    """One step down the mean gradient of all partitions (summed in partition order)."""
    total, count = [0.0, 0.0, 0.0], 0
    for g, n in gradients:
        total = [t + gi for t, gi in zip(total, g, strict=True)]
        count += n
    return [wi - RATE * t / count for wi, t in zip(w, total, strict=True)]


def converged(w_old: list, w_new: list) -> bool:
    return max(abs(a - b) for a, b in zip(w_old, w_new, strict=True)) < TOLERANCE


def reference(parts: int, size: int) -> tuple[list, int]:
    """The same fit in plain Python, in one process: (weights, iterations)."""
    data = [partition(i, size) for i in range(parts)]
    w, iterations = [0.0, 0.0, 0.0], 0
    while True:
        w_new = update(w, *(gradient(points, w) for points in data))
        iterations += 1
        done = converged(w, w_new)
        w = w_new
        if done:
            return w, iterations


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


if __name__ == "__main__":
    import sys

    print(reference(int(sys.argv[1]) if len(sys.argv) > 1 else 3,
                    int(sys.argv[2]) if len(sys.argv) > 2 else 2000))
