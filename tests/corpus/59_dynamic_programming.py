from swarm import checkpoint
# Dynamic programming: memoized recursion with a dict (edit distance,
# knapsack), bottom-up tables with nested loops (LCS), path reconstruction;
# checkpoints in recursion and table fills.


def edit_distance(a, b):
    memo = {}

    def go(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        checkpoint()
        if i == len(a):
            r = len(b) - j
        elif j == len(b):
            r = len(a) - i
        elif a[i] == b[j]:
            r = go(i + 1, j + 1)
        else:
            r = 1 + min(go(i + 1, j), go(i, j + 1), go(i + 1, j + 1))
        memo[(i, j)] = r
        return r

    return go(0, 0), len(memo)


def knapsack(items, cap):
    memo = {}

    def best(k, c):
        if k == len(items) or c == 0:
            return 0, ()
        key = (k, c)
        if key in memo:
            return memo[key]
        checkpoint()
        w, v = items[k]
        skip = best(k + 1, c)
        if w <= c:
            val, chosen = best(k + 1, c - w)
            take = (val + v, (k,) + chosen)
            res = take if take[0] > skip[0] else skip
        else:
            res = skip
        memo[key] = res
        return res

    return best(0, cap)


def lcs(a, b):
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if a[i] == b[j]:
                t[i][j] = 1 + t[i + 1][j + 1]
            else:
                t[i][j] = max(t[i + 1][j], t[i][j + 1])
        checkpoint()
    i = j = 0
    out = []
    while i < n and j < m:
        checkpoint()
        if a[i] == b[j]:
            out.append(a[i])
            i += 1
            j += 1
        elif t[i + 1][j] >= t[i][j + 1]:
            i += 1
        else:
            j += 1
    return "".join(out)


print("edit", edit_distance("kitten", "sitting"), edit_distance("flaw", "lawn"))
print("knapsack", knapsack([(5, 10), (4, 40), (6, 30), (3, 50)], 10))
checkpoint()
print("lcs", lcs("AGGTABQ", "GXTXAYBQ"))
RESULT = (edit_distance("abc", "yabd"), knapsack([(1, 1), (2, 3)], 2), lcs("abcde", "ace"))
