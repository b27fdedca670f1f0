from swarm import checkpoint
# Closures returned from functions and called later (after the creating frame
# is gone and after several checkpoints), stored in lists and dicts, closures
# over loop variables, and a closure captured in a global.


def make_multiplier(k):
    checkpoint()

    def mul(x):
        checkpoint()
        return x * k
    return mul


def make_accumulator():
    items = []

    def add(x):
        items.append(x)
        checkpoint()
        return len(items)

    def get():
        return list(items)
    return add, get


double = make_multiplier(2)
triple = make_multiplier(3)
checkpoint()
print("double", double(7), "triple", triple(7))
mults = {n: make_multiplier(n) for n in range(1, 4)}
checkpoint()
print("mults", [mults[n](10) for n in sorted(mults)])
add, get = make_accumulator()
for w in ["a", "b", "c"]:
    n = add(w)
    checkpoint()
    print("added", w, n)
print("get", get())

fns = []
for i in range(3):
    def f(i=i):
        checkpoint()
        return i * 100
    fns.append(f)
late = []
for i in range(3):
    late.append(lambda: i)
print("fns", [fn() for fn in fns], "late-binding", [fn() for fn in late])

GLOBAL_CLOSURE = None


def install(prefix):
    global GLOBAL_CLOSURE
    tag = prefix + "!"

    def greet(name):
        checkpoint()
        return tag + name
    GLOBAL_CLOSURE = greet
    checkpoint()


install("hi ")
checkpoint()
print("global closure", GLOBAL_CLOSURE("bob"))
RESULT = (double(1), triple(1), get(), [fn() for fn in fns], GLOBAL_CLOSURE("x"))
