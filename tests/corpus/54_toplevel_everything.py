from swarm import checkpoint
# subprocess
# Everything at module top level (the module frame is the continuation):
# loops with else, try/except/else/finally, with, comprehensions, walrus,
# conditional expressions, nested functions defined between checkpoints.

events = []


class Ctx:
    def __init__(self, tag):
        self.tag = tag

    def __enter__(self):
        events.append("enter " + self.tag)
        return self.tag

    def __exit__(self, t, v, tb):
        events.append("exit " + self.tag)
        return t is KeyError


def f(x):
    checkpoint()
    return x + 1


checkpoint()
acc = 0
for i in range(5):
    if i == 3:
        checkpoint()
        continue
    acc += f(i)
else:
    checkpoint()
    events.append("for-else acc=%d" % acc)

j = 0
while (j := j + 1) < 10:
    checkpoint()
    if j * j > 20:
        events.append("break at %d" % j)
        break

try:
    checkpoint()
    r = {"a": 1}["b"]
except KeyError as e:
    checkpoint()
    events.append("except " + str(e))
else:
    events.append("never")
finally:
    checkpoint()
    events.append("finally")

with Ctx("one") as tag:
    checkpoint()
    events.append("in " + tag)
    with Ctx("two"):
        checkpoint()
        raise KeyError("suppressed")
    events.append("after two")

sq = [f(x) for x in range(4) if f(x) % 2]
mapping = {x: (f(x) if x else "zero") for x in range(3)}
flag = f(0) > 0 and f(1) > 5 or f(2) == 3
events.append("sq=%s mapping=%s flag=%s" % (sq, mapping, flag))


def late(y):
    checkpoint()
    return y * acc


checkpoint()
events.append("late=%d" % late(2))
for e in events:
    print(e)
RESULT = (acc, j, sq, mapping, flag, events)
