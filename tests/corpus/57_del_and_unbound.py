from swarm import checkpoint
# Locals deleted with `del` before/after checkpoints, UnboundLocalError caught,
# variables bound only on some paths, shadowing of globals by locals, names
# rebound to different types across checkpoints.

name = "global-name"


def f(flag):
    if flag:
        x = "bound"
    checkpoint()
    try:
        return x
    except UnboundLocalError:
        checkpoint()
        return "unbound"


def g():
    a = [1, 2]
    b = a
    checkpoint()
    del a
    checkpoint()
    try:
        print(a)
    except UnboundLocalError as e:
        print("a deleted:", type(e).__name__)
    return b


def shadow():
    name = "local-name"
    checkpoint()
    return name


def retype():
    v = 1
    checkpoint()
    v = "one"
    checkpoint()
    v = [v, v]
    checkpoint()
    v = {"v": v}
    return v


print(f(True), f(False))
print(g())
print(shadow(), name)
print(retype())
tmp = 5
checkpoint()
del tmp
checkpoint()
print("tmp" in globals(), "name" in globals())
d = {"a": 1, "b": 2}
del d["a"]
checkpoint()
print(d)
RESULT = (f(True), f(False), g(), shadow(), retype(), d)
