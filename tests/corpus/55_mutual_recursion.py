from swarm import checkpoint
# Mutual recursion (is_even/is_odd 300 deep, a Hofstadter-like pair, and
# an Ackermann-style nested recursion) with checkpoints at each level.


def is_even(n):
    checkpoint()
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    checkpoint()
    return is_even(n - 1)


def female(n):
    checkpoint()
    return 1 if n == 0 else n - male(female(n - 1))


def male(n):
    checkpoint()
    return 0 if n == 0 else n - female(male(n - 1))


def ack(m, n):
    if m == 0:
        return n + 1
    checkpoint()
    if n == 0:
        return ack(m - 1, 1)
    return ack(m - 1, ack(m, n - 1))


print("even 300", is_even(300), "odd 41", is_odd(41), "even 7", is_even(7))
F = [female(n) for n in range(7)]
M = [male(n) for n in range(7)]
print("F", F)
print("M", M)
checkpoint()
print("ack", ack(2, 2))
RESULT = (F, M, ack(1, 3))
