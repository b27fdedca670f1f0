"""A simulated cluster: NodeStates (the node's real logic, swarm/node/machine/) on simulated
disks, a simulated network and a simulated clock, with programs and clients, all driven by
one seed. The same seed replays the same run, step by step.

    world = World(seed)          # 3 nodes, faults picked by the seed
    world.add_program(...)       # see money.py
    world.run()                  # until every program has an outcome, or the time is up
    world.violations             # what the invariants found, with the step and the time

What is simulated:
- the network: each message is delivered after a random delay, or lost, or delivered twice;
  links can be cut (a partition) and healed; a message to a node that is down is lost;
- disks (store.py): transactions all or nothing, kept across crashes; a disk can be full;
- crashes: a node loses everything in memory (its NodeState, its programs, its messages on
  the way) and boots again from its disk;
- programs: what the shell's kernel does - run a segment when the machine says Start or
  Resume, and tell the machine what it did (HopSent, ProgramPrinted, ProgramFinished); their
  Ref reads and writes go through the machine's own RefData, as a real program's do;
- clients: submit, send again until `accepted`, collect? after silence, and record every
  outcome they are told.
"""

from __future__ import annotations

import heapq
import pickle
import random
from dataclasses import dataclass, field

import msgpack

from swarm.node import machine as m
from swarm.node.machine.ids import derived_id
from swarm.wire.decode import encode
from swarm.wire.kinds import PAYLOADS, problem
from tests.sim.store import DiskFull, SimStore

RESUBMIT = 1.0
COLLECT = 3.0


@dataclass
class Faults:
    """What a run suffers; picked from the seed by `Faults.pick`."""
    loss: float = 0.0  # chance a message is lost
    duplicate: float = 0.0  # chance a delivered message arrives twice
    crashes: list = field(default_factory=list)  # (node, at, down for)
    partitions: list = field(default_factory=list)  # (a, b, at, for): link cut both ways
    full_disks: list = field(default_factory=list)  # (node, at, for)

    @classmethod
    def pick(cls, rng: random.Random, names: list[str], span: float,
             hop_timeout: float) -> Faults:
        f = cls(loss=rng.choice((0.0, 0.0, 0.01, 0.05, 0.2)),
                duplicate=rng.choice((0.0, 0.0, 0.02, 0.1)))
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            down = rng.choice((0.01, 0.3, 2.0, hop_timeout * 1.5))
            f.crashes.append((rng.choice(names), rng.uniform(0, span), down))
        for _ in range(rng.choice((0, 0, 1, 2))):
            a, b = rng.sample(names, 2)
            f.partitions.append((a, b, rng.uniform(0, span),
                                 rng.choice((0.5, 3.0, hop_timeout * 1.5))))
        for _ in range(rng.choice((0, 0, 0, 1))):
            f.full_disks.append((rng.choice(names), rng.uniform(0, span),
                                 rng.choice((0.5, 4.0))))
        return f


