from swarm import checkpoint
# subprocess
# A `return` inside a loop inside a `try` whose `finally` may suspend leaves every loop it is
# in, then runs the finally (it used to leave only the innermost loop and go on after it, a
# silent wrong result). Found by a review.


def f():
    try:
        for i in range(3):
            if i == 1:
                return i
        print("after loop")
        return 99
    finally:
        checkpoint()
        print("finally")


def g(n):
    total = 0
    try:
        for i in range(n):
            for j in range(n):
                checkpoint()
                if i * j == 2:
                    return (i, j, total)
                total += j
            else:
                print("inner done", i)
        return "none"
    finally:
        checkpoint()
        print("g finally", total)


def h():
    out = []
    for k in range(3):
        try:
            while True:
                checkpoint()
                if k == 1:
                    return out
                break
            out.append(k)
        finally:
            checkpoint()
            out.append(-k)
    return out


print(f())
print(g(3))
print(g(1))
RESULT = h()
