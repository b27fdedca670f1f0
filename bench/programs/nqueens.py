"""N-queens solution count by recursive backtracking over sets."""

N = 9


def solve(n, row=0, cols=None, diag1=None, diag2=None):
    if cols is None:
        cols, diag1, diag2 = set(), set(), set()
    if row == n:
        return 1
    count = 0
    for col in range(n):
        if col in cols or (row + col) in diag1 or (row - col) in diag2:
            continue
        cols.add(col)
        diag1.add(row + col)
        diag2.add(row - col)
        count += solve(n, row + 1, cols, diag1, diag2)
        cols.remove(col)
        diag1.remove(row + col)
        diag2.remove(row - col)
    return count


def placements(n):
    """Enumerate full solutions as tuples of column indices (generator-based)."""

    def extend(prefix):
        row = len(prefix)
        if row == n:
            yield tuple(prefix)
            return
        for col in range(n):
            if all(c != col and abs(c - col) != row - r for r, c in enumerate(prefix)):
                prefix.append(col)
                yield from extend(prefix)
                prefix.pop()

    yield from extend([])


def run():
    count = sum(solve(N) for _ in range(REPEAT))
    checksum = sum(sum((i + 1) * c for i, c in enumerate(sol)) for sol in placements(N))
    return count, checksum


REPEAT = 25
