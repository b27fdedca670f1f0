from swarm import checkpoint
# subprocess
# `yield from` forwards throw() and close() to its delegate, natively and in a frame resumed
# inside the delegation (its spelled-out loop follows PEP 380): the delegate catches what is
# thrown and goes on, returns through a throw, and closes before its delegator.


def inner(tag):
    got = []
    try:
        while True:
            try:
                v = yield (tag, len(got))
                got.append(v)
            except KeyError as e:
                checkpoint()
                got.append(("caught", e.args[0]))
            except ValueError:
                return ("returned", tag, got)
    finally:
        print("inner finally", tag)


def outer(tag):
    try:
        r = yield from inner(tag)
        print("delegate returned", r)
        checkpoint()
        yield "after"
    finally:
        print("outer finally", tag)


def drive(tag):
    g = outer(tag)
    out = [next(g)]
    checkpoint()  # g travels parked inside the delegation
    out.append(g.send("a"))
    out.append(g.throw(KeyError("k")))
    checkpoint()
    out.append(g.send("b"))
    if tag == "close":
        g.close()
        out.append("closed")
    else:
        out.append(g.throw(ValueError("stop")))
        out.append(next(g, "exhausted"))
    return out


print(drive("close"))
print(drive("throw"))
RESULT = drive("again")
