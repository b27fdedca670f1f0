from swarm import checkpoint
# Matrix multiply (triple loop and comprehension forms), transpose, identity,
# matrix power by repeated squaring (recursive); checkpoints in inner loops.


def matmul(a, b):
    n, m, p = len(a), len(b), len(b[0])
    out = [[0] * p for _ in range(n)]
    for i in range(n):
        for j in range(p):
            s = 0
            for k in range(m):
                s += a[i][k] * b[k][j]
                checkpoint()
            out[i][j] = s
    return out


def dot(r, c):
    checkpoint()
    return sum(x * y for x, y in zip(r, c))


def matmul_comp(a, b):
    bt = transpose(b)
    return [[dot(row, col) for col in bt] for row in a]


def transpose(m):
    checkpoint()
    return [list(col) for col in zip(*m)]


def identity(n):
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def mpow(m, e):
    checkpoint()
    if e == 0:
        return identity(len(m))
    half = mpow(m, e // 2)
    sq = matmul(half, half)
    checkpoint()
    return matmul(sq, m) if e % 2 else sq


A = [[1, 2, 3], [4, 5, 6]]
B = [[7, 8], [9, 10], [11, 12]]
C = matmul(A, B)
print("C", C)
checkpoint()
C2 = matmul_comp(A, B)
print("C2", C2, C == C2)
F = [[1, 1], [1, 0]]
P = mpow(F, 20)
print("fib via matrix", P[0][1], P)
print("transpose", transpose(A))
RESULT = (C, P)
