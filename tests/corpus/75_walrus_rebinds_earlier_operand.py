from swarm import checkpoint
# subprocess
# Defect class 1: a walrus in a later operand that rebinds a plain local an earlier operand
# read. The earlier operand must see the old value, as natively.


def h(v):
    checkpoint()
    return v


def pair(a, b):
    return (a, b)


def main():
    x = 1
    print(pair(x, (x := h(5))))
    y = 2
    print([y, (y := h(6)) + 1, y])
    z = 3
    print(z + (z := h(7)), z)
    w = 4
    print({w: (w := h(8))}, w)
    k = 10
    print(k * 2 - (k := h(1)), k)
    return x, y, z, w, k


RESULT = main()
