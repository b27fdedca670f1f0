from swarm import checkpoint
# An exception raised 120 frames deep after a checkpoint propagates upward
# through try/finally blocks that checkpoint at every level (no return in the
# try), through frames without handlers, and is caught near the top; the
# unwinding order is recorded.

unwound = []


class Deep(Exception):
    pass


def descend(n):
    checkpoint()
    if n == 0:
        checkpoint()
        raise Deep("bottom")
    if n % 2 == 0:
        try:
            descend(n - 1)
        finally:
            checkpoint()
            unwound.append(n)
    else:
        descend(n - 1)
    unwound.append("never")


def catch_at(n):
    try:
        descend(n)
    except Deep as e:
        checkpoint()
        return "caught %s after %d finally blocks" % (e, len(unwound))


print(catch_at(120))
print("first", unwound[:5], "last", unwound[-3:])
del unwound[:]


def handler_mid(n, catch_level):
    checkpoint()
    if n == 0:
        raise Deep("again")
    try:
        r = handler_mid(n - 1, catch_level)
    except Deep:
        checkpoint()
        if n != catch_level:
            unwound.append(("pass", n))
            raise
        unwound.append(("caught", n))
        r = "handled at %d" % n
    checkpoint()
    return r


print(handler_mid(60, 40))
print("levels", len(unwound), unwound[:3], unwound[-2:])
RESULT = (catch_at(10), list(unwound))
