from swarm import checkpoint
# A context manager whose __exit__ suppresses selected exceptions raised in the
# body after a checkpoint; execution continues after the with statement.

events = []


class Suppress:
    def __init__(self, *kinds):
        self.kinds = kinds
        self.caught = []

    def __enter__(self):
        events.append("enter")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            events.append("exit clean")
            return False
        if issubclass(exc_type, self.kinds):
            events.append("exit suppress " + exc_type.__name__ + " " + str(exc))
            self.caught.append(str(exc))
            return True
        events.append("exit propagate " + exc_type.__name__)
        return False


def raiser(kind):
    checkpoint()
    if kind == "key":
        raise KeyError("k")
    if kind == "val":
        raise ValueError("v")
    return kind


def attempt(kind):
    result = "unset"
    with Suppress(KeyError, ZeroDivisionError) as s:
        checkpoint()
        result = raiser(kind)
        checkpoint()
        events.append("body finished")
    checkpoint()
    events.append("after with, result=" + result)
    return result, s.caught


outs = []
for kind in ["ok", "key", "val"]:
    try:
        outs.append(attempt(kind))
    except ValueError as e:
        checkpoint()
        outs.append(("escaped", str(e)))

with Suppress(ZeroDivisionError) as top:
    x = 10
    checkpoint()
    x = x / 0
    events.append("never")
print("x after suppressed", x, top.caught)
for e in events:
    print(e)
print("outs", outs)
RESULT = (outs, events)