class World:
    def __init__(self, seed: int, n: int = 3, faults: Faults | None = None,
                 hop_timeout: float = 5.0, span: float = 2.0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.start = self.now
        self.names = [f"n{i + 1}" for i in range(n)]
        self.hop_timeout = hop_timeout
        self.faults = faults if faults is not None else \
            Faults.pick(self.rng, self.names, span, hop_timeout)
        self.queue: list = []
        self.seq = 0
        self.steps = 0
        self.nodes = {name: SimNode(self, name) for name in self.names}
        self.clients: dict[str, SimClient] = {}
        self.cut: set[tuple[str, str]] = set()
        self.last_delivery: dict[tuple[str, str], float] = {}
        self.programs: dict[str, object] = {}  # program id -> its behaviour (money.py)
        self.violations: list[str] = []
        self.log: list[str] = []
        self.checks: list = []  # callables run after every step
        for node in self.nodes.values():
            node.boot()
        for name, at, down in self.faults.crashes:
            self.at(self.now + at, self.nodes[name].crash)
            self.at(self.now + at + down, self.nodes[name].boot)
        for a, b, at, span_ in self.faults.partitions:
            self.at(self.now + at, self._cut, a, b, True)
            self.at(self.now + at + span_, self._cut, a, b, False)
        for name, at, span_ in self.faults.full_disks:
            self.at(self.now + at, self._full, name, True)
            self.at(self.now + at + span_, self._full, name, False)

    # ---- the clock ---------------------------------------------------------------------------------
    def at(self, when: float, fn, *args) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, fn, args))

    def run(self, limit: float = 200.0, max_steps: int = 200_000) -> None:
        """Run until nothing is left to happen, every program has an outcome and every fault
        is over - or until `limit` simulated seconds (a program still without an outcome then
        is a liveness violation)."""
        end = self.start + limit
        while self.queue and self.steps < max_steps:
            when, _, fn, args = heapq.heappop(self.queue)
            if when > end:
                break
            self.now = max(self.now, when)
            fn(*args)
            self.steps += 1
            for check in self.checks:
                check(self)
            if self.violations:
                return
            if self._settled():
                break
        for client in self.clients.values():
            for pid, run in client.runs.items():
                if not run.reports:
                    self.violate(f"program {pid} has no outcome after {self.now - self.start:.1f}"
                                 f" s (every fault over)")

    def _settled(self) -> bool:
        if self.now < self.start + self._faults_end():
            return False
        return all(run.reports for c in self.clients.values() for run in c.runs.values())

    def _faults_end(self) -> float:
        ends = [at + d for _, at, d in self.faults.crashes]
        ends += [at + d for *_, at, d in self.faults.partitions]
        ends += [at + d for _, at, d in self.faults.full_disks]
        return max(ends, default=0.0)

    def violate(self, what: str) -> None:
        self.violations.append(f"seed {self.seed}, step {self.steps}, t={self.now - self.start:.4f}"
                               f": {what}")

    def note(self, what: str) -> None:
        self.log.append(f"{self.now - self.start:.4f} {what}")

    # ---- faults ------------------------------------------------------------------------------------
    def _cut(self, a: str, b: str, cut: bool) -> None:
        for link in ((a, b), (b, a)):
            (self.cut.add if cut else self.cut.discard)(link)
        self.note(f"{'cut' if cut else 'healed'} {a} <-> {b}")

    def _full(self, name: str, full: bool) -> None:
        self.nodes[name].store.full = full
        self.note(f"{name}'s disk {'full' if full else 'has room again'}")
        if not full:
            self.nodes[name].schedule_tick()

    # ---- the network -------------------------------------------------------------------------------
    def send(self, src: str, dst: str, kind: str, fields: dict, blobs=()) -> None:
        """A message from a node or a client; delivered (or not) by the seed's dice."""
        if (src, dst) in self.cut or self.rng.random() < self.faults.loss:
            return
        control = encode(fields)
        copies = 2 if self.rng.random() < self.faults.duplicate else 1
        for _ in range(copies):
            delay = 0.0002 + self.rng.expovariate(1 / 0.001)
            when = self.now + delay
            # one connection delivers in order (ZeroMQ over TCP)
            when = max(when, self.last_delivery.get((src, dst), 0.0) + 1e-6)
            self.last_delivery[(src, dst)] = when
            self.at(when, self._deliver, src, dst, kind, control, tuple(blobs))

    def _deliver(self, src: str, dst: str, kind: str, control: bytes, blobs: tuple) -> None:
        if (src, dst) in self.cut:
            return
        fields = msgpack.unpackb(control, raw=False)
        spec = PAYLOADS.get(kind)
        if spec is not None and problem(fields, spec):  # the wire contract holds
            self.violate(f"{kind} {src}->{dst}: {problem(fields, spec)}")
            return
        if dst in self.clients:
            self.clients[dst].receive(src, kind, fields)
        else:
            self.nodes[dst].receive(src, kind, fields, blobs)


