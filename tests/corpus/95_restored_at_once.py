from swarm import checkpoint
# subprocess
# A resumer restores a function's parameters and the names bound before its first point
# at once (one mapping pattern); names the function may unbind - `del`, `except ... as` -
# one at a time, and they stay unbound where they were unbound.


def params(a, b, *rest, k=1, **kw):
    head = [a, b]
    total = len(rest) + k
    err = None  # bound before the first point, unbound by the handler below

    def inner():
        return head + [total]

    checkpoint()
    del b  # a parameter deleted after a point: unbound at the next one
    checkpoint()
    try:
        b
    except NameError:
        head.append("b unbound")
    b = "again"
    checkpoint()
    for i in range(2):
        try:
            raise ValueError(i)
        except ValueError as err:
            checkpoint()
            head.append(str(err))
    try:
        err
    except NameError:
        head.append("err unbound")
    checkpoint()
    return inner() + [b, sorted(kw), rest]


def deleted_head(x):
    y = x * 2
    checkpoint()
    del y
    checkpoint()
    try:
        return y
    except UnboundLocalError:
        return ("y unbound", x)


RESULT = (params(1, 2, 3, 4, k=5, z=6), deleted_head(7))
print(RESULT)
