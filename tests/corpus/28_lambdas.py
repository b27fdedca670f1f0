from swarm import checkpoint
# Lambdas stored in variables, in data structures, passed to user higher-order
# functions, lambdas whose body calls a checkpointing function, lambdas with
# defaults capturing loop values, immediately-invoked lambdas.


def work(x):
    checkpoint()
    return x + 100


def apply_all(fns, v):
    out = []
    for fn in fns:
        checkpoint()
        out.append(fn(v))
    return out


def my_map(fn, xs):
    return [fn(x) for x in xs]


def my_reduce(fn, xs, init):
    acc = init
    for x in xs:
        acc = fn(acc, x)
        checkpoint()
    return acc


inc = lambda x: x + 1
via = lambda x: work(x) * 2
both = lambda x, y=3: work(x) + work(y)
print("inc", inc(1), "via", via(1), "both", both(1), both(1, y=0))
checkpoint()
print("apply_all", apply_all([inc, via, lambda v: -v, lambda v: work(work(v))], 5))
print("my_map", my_map(lambda x: work(x) % 7, [1, 2, 3]))
print("my_reduce", my_reduce(lambda a, b: a + work(b), [1, 2, 3], 0))
adders = [lambda x, k=k: x + k for k in range(4)]
checkpoint()
print("adders", [a(10) for a in adders])
table = {"sq": lambda x: x * x, "wk": lambda x: work(x)}
print("table", {name: f(4) for name, f in table.items()})
print("iife", (lambda a, b: work(a) - b)(1, 2))
compose = lambda f, g: lambda x: f(g(x))
h = compose(via, inc)
checkpoint()
print("compose", h(0))
RESULT = (inc(1), via(1), h(0), [a(1) for a in adders])
