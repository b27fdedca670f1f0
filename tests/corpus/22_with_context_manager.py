from swarm import checkpoint
# subprocess
# `with` over user-defined picklable context manager classes. Checkpoints
# inside the body must not trigger __exit__ early: the order of events is
# recorded and printed. Nested withs, multiple managers in one statement,
# `as` targets, exceptions propagating out of a with (not suppressed).

events = []


class Tracker:
    def __init__(self, name):
        self.name = name
        self.depth = 0

    def __enter__(self):
        events.append("enter " + self.name)
        self.depth += 1
        return self

    def __exit__(self, exc_type, exc, tb):
        events.append("exit %s %s" % (self.name, exc_type.__name__ if exc_type else None))
        self.depth -= 1
        return False

    def note(self, what):
        events.append("%s: %s (depth %d)" % (self.name, what, self.depth))


def step(tag):
    events.append("step " + tag)
    checkpoint()
    events.append("step-done " + tag)


with Tracker("A") as a:
    a.note("body start")
    checkpoint()
    a.note("after checkpoint")
    step("1")
    a.note("body end")
events.append("after A")


def func():
    t = Tracker("B")
    with t as b:
        checkpoint()
        with Tracker("C") as c, Tracker("D") as d:
            checkpoint()
            c.note("inner")
            step("2")
            d.note("inner")
        checkpoint()
        b.note("between")
    checkpoint()
    return t.depth


print("func depth", func())


def failing():
    with Tracker("E") as e:
        checkpoint()
        e.note("about to fail")
        raise ValueError("inside E")


try:
    failing()
except ValueError as err:
    checkpoint()
    events.append("caught " + str(err))

for i in range(2):
    with Tracker("L%d" % i) as lt:
        checkpoint()
        if i == 0:
            continue
        lt.note("not skipped")
events.append("end")
for e in events:
    print(e)
RESULT = events
