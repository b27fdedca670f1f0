from swarm import checkpoint
# subprocess
# Defect class 9: a `global` statement inside a loop body (and in a branch, and in a block
# that holds nothing else) compiles, and the function migrates in the middle of the loop.
total = 0
seen = []


def add(xs):
    for x in xs:
        global total
        checkpoint()
        total += x
        if x > 1:
            global seen
            seen = seen + [x]
    return total


def bump():
    while True:
        global total
        total += 100
        checkpoint()
        break


class Holder:
    global seen
    count = len(seen)


print(add([1, 2, 3]), seen, Holder.count)
checkpoint()
print(add([4]), seen)
bump()
RESULT = (total, seen)
