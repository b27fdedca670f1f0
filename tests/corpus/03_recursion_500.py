from swarm import checkpoint
# Recursion 520 deep with checkpoints at every level on the way down, every 10th
# level on the way back up, plus at the bottom; then a second 510-deep recursion.

depth_seen = []


def down(n, acc):
    if n % 100 == 0:
        depth_seen.append(n)
    checkpoint()
    if n == 0:
        checkpoint()
        print("bottom reached acc", acc)
        return acc
    local = n * 2
    r = down(n - 1, acc + n)
    if n % 10 == 0:
        checkpoint()
    if n % 130 == 0:
        print("unwinding", n, local, r)
    return r + local


print("start")
res = down(520, 0)
print("result", res)
checkpoint()
print("depths", depth_seen)


def count(n):
    if n == 0:
        checkpoint()
        return 0
    if n % 50 == 0:
        checkpoint()
    return 1 + count(n - 1)


c = count(510)
print("count", c)
RESULT = (res, c, depth_seen)
