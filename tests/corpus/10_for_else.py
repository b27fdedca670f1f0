from swarm import checkpoint
# for loops with else, break, continue, nested loops; checkpoints everywhere.


def find(xs, target):
    for i, x in enumerate(xs):
        checkpoint()
        if x < 0:
            checkpoint()
            continue
        if x == target:
            checkpoint()
            print("found", target, "at", i)
            break
    else:
        checkpoint()
        print("not found", target)
        return -1
    checkpoint()
    return i


xs = [5, -1, 7, 3, -9, 11]
r = [find(xs, t) for t in (7, 11, 4, -1)]
print("r", r)

primes = []
for n in range(2, 40):
    for d in range(2, n):
        checkpoint()
        if n % d == 0:
            break
    else:
        checkpoint()
        primes.append(n)
print("primes", primes)

acc = []
for a in "abc":
    for b in (1, 2, 3):
        if b == 2:
            checkpoint()
            continue
        checkpoint()
        acc.append(a + str(b))
        if a == "b" and b == 3:
            break
    else:
        acc.append(a + "!")
print("acc", acc)

# loop variable after loop; empty loop with else
for last in range(4):
    checkpoint()
print("last", last)
for _ in []:
    print("never")
else:
    checkpoint()
    print("empty else")
RESULT = (r, primes, acc, last)
