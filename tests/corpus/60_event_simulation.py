from swarm import checkpoint
# subprocess
# A discrete-event simulation: a priority queue (heapq over tuples of ints and
# strings, no callbacks), customer processes as checkpointing generators,
# a server class with a queue, statistics computed with comprehensions.
import heapq


class Server:
    def __init__(self, name):
        self.name = name
        self.busy_until = 0
        self.served = []

    def serve(self, now, cust, duration):
        checkpoint()
        start = max(now, self.busy_until)
        self.busy_until = start + duration
        self.served.append((cust, start, self.busy_until))
        return self.busy_until


def customer(name, arrive, work):
    checkpoint()
    now = yield ("arrive", arrive)
    done = yield ("request", work)
    checkpoint()
    yield ("leave", done - now)


class Sim:
    def __init__(self, servers):
        self.servers = servers
        self.queue = []
        self.seq = 0
        self.log = []
        self.procs = {}

    def schedule(self, t, name, value):
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, name, value))

    def start(self, name, gen):
        self.procs[name] = gen
        kind, t = next(gen)
        checkpoint()
        self.schedule(t, name, t)

    def run(self):
        while self.queue:
            t, _, name, value = heapq.heappop(self.queue)
            checkpoint()
            gen = self.procs[name]
            try:
                kind, arg = gen.send(value)
            except StopIteration:
                self.log.append((t, name, "exit"))
                continue
            self.log.append((t, name, kind, arg))
            if kind == "request":
                srv = min(self.servers, key=lambda s: (s.busy_until, s.name))
                done = srv.serve(t, name, arg)
                self.schedule(done, name, done)
            elif kind == "leave":
                self.schedule(t, name, None)
        return self.log


servers = [Server("s1"), Server("s2")]
sim = Sim(servers)
for i, (arr, work) in enumerate([(0, 5), (1, 3), (2, 4), (3, 1), (8, 2), (9, 6)]):
    sim.start("c%d" % i, customer("c%d" % i, arr, work))
checkpoint()
log = sim.run()
for entry in log:
    print(entry)
waits = {e[1]: e[3] for e in log if e[2] == "leave"}
print("time in system", waits)
print("avg x100", sum(waits[k] for k in sorted(waits)) * 100 // len(waits))
print("served", [(s.name, s.served) for s in servers])
RESULT = (log, waits)
