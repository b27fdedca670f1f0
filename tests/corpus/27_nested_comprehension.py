from swarm import checkpoint
# Nested comprehensions (comprehension in element, in iterable, multiple for
# clauses with conditions), all calling checkpointing functions.


def cell(i, j):
    checkpoint()
    return i * 10 + j


def rowsel(i):
    checkpoint()
    return i != 1


def items(n):
    checkpoint()
    return list(range(n))


grid = [[cell(i, j) for j in range(3)] for i in range(4) if rowsel(i)]
print("grid", grid)
flat = [cell(i, j) for i in items(3) if rowsel(i) for j in items(i + 1) if (i + j) % 2 == 0]
print("flat", flat)
transposed = [[row[k] for row in grid] for k in range(len(grid[0]))]
print("transposed", transposed)
sums = {i: sum(cell(i, j) for j in items(i)) for i in items(4)}
print("sums", sums)
tri = [[cell(i, j) for j in items(i)] for i in [cell(0, x) for x in items(4)]]
print("tri", tri)


def matrix_stats(m):
    checkpoint()
    return [max(cell(0, v) for v in row) for row in m if any(rowsel(v) for v in row)]


print("stats", matrix_stats([[1, 2], [1, 1], [0, 3]]))
RESULT = (grid, flat, transposed, sums, tri)
