from swarm import checkpoint
# subprocess
# Defect class 5: per-program process state travels with the program - the global generator
# of `random` (seeded here) and the `decimal` context (precision, rounding, flags).
import decimal
import random

random.seed(1234)
first = [random.randint(0, 1000) for _ in range(3)]
checkpoint()
second = [random.random() for _ in range(2)]
print("random", first, second)

decimal.getcontext().prec = 6
decimal.getcontext().rounding = decimal.ROUND_DOWN
checkpoint()
third = decimal.Decimal(2).sqrt()
print("decimal", third, decimal.getcontext().prec)


def draw(n):
    out = []
    for _ in range(n):
        checkpoint()
        out.append(random.choice("abcdefgh"))
    return "".join(out)


print("draws", draw(5), random.getrandbits(16))
checkpoint()
ctx = decimal.getcontext()
print("flags", ctx.flags[decimal.Inexact], ctx.rounding)
RESULT = (first, second, str(third))
