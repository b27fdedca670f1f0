"""Numeric loop kernels in plain Python: a small matrix multiply and a Mandelbrot grid."""

SIZE = 110
MANDEL_W, MANDEL_H, MAX_ITER = 200, 120, 100


def make_matrix(n, seed):
    return [[((i * 31 + j * 17 + seed) % 97) / 97.0 for j in range(n)] for i in range(n)]


def matmul(a, b):
    n, m, p = len(a), len(b), len(b[0])
    result = [[0.0] * p for _ in range(n)]
    for i in range(n):
        row = a[i]
        out = result[i]
        for k in range(m):
            aik = row[k]
            bk = b[k]
            for j in range(p):
                out[j] += aik * bk[j]
    return result


def mandelbrot(width, height, max_iter):
    counts = []
    for y in range(height):
        ci = -1.2 + 2.4 * y / height
        for x in range(width):
            cr = -2.0 + 3.0 * x / width
            zr = zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            counts.append(n)
    return counts


def run():
    a = make_matrix(SIZE, 1)
    b = make_matrix(SIZE, 2)
    c = matmul(a, b)
    c = matmul(c, a)
    trace = sum(c[i][i] for i in range(SIZE))
    counts = mandelbrot(MANDEL_W, MANDEL_H, MAX_ITER)
    return round(trace, 6), sum(counts)
