from swarm import checkpoint
# *args / **kwargs, keyword-only args, defaults, calls
# with unpacking, checkpoints before and after using each.


def f(a, b=10, *args, c, d=4, **kw):
    checkpoint()
    print("f got", a, b, args, c, d, sorted(kw.items()))
    s = a + b + sum(args) + c + d
    checkpoint()
    for k in sorted(kw):
        s += kw[k]
        checkpoint()
    return s


def collect(*args, **kwargs):
    checkpoint()
    return list(args), dict(kwargs)


def with_default(x, acc=None, sep="-"):
    acc = [] if acc is None else acc
    acc.append(x)
    checkpoint()
    return sep.join(str(v) for v in acc)


def kwonly(*, left, right="R"):
    checkpoint()
    return left + right


r1 = f(1, c=3)
print("r1", r1)
r2 = f(1, 2, 3, 4, 5, c=6, d=7, e=8, g=9)
print("r2", r2)
args = (1, 2, 30)
kw = {"c": 100, "z": 1000}
checkpoint()
r3 = f(*args, **kw)
print("r3", r3)
print("collect", collect(1, "two", *[3, 4], key="v", **{"other": 5}))
print("default1", with_default(1))
checkpoint()
print("default2", with_default(2))
print("default3", with_default(3, [9, 8], sep="+"))
print("kwonly", kwonly(left="L"), kwonly(right="r", left="l"))
try:
    kwonly("positional")
except TypeError as e:
    checkpoint()
    print("TypeError caught", "positional" in str(e) or "takes 0" in str(e))
RESULT = (r1, r2, r3, with_default(4))