class SimProgram:
    """What the shell's Program holds of a running program (swarm/node/program.py)."""

    def __init__(self, meta: dict, hop_id: str, again: bool) -> None:
        self.meta, self.hop_id, self.again = meta, hop_id, again
        self.id, self.client = meta["program"], meta["client"]
        self.seq = meta.get("seq", 0)
        self.route = list(meta.get("route", []))
        self.made = 0

    def next_id(self) -> str:
        made, self.made = self.made, self.made + 1
        return derived_id(self.hop_id or self.id, made)


class SimNode:
    def __init__(self, world: World, name: str) -> None:
        self.world, self.name = world, name
        self.store = SimStore()
        self.up = False
        self.state: m.NodeState | None = None
        self.epoch = 0
        self.tick_at: float | None = None

    # ---- life -------------------------------------------------------------------------------------
    def boot(self) -> None:
        if self.up:
            return
        w = self.world
        self.epoch += 1
        self.up = True
        self.tick_at = None
        self.state = m.NodeState(self.name, w.names, m.RefData(self.store),
                                 dict(self.store.sources), hop_timeout=w.hop_timeout,
                                 now=w.now)
        w.note(f"{self.name} boots")
        self.handle(m.Booted(w.now, **self.store.boot_state()))

    def crash(self) -> None:
        if not self.up:
            return
        self.up = False
        self.state = None
        self.world.note(f"{self.name} crashes")

    # ---- the machine -----------------------------------------------------------------------------
    def handle(self, event) -> None:
        if not self.up:
            return
        for instruction in self.state.handle(event):
            self.execute(instruction)
            if not self.up:
                return
        self.schedule_tick()

    def schedule_tick(self) -> None:
        if not self.up:
            return
        when = self.state.wakeup_at()
        if when is None:
            return
        when = max(when, self.world.now)
        if self.tick_at is not None and self.tick_at <= when:
            return
        self.tick_at = when
        self.world.at(when, self._tick, self.epoch)

    def _tick(self, epoch: int) -> None:
        if epoch != self.epoch or not self.up:
            return
        self.tick_at = None
        self.handle(m.Tick(self.world.now))

    def execute(self, i) -> None:
        w = self.world
        kind = type(i)
        if kind is m.Send:
            w.send(self.name, i.node, i.kind, i.fields, i.blobs)
        elif kind is m.Reply:
            w.send(self.name, i.client, i.kind, i.fields)
        elif kind is m.Persist:  # the write takes a little while; a crash meanwhile loses it
            w.at(w.now + w.rng.uniform(0.0001, 0.002), self._written, self.epoch, i.txn)
        elif kind is m.Start or kind is m.Resume:
            w.at(w.now + w.rng.uniform(0.00001, 0.0005), self._run, self.epoch, i)
        elif kind is m.SendKept:
            for program in i.programs:
                for k, payload in self.store.kept_for(program):
                    w.send(self.name, i.client, k, msgpack.unpackb(payload, raw=False))
        elif kind is m.Wake or kind is m.Serve or kind is m.Relocate:
            w.violate(f"{self.name}: {kind.__name__} in a simulation without questions")
        # Log, AnswerStatus, AnswerStats, Stop: nothing to simulate

    def _written(self, epoch: int, txn) -> None:
        if epoch != self.epoch or not self.up:
            return  # the process died before its write was done: the write is lost
        try:
            self.store.commit(txn, self.world.now)
        except DiskFull as e:
            self.handle(m.CommitFailed(str(e), self.world.now))
        else:
            self.handle(m.Committed(self.world.now))

    def receive(self, src: str, kind: str, fields: dict, blobs: tuple) -> None:
        if not self.up:
            return
        now = self.world.now
        if kind == "hop":
            meta_bytes, data = blobs
            self.handle(m.HopReceived(src, msgpack.unpackb(meta_bytes, raw=False), meta_bytes,
                                      fields, data, now))
        elif kind == "ack":
            self.handle(m.AckReceived(src, fields["hop_ids"]))
        elif kind == "submit":
            self.handle(m.SubmitReceived(src, fields))
        elif kind == "collect?":
            self.handle(m.CollectRequested(src, fields["programs"]))
        else:
            self.world.violate(f"{self.name} got a {kind} it has no use for in the simulation")

    # ---- programs (what the kernel and program.py do) -------------------------------------------
    def _run(self, epoch: int, i) -> None:
        if epoch != self.epoch or not self.up:
            return
        prog = SimProgram(i.meta, i.hop_id, i.again)
        if not prog.route or prog.route[-1] != self.name:
            prog.route.append(self.name)
        data = getattr(i, "data", b"")
        behaviour = self.world.programs[prog.id]
        behaviour.run(self, prog, pickle.loads(data) if data else None)

    def print(self, prog: SimProgram, text: str) -> None:
        self.handle(m.ProgramPrinted(prog.id, prog.client, prog.seq, text))
        prog.seq += 1

    def hop(self, prog: SimProgram, dest: str, state) -> None:
        """The program moves on to `dest` with `state` (its continuation)."""
        meta = dict(prog.meta, hop_id=prog.next_id(), seq=prog.seq, route=prog.route,
                    **{"from": self.name})
        meta.pop("submit", None)
        meta.pop("entry", None)
        self.handle(m.HopSent(dest, meta, pickle.dumps(state), prog.hop_id, prog.again))

    def finish(self, prog: SimProgram, ok: bool = True, error: str | None = None) -> None:
        self.handle(m.ProgramFinished(prog.id, prog.client, prog.hop_id, {
            "program": prog.id, "seq": prog.seq, "ok": ok, "error": error, "traceback": "",
            "route": prog.route, "value": None}))


