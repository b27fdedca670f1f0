from swarm import checkpoint
# subprocess
# A round-robin scheduler of cooperative tasks written as generators: tasks
# yield to give up control, sleep for N ticks, send messages through the
# scheduler; task bodies and the scheduler loop checkpoint.


class Scheduler:
    def __init__(self):
        self.ready = []
        self.sleeping = []
        self.tick = 0
        self.trace = []
        self.mailbox = {}

    def spawn(self, name, gen):
        self.ready.append((name, gen, None))

    def run(self):
        while self.ready or self.sleeping:
            self.tick += 1
            checkpoint()
            woken = [s for s in self.sleeping if s[0] <= self.tick]
            self.sleeping = [s for s in self.sleeping if s[0] > self.tick]
            for _, name, gen in woken:
                self.ready.append((name, gen, "woke"))
            if not self.ready:
                continue
            name, gen, value = self.ready.pop(0)
            try:
                req = gen.send(value)
            except StopIteration as stop:
                checkpoint()
                self.trace.append((self.tick, name, "done", stop.value))
                continue
            kind = req[0]
            if kind == "yield":
                self.ready.append((name, gen, None))
            elif kind == "sleep":
                self.sleeping.append((self.tick + req[1], name, gen))
            elif kind == "send":
                self.mailbox.setdefault(req[1], []).append((name, req[2]))
                self.ready.append((name, gen, True))
            elif kind == "recv":
                msgs = self.mailbox.pop(name, [])
                self.ready.append((name, gen, msgs))
            self.trace.append((self.tick, name, kind))
        return self.trace


def worker(name, n):
    total = 0
    for i in range(n):
        checkpoint()
        total += i
        yield ("yield",)
    checkpoint()
    return "%s total %d" % (name, total)


def sleeper(delay):
    woke = yield ("sleep", delay)
    checkpoint()
    again = yield ("sleep", 1)
    return (woke, again)


def producer(target):
    for i in range(3):
        ok = yield ("send", target, i * 10)
        checkpoint()
        assert ok
    return "sent"


def consumer():
    got = []
    while len(got) < 3:
        msgs = yield ("recv",)
        checkpoint()
        got.extend(v for _, v in msgs)
        if not msgs:
            yield ("sleep", 1)
    return got


s = Scheduler()
s.spawn("w1", worker("w1", 3))
s.spawn("w2", worker("w2", 2))
s.spawn("sl", sleeper(3))
s.spawn("prod", producer("cons"))
s.spawn("cons", consumer())
checkpoint()
trace = s.run()
for t in trace:
    print(t)
print("ticks", s.tick)
RESULT = trace
