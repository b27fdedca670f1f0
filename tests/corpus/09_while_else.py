from swarm import checkpoint
# while loops with else, break, continue; checkpoints in condition, body, else.


def cond(i, limit):
    checkpoint()
    return i < limit


def run(limit, stop_at):
    i = 0
    seen = []
    while cond(i, limit):
        i += 1
        checkpoint()
        if i % 3 == 0:
            checkpoint()
            continue
        if i == stop_at:
            checkpoint()
            print("break at", i)
            break
        seen.append(i)
    else:
        checkpoint()
        print("while-else ran, i =", i)
        seen.append("else")
    checkpoint()
    return seen


a = run(8, 100)
print("a", a)
b = run(8, 5)
print("b", b)

n = 0
total = 0
while True:
    n += 1
    checkpoint()
    if n > 20:
        break
    if n % 2:
        continue
    total += n
print("total evens", total)

outer = 0
pairs = []
while outer < 4:
    inner = 0
    while inner < 4:
        checkpoint()
        if inner == outer:
            inner += 1
            continue
        if inner > outer + 1:
            break
        pairs.append((outer, inner))
        inner += 1
    else:
        checkpoint()
        pairs.append(("inner-else", outer))
    outer += 1
print("pairs", pairs)
RESULT = (a, b, total, pairs)