class Run:
    def __init__(self, pid: str, node: str, submission: dict, now: float) -> None:
        self.pid, self.node, self.submission = pid, node, submission
        self.confirmed = False
        self.asked = self.heard = now
        self.patience = COLLECT
        self.reports: list[tuple] = []  # (ok, error), as told


class SimClient:
    """A client (swarm/client.py's protocol): submits, sends again until accepted, asks every
    node for what it kept after silence, and records every outcome it is told."""

    def __init__(self, world: World, name: str = "c1") -> None:
        self.world, self.name = world, name
        self.runs: dict[str, Run] = {}
        world.clients[name] = self
        world.at(world.now + 0.5, self._chase)

    def submit(self, pid: str, node: str) -> None:
        submission = {"program": pid, "sources": {}, "entry": "e", "modules": {},
                      "argv": []}
        self.runs[pid] = Run(pid, node, submission, self.world.now)
        self.world.send(self.name, node, "submit", submission)

    def receive(self, src: str, kind: str, fields: dict) -> None:
        run = self.runs.get(fields.get("program", "").split("/")[0])
        if run is None:
            return
        run.heard, run.patience = self.world.now, COLLECT
        if kind == "accepted":
            run.confirmed = True
        elif kind == "result":
            run.confirmed = True
            outcome = (fields["ok"], fields.get("error"))
            if run.reports and run.reports[0] != outcome:
                self.world.violate(f"program {run.pid}: told {run.reports[0]}, then {outcome} "
                                   f"(by {src})")
            run.reports.append(outcome)

    def _chase(self) -> None:
        w = self.world
        ask = []
        for run in self.runs.values():
            if run.reports:
                continue
            if not run.confirmed and w.now - run.asked > RESUBMIT:
                w.send(self.name, run.node, "submit", dict(run.submission, again=True))
                run.asked = w.now
            elif run.confirmed and w.now - max(run.heard, run.asked) > run.patience:
                ask.append(run.pid)
                run.asked, run.patience = w.now, min(run.patience * 2, 20.0)
        if ask:
            for name in w.names:
                w.send(self.name, name, "collect?", {"programs": ask})
        if len(self.runs) < len(w.programs) or any(not r.reports for r in self.runs.values()):
            w.at(w.now + 0.5, self._chase)
