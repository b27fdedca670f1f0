"""Object-oriented discrete-event scheduler simulation with a priority heap."""

import heapq
from collections import deque

STEPS = 60_000


def lcg(seed):
    while True:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        yield seed >> 33


class Task:
    kind = "task"

    def __init__(self, tid, priority, work):
        self.tid = tid
        self.priority = priority
        self.remaining = work
        self.done_at = None

    def __lt__(self, other):
        return (self.priority, self.tid) < (other.priority, other.tid)

    def step(self, now, quantum):
        used = min(quantum, self.remaining)
        self.remaining -= used
        if self.remaining == 0:
            self.done_at = now + used
        return used

    @property
    def finished(self):
        return self.remaining == 0


class IOTask(Task):
    kind = "io"

    def step(self, now, quantum):
        used = super().step(now, max(1, quantum // 2))
        self.priority += 1  # I/O-bound tasks lose priority as they run
        return used


class BatchTask(Task):
    kind = "batch"

    def step(self, now, quantum):
        return super().step(now, quantum * 2)


def make_task(tid, rnd):
    kinds = (Task, IOTask, BatchTask)
    cls = kinds[rnd % len(kinds)]
    return cls(tid, rnd % 10, 1 + rnd % 23)


class Scheduler:
    def __init__(self, quantum=4):
        self.quantum = quantum
        self.now = 0
        self.ready = []
        self.finished = deque(maxlen=64)
        self.stats = {"task": 0, "io": 0, "batch": 0}
        self.next_id = 0

    def submit(self, rnd):
        task = make_task(self.next_id, rnd)
        self.next_id += 1
        heapq.heappush(self.ready, task)
        return task

    def tick(self):
        if not self.ready:
            self.now += 1
            return None
        task = heapq.heappop(self.ready)
        self.now += task.step(self.now, self.quantum)
        if task.finished:
            self.finished.append(task)
            self.stats[task.kind] += 1
        else:
            heapq.heappush(self.ready, task)
        return task

    def summary(self):
        latency = sum(t.done_at - t.tid for t in self.finished)
        return self.now, latency, tuple(sorted(self.stats.items())), len(self.ready)


def run():
    sched = Scheduler()
    rng = lcg(42)
    for _ in range(STEPS):
        rnd = next(rng)
        if rnd % 3 == 0:
            sched.submit(rnd // 3)
        sched.tick()
    while sched.ready:
        sched.tick()
    return sched.summary()
