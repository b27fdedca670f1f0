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
- disks (store.py): transactions all or nothing, kept across crashes; a disk can be full,
  or nearly (room for a few hundred or thousand bytes: a large write fails, small ones fit);
- crashes: a node loses everything in memory (its NodeState, its programs, its messages on
  the way) and boots again from its disk;
- programs: what the shell's kernel does - run a segment when the machine says Start or
  Resume, and tell the machine what it did (HopSent, ProgramPrinted, ProgramFinished); their
  Ref reads and writes go through the machine's own RefData, as a real program's do;
- clients: submit (with `quick`, half the programs quick: written only once they must be),
  send again until `accepted`, collect? after silence, and record every outcome they are
  told.
"""

from __future__ import annotations

import copy
import heapq
import random
from dataclasses import dataclass, field

import msgpack

from swarm.node.machine.instructions import TO_SELF
from swarm.node.machine.mirror import mirror_of
from swarm.wire.control import encode
from swarm.wire.kinds import PAYLOADS, problem
from tests.sim import adoptions, mirrors
from tests.sim import joins as joins_module
from tests.sim.clients import Operator, SimClient
from tests.sim.node import SimNode

ROOMS = (0, 0, 200, 1000, 4000)  # bytes a full disk still takes (Faults.pick)


@dataclass
class Faults:
    """What a run suffers; picked from the seed by `Faults.pick`."""
    loss: float = 0.0  # chance a message is lost
    duplicate: float = 0.0  # chance a delivered message arrives twice
    crashes: list = field(default_factory=list)  # (node, at, down for)
    partitions: list = field(default_factory=list)  # (a, b, at, for): link cut both ways
    # (node, at, for[, room]): the disk takes only `room` more bytes meanwhile (default 0)
    full_disks: list = field(default_factory=list)
    # (node, at, fenced after, back after or None): a node lost for good at `at`, declared
    # gone by the operator later; a zombie if it comes back (with its disk) after that
    gone: list = field(default_factory=list)

    @classmethod
    def pick(cls, rng: random.Random, names: list[str], span: float,
             hop_timeout: float, rooms: random.Random | None = None) -> Faults:
        """`rooms`: picks how full each full disk is (a generator of its own, so that the
        other faults of a seed stay what they were before disks could be nearly full)."""
        rooms = rooms or rng
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
                                 rng.choice((0.5, 4.0)), rooms.choice(ROOMS)))
        if rng.random() < 0.15:
            f.gone.append((rng.choice(names), rng.uniform(0, span), rng.uniform(0.5, 10),
                           rng.choice((None, None, 1.0, 30.0))))
        return f


class World:
    def __init__(self, seed: int, n: int = 3, faults: Faults | None = None,
                 hop_timeout: float = 5.0, span: float = 2.0, replicas: int = 1,
                 disk_losses: list | None = None, joins: list | None = None,
                 removals: list | None = None, quick: bool = False,
                 failover: float = 0.0) -> None:
        """`replicas` 2: each node's store has a copy on its mirror (mirrors.py);
        `disk_losses`: [(node, at, down for)] disks lost (mirrors.lose_disk); `joins`:
        [(node, at)] nodes added to the running cluster (joins.py); `removals`: [(node,
        at, operator after)] nodes stopped whose mirror adopts their store (adoptions.py);
        `quick`: half the programs are quick submissions (machine/quick.py); `failover`:
        seconds of silence before a node's mirror takes it over (failovers.py)."""
        self.seed = seed
        self.failover = failover
        self.quick = quick
        self.replicas = replicas
        self.losses = self.restores = 0
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.start = self.now
        self.names = [f"n{i + 1}" for i in range(n)]
        self.ring = n  # (the nodes before any join: restore asks no former mirror of theirs)
        self.hop_timeout = hop_timeout
        self.faults = faults if faults is not None else \
            Faults.pick(self.rng, self.names, span, hop_timeout,
                        random.Random(f"{seed}/rooms"))
        self.queue: list = []
        self.seq = 0
        self.steps = 0
        self.nodes = {name: SimNode(self, name) for name in self.names}
        self.clients: dict[str, SimClient] = {}
        self.operators: dict[str, Operator] = {}
        self.cut: set[tuple[str, str]] = set()
        self.slow: dict[tuple[str, str], float] = {}  # a link's extra delay (the tests)
        self.last_delivery: dict[tuple[str, str], float] = {}
        self.programs: dict[str, object] = {}  # program id -> its behaviour (money.py)
        self.serve = None  # (node, action, ref, arg) -> (reply, value): peers' questions
        self.violations: list[str] = []
        self.log: list[str] = []
        self.checks: list = []  # callables run after every step
        self.submitting_until = 0.0  # (seconds from the start) programs are submitted until
        self.fenced: set[str] = set()  # declared gone (what clients know)
        self.heirs: dict[str, str] = {}  # removed node -> the node that has its store
        self.adoptions = self.forced = self.failovers = 0
        self.removing = 0  # removals that have not ended
        self.removal_started = False  # (one drained: joins wait until it ends, joins.py)
        self.store_ids = 0
        for node in self.nodes.values():
            node.store.be_born(self.new_store_id())  # (stores the workload fills)
            node.boot()
        for name, *_ in joins or ():  # (before the crashes: one may be of a node that joins)
            self.nodes[name] = SimNode(self, name)
        for name, at, down in self.faults.crashes:
            self.at(self.now + at, self.nodes[name].crash)
            self.at(self.now + at + down, self.nodes[name].boot)
        for a, b, at, span_ in self.faults.partitions:
            self.at(self.now + at, self._cut, a, b, True)
            self.at(self.now + at + span_, self._cut, a, b, False)
        for name, at, span_, *room in self.faults.full_disks:
            self.at(self.now + at, self._full, name, room[0] if room else 0)
            self.at(self.now + at + span_, self._full, name, None)
        self.losing = 0  # disk losses that have not happened, or whose node is not back
        for name, at, down, *more in disk_losses or ():  # more: crash_after[, saved at]
            self.losing += 1
            node = self.nodes[name]
            if len(more) > 1:  # (a disk that goes back to an image made earlier)
                self.at(self.now + more[1], mirrors.save, node)
            self.at(self.now + at, mirrors.lose_disk, node, down, *more[:1],
                    0, len(more) > 1)
        for name, at, *ready in joins or ():  # (ready: joins.join)
            self.at(self.now + at, joins_module.join, self, name, *ready)
        for name, at, after in removals or ():
            self.removing += 1
            self.at(self.now + at, adoptions.remove, self, name, after)
        for name, at, fence_after, back in self.faults.gone:
            self.nodes[name].lost = True
            self.at(self.now + at, self.nodes[name].crash)
            Operator(self, name, self.now + at + fence_after)
            if back is not None:  # a zombie: it comes back after it was declared gone
                self.at(self.now + at + fence_after + back, self.nodes[name].boot, True)

    # ---- the clock ---------------------------------------------------------------------------------
    def at(self, when: float, fn, *args) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, fn, args))

    def run(self, limit: float = 200.0, max_steps: int = 200_000, drain: float = 0.0) -> None:
        """Run until nothing is left to happen, every program has an outcome and every fault
        is over - or until `limit` simulated seconds (a program still without an outcome then
        is a liveness violation). `drain`: then go on for that long (acks, resends)."""
        end = self.start + limit
        while self.queue and self.steps < max_steps:
            when, seq, fn, args = heapq.heappop(self.queue)
            if when > end:
                heapq.heappush(self.queue, (when, seq, fn, args))  # (a later run goes on)
                break
            self.now = max(self.now, when)
            fn(*args)
            self.steps += 1
            for check in self.checks:
                check(self)
            if self.violations:
                return
            if drain is not None and self._settled():
                end, drain = self.now + drain, None
        for client in self.clients.values():
            for pid, run in client.runs.items():
                if not run.reports:
                    self.violate(f"program {pid} has no outcome after {self.now - self.start:.1f}"
                                 f" s (every fault over)")

    def _settled(self) -> bool:
        if self.now < self.start + max(self._faults_end(), self.submitting_until):
            return False
        if self.losing or self.removing or any(node.restoring for node in self.nodes.values()):
            return False  # (a disk loss to come, or a node still without its store)
        return all(run.reports for c in self.clients.values() for run in c.runs.values())

    def _faults_end(self) -> float:
        ends = [at + d for _, at, d, _ in self.faults.gone]
        ends += [at + d for _, at, d in self.faults.crashes]
        ends += [at + d for *_, at, d in self.faults.partitions]
        ends += [at + d for _, at, d, *_ in self.faults.full_disks]
        return max(ends, default=0.0)

    def violate(self, what: str) -> None:
        self.violations.append(f"seed {self.seed}, step {self.steps}, t={self.now - self.start:.4f}"
                               f": {what}")

    def note(self, what: str) -> None:
        self.log.append(f"{self.now - self.start:.4f} {what}")

    def route(self, node: str) -> str:
        """The node that answers for `node`, by the cluster file (its heir once removed)."""
        while node in self.heirs:
            node = self.heirs[node]
        return node

    def mirror_of(self, name: str, fenced=(), names=None) -> str | None:
        """`name`'s mirror, by the cluster file (`names`: by a node's own view of it)."""
        return mirror_of(self.names if names is None else names, fenced, name, self.replicas)

    def new_store_id(self) -> int:
        self.store_ids += 1
        return self.store_ids

    def seed_copies(self) -> None:
        """The stores a workload filled before the run, copied to their mirrors too (as
        if written by commits the mirrors replayed)."""
        for name, node in self.nodes.items():
            target = self.mirror_of(name)
            if target is not None:
                self.nodes[target].copies[name] = copy.deepcopy(node.store)

    # ---- faults ------------------------------------------------------------------------------------
    def _cut(self, a: str, b: str, cut: bool) -> None:
        for link in ((a, b), (b, a)):
            (self.cut.add if cut else self.cut.discard)(link)
        self.note(f"{'cut' if cut else 'healed'} {a} <-> {b}")

    def _full(self, name: str, room: int | None) -> None:
        """The disk takes only `room` more bytes (0: full), or has room again (None)."""
        self.nodes[name].store.room = room
        self.note(f"{name}'s disk has room again" if room is None else
                  f"{name}'s disk full" if room == 0 else
                  f"{name}'s disk nearly full (room for {room} bytes)")
        if room is None:
            self.nodes[name].schedule_tick()

    # ---- the network -------------------------------------------------------------------------------
    def send(self, src: str, dst: str, kind: str, fields: dict, blobs=()) -> None:
        """A message from a node or a client; delivered (or not) by the seed's dice. One a
        node sends itself is taken as the real node takes it (shell._loop_back): a kind
        the node does not loop back is dropped there, so here it is a violation."""
        if src == dst and src in self.nodes and kind not in TO_SELF:
            self.violate(f"{src} sent itself a {kind}, which a real node drops "
                         f"(shell._loop_back): {fields}")
            return
        if (src, dst) in self.cut or self.rng.random() < self.faults.loss:
            return
        control = encode(fields)
        copies = 2 if self.rng.random() < self.faults.duplicate else 1
        for _ in range(copies):
            delay = 0.0002 + self.rng.expovariate(1 / 0.001) + self.slow.get((src, dst), 0.0)
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
            if src in self.fenced:  # the cluster file says so: its messages are refused
                return
            self.clients[dst].receive(src, kind, fields)
        elif dst in self.operators:
            self.operators[dst].receive(src, kind, fields)
        else:
            node = self.nodes[dst]
            if node.up and node.state and src in node.state.fenced and not (  # the gate
                    node.state.holding(src) and kind in ("fetched", "mirror", "snapshot")):
                return  # refuses it (shell.admit: but what a node being removed answers)
            if node.up and node.state is None and src in {*node.store.fenced,
                                                          *node.file_fences()} and not (
                    src in node.store.heirs and not node.store.heirs[src][1] and
                    kind in ("fetched", "mirror", "snapshot")):
                return  # (restoring: the shell knows the fences it wrote before it serves)
            if src in self.nodes and src not in node.names:  # (not a member there yet)
                return
            node.receive(src, kind, fields, blobs)
