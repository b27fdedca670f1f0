from swarm import checkpoint
# subprocess
# Comprehensions that may suspend, inside functions, run as loops of the function: their
# variables stay their own (shadowing, starred targets, nested comprehensions binding the same
# name), a walrus binds the function's variable, operands before them are evaluated first,
# an exception leaves nothing behind, and a lambda inside keeps its own variable per run.
log = []


def f(v):
    checkpoint()
    log.append(v)
    return v * 2


def h():
    log.append("h")
    return "h"


def g(a, b):
    return a, b


class O:
    a = 0


def shapes(rows):
    x = "outer"
    lists = [f(x) for x in rows[0]]
    sets = {f(x) % 3 for x in rows[1] if f(x) > 2}
    dicts = {f(k): [f(v) for v in range(k)] for k in rows[2]}
    nested = [[f(x) for x in x] for x in rows]
    starred = [f(a) + len(rest) for a, *rest in rows]
    pairs = [(i, j) for i in range(3) if f(i) for j in range(i) if f(j) >= 0]
    o = O()
    attr = [f(o.a) for o.a in range(2)]
    return x, lists, sorted(sets), dicts, nested, starred, pairs, attr, o.a


def walrus(vs):
    out = [(y := f(v)) + 1 for v in vs]
    return out, y


def order(vs):
    return g(h(), [f(v) for v in vs])


def loops(vs):
    total = 0
    for v in [f(w) for w in vs]:
        total += v
    n = 0
    while len([f(w) for w in vs[:n]]) < 2:
        n += 1
    natives = [[w + z for z in range(w)] for w in vs if f(w)]
    return total, n, natives


def raising(vs):
    try:
        return [f(v) if v != 3 else 1 // 0 for v in vs]
    except ZeroDivisionError as e:
        checkpoint()
        return "caught " + type(e).__name__


def lambdas(vs):
    made = []
    for k in range(2):
        made += [lambda: v for v in vs[:len(vs) - k] if f(v)]
    return [m() for m in made]


def gen(vs):
    for k in range(2):
        yield [f(v) + k for v in vs]


def names_after(vs):
    r = [f(v) for v in vs]
    return sorted(locals()), r


class InClass:
    table = [x * 2 for x in range(3)]


print("shapes", shapes([[1, 2], [3, 4, 5], [2, 3]]))
print("walrus", walrus([1, 2, 3]))
print("order", order([4, 5]))
print("loops", loops([1, 2, 3]))
print("raising", raising([1, 2, 3, 4]))
print("lambdas", lambdas([1, 2, 3]))
print("gen", [x for x in gen([1, 2])])
print("names", names_after([7]))
print("class", InClass.table)
print("log", log)
RESULT = len(log)
