from swarm import checkpoint
# `except ... as e` using e (args, attributes, str, traceback-free info) after a
# checkpoint; `e` is unbound after the handler; exception state in loops.


class Problem(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def risky(i):
    checkpoint()
    if i % 3 == 0:
        raise Problem(i, {"i": i, "sq": i * i})
    if i % 3 == 1:
        raise ZeroDivisionError("div %d" % i)
    return i


collected = []
for i in range(7):
    try:
        collected.append(("value", risky(i)))
    except Problem as e:
        checkpoint()
        collected.append(("problem", e.code, e.detail, e.args[0]))
        checkpoint()
        e.detail["seen"] = True
        collected.append(("after-mutate", sorted(e.detail)))
    except ZeroDivisionError as e:
        msg = str(e)
        checkpoint()
        collected.append(("zde", msg, e.args))

try:
    risky(3)
except Problem as e:
    saved = e
    checkpoint()
print("saved", saved.code, saved.detail, type(saved).__name__)
try:
    e
    print("e still bound??")
except NameError:
    print("e unbound after handler")


def nested():
    try:
        risky(0)
    except Problem as outer:
        checkpoint()
        try:
            risky(1)
        except ZeroDivisionError as inner:
            checkpoint()
            return (outer.code, str(inner), inner.__context__ is outer)


print("nested", nested())
for c in collected:
    print(c)
RESULT = (collected, nested())
