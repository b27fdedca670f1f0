"""Garbage collection in the simulator: collection cycles (swarm/node/machine/gc.py, driven as
swarm/garbage.py drives them, and deciding with its own `unreachable`) run again and again while programs make Refs and carry them
from node to node, with the seed's faults (lost, duplicated and delayed messages, partitions,
crashes, full disks).

Programs (each submitted by a client at a random moment):
- a carrier makes a Ref where it starts, carries only its id through one to three other nodes
  (in its continuation), then goes back and reads it;
- a stasher makes a Ref and puts its id into a box (a named Ref, a root) on another node; a
  fetcher later takes every id out of a box (the box no longer holds them), carries them to
  their homes and reads them;
- an asking fetcher does the same without moving: it asks the box's node to take them out
  (a question: the ids come back in its answer, a message outside any outbox), then goes to
  their homes and reads them;
- a dropper makes Refs and forgets them: garbage.

The invariant, checked where it matters: a program never finds a Ref it holds deleted (every
read of a Ref a program holds succeeds). Collections that a fault stops are started again.
At the end, with every fault over, one more cycle: every Ref a dropper made is gone, and
every Ref still in a box is there.
"""

from __future__ import annotations

from swarm.continuation import codec
from swarm.garbage import unreachable
from tests.sim.clients import SimClient
from tests.sim.world import World

ANSWER = 0.3  # how long it waits for answers before it asks the silent nodes again
TRIES = 4  # ... and how often it asks before it gives the cycle up


def made_id(node: str, prog, k: int) -> str:
    """A collectable id (`<node>.<8 hex>.<n>`), the same when the segment runs again."""
    return f"{node}.{prog.next_id()[:8]}.{k}"


def box(node: str) -> str:
    return f"{node}.named.box"


class Carrier:
    def __init__(self, world: World) -> None:
        self.route = [world.rng.choice(world.names) for _ in range(world.rng.randint(1, 3))]

    def run(self, node, prog, state) -> None:
        data = node.state.data
        if state is None:
            ref = made_id(node.name, prog, 0)
            data.write(ref, ["carried", ref])
            state = (ref, list(self.route))
        ref, route = state
        if route:
            node.hop(prog, route[0], (ref, route[1:]))
            return
        home = ref.split(".")[0]
        if node.name != home:
            node.hop(prog, home, (ref, []))
            return
        check_read(node, prog, ref)
        node.finish(prog)


class Stasher:
    def __init__(self, world: World) -> None:
        self.box = box(world.rng.choice(world.names))

    def run(self, node, prog, state) -> None:
        data = node.state.data
        if state is None:
            ref = made_id(node.name, prog, 0)
            data.write(ref, ["stashed", ref])
            state = ref
        home = self.box.split(".")[0]
        if node.name != home:
            node.hop(prog, home, state)
            return
        data.write(self.box, list(data.read(self.box)) + [state])
        node.finish(prog)


class Fetcher:
    def __init__(self, world: World) -> None:
        self.box = box(world.rng.choice(world.names))

    def run(self, node, prog, state) -> None:
        data = node.state.data
        if state is None:
            home = self.box.split(".")[0]
            if node.name != home:
                node.hop(prog, home, "take")
                return
            state = "take"
        if state == "take":
            state = list(data.read(self.box))
            data.write(self.box, [])
        read_each(node, prog, state)


def read_each(node, prog, ids: list) -> None:
    """Read the Refs of `ids` where they live (going there), then end."""
    while ids and ids[0].split(".")[0] == node.name:
        check_read(node, prog, ids.pop(0))
    if ids:
        node.hop(prog, ids[0].split(".")[0], ids)
        return
    node.finish(prog)


class AskingFetcher:
    def __init__(self, world: World) -> None:
        self.box = box(world.rng.choice(world.names))

    def run(self, node, prog, state) -> None:
        if state is None:
            home = self.box.split(".")[0]
            if node.name == home:  # (here: taken at once)
                data = node.state.data
                state = list(data.read(self.box))
                data.write(self.box, [])
            else:
                node.ask(prog, home, "take", self.box, None,
                         lambda reply: self._taken(node, prog, reply))
                return
        read_each(node, prog, state)

    def _taken(self, node, prog, reply) -> None:
        if not isinstance(reply, dict) or "value" not in reply:  # (its node was declared gone)
            node.finish(prog, ok=False, error=f"NodeGone: {reply}")
            return
        read_each(node, prog, codec.loads(reply["value"]))


def serve(node, action: str, ref: str, arg) -> tuple[dict, bytes]:
    """A box's node: its ids taken out, and answered (refserve.serve's part)."""
    assert action == "take", action
    data = node.state.data
    ids = list(data.read(ref))
    data.write(ref, [])
    return {}, codec.dumps(ids)


class Dropper:
    def __init__(self, world: World) -> None:
        self.count = world.rng.randint(1, 4)

    def run(self, node, prog, state) -> None:
        for k in range(self.count):
            ref = made_id(node.name, prog, k)
            node.state.data.write(ref, ["dropped", ref])
            node.world.dropped.add(ref)
        node.finish(prog)


def check_read(node, prog, ref: str) -> None:
    try:
        node.state.data.read(ref)
    except KeyError:
        node.world.violate(f"program {prog.id} holds {ref}, but it was collected")


class Coordinator:
    """`swarm gc` in the simulator: mark every live node, flush, end (flushing again what a
    node says is pending), sweep (swarm/garbage.py); a cycle a fault stops (no answer, a
    node that restarted) is given up and started again."""

    def __init__(self, world: World, every: float = 0.3, first: float | None = None,
                 final: bool = False) -> None:
        """Cycles `every` seconds, the first at `first` seconds from now (default: at random
        within `every`); `final`: one cycle, no more."""
        self.world, self.name, self.every = world, "gc", every
        self.cycle = ""
        self.phase = ""
        self.answers: dict[str, dict] = {}
        self.cycles = self.completed = self.deleted = 0
        self.final = final
        world.operators[self.name] = self
        first = world.rng.uniform(0, every) if first is None else first
        world.at(world.now + first, self.start)

    def start(self) -> None:
        self.cycle = f"c{self.cycles}"
        self.cycles += 1
        self.marks: dict[str, dict] = {}
        self.live = [n for n in self.world.names if n not in self.world.fenced]  # (as garbage.py)
        self._ask("mark", {})

    def _ask(self, phase: str, fields_by_node, nodes: list | None = None) -> None:
        self.phase, self.answers, self.fields = phase, {}, fields_by_node
        self.asked = self.live if nodes is None else nodes
        self._send(1)

    def _send(self, tries: int) -> None:
        w = self.world
        for n in self.asked:
            if n not in self.answers:
                fields = self.fields.get(n, {}) if self.phase == "sweep" else \
                    {"nodes": self.live}
                w.send(self.name, n, "gc", {"cycle": self.cycle, "phase": self.phase,
                                            **fields})
        w.at(w.now + ANSWER, self._timeout, self.cycle, self.phase, tries)

    def _timeout(self, cycle: str, phase: str, tries: int) -> None:
        if cycle == self.cycle and phase == self.phase and len(self.answers) < len(self.asked):
            if tries < TRIES:
                self._send(tries + 1)
            else:
                self._again()  # a node did not answer: nothing (or part) collected

    def _later(self, cycle: str, phase: str, nodes: list) -> None:
        if cycle == self.cycle and self.phase == "again":
            self._ask(phase, {}, nodes)

    def _again(self) -> None:
        self.phase = ""
        self.world.at(self.world.now + self.every, self.start)

    def receive(self, src: str, kind: str, fields: dict) -> None:
        if kind != "gc-report" or fields["cycle"] != self.cycle or \
                fields["phase"] != self.phase:
            return
        self.answers[src] = fields
        if len(self.answers) < len(self.asked):
            return
        w = self.world
        if self.phase == "mark":
            if any(a.get("lost") for a in self.answers.values()):
                return self._again()
            self.marks, self.ends, self.rounds = dict(self.answers), {}, 0
            self._ask("flush", {})
        elif self.phase == "flush":
            if any(a.get("lost") for a in self.answers.values()):
                return self._again()
            self._ask("end", {}, [n for n in self.live if n not in self.ends])
        elif self.phase == "end":
            if any(a.get("lost") for a in self.answers.values()):
                return self._again()
            pending = set()
            for n, a in self.answers.items():
                if a.get("pending"):
                    pending.update(a["pending"])
                else:
                    self.ends[n] = a
            if len(self.ends) < len(self.live):  # (a flush may be lost: those flush again)
                self.rounds += 1
                if self.rounds > 40:  # (as garbage.py's deadline: one of them was fenced)
                    return self._again()
                again = sorted(pending & set(self.live))
                self.phase = "again"  # (late answers of this round are not counted twice)
                if again:
                    w.at(w.now + 0.01, self._later, self.cycle, "flush", again)
                else:
                    w.at(w.now + 0.01, self._later, self.cycle, "end",
                         [n for n in self.live if n not in self.ends])
                return
            garbage = unreachable(self.marks, self.ends)[0]  # (as `swarm gc` decides)
            self._ask("sweep", {n: {"ids": sorted(ids)} for n, ids in garbage.items()})
        elif self.phase == "sweep":
            self.completed += 1
            self.deleted += sum(a["deleted"] for a in self.answers.values())
            self.phase = ""
            if not self.final:
                w.at(w.now + self.every, self.start)

def setup(world: World, programs: int | None = None) -> Coordinator:
    rng = world.rng
    world.dropped = set()
    world.submitting_until = 1.5
    for n in world.names:
        world.nodes[n].store.refs[box(n)] = codec.dumps([])
    client = SimClient(world)
    kinds = (Carrier, Carrier, Stasher, Stasher, Fetcher, AskingFetcher, Dropper)
    world.serve = serve
    for k in range(programs if programs is not None else rng.randint(4, 14)):
        pid = f"{client.name}-{k}"
        world.programs[pid] = rng.choice(kinds)(world)
        world.at(world.now + rng.uniform(0, 1.5), client.submit, pid, rng.choice(world.names))
    return Coordinator(world)


def run_seed(seed: int, **kw) -> World:
    world = World(seed, **kw)
    coordinator = setup(world)
    world.run(drain=1.0)
    if world.violations:
        return world
    check_final(world, coordinator)
    return world


def check_final(world: World, coordinator: Coordinator) -> None:
    """Every fault over and every program done: one more cycle (or a few, if one is still
    under way or a lost message stops one) deletes every dropped Ref, and nothing in a box."""
    coordinator.final = True
    for _ in range(5):
        done = coordinator.completed
        if coordinator.phase == "":
            world.at(world.now, coordinator.start)
        world.run(limit=world.now - world.start + 5.0, drain=None)
        if world.violations:
            return
        if coordinator.completed > done and coordinator.phase == "":
            # a cycle that started before the last program ended may have kept some
            left = [r for r in world.dropped if _stored(world, r)]
            if not left:
                break
    left = [r for r in world.dropped if _stored(world, r)]
    if left:
        world.violate(f"after every program ended, {len(left)} dropped Refs are still stored "
                      f"after a collection: {sorted(left)[:3]}")
    for n in world.names:
        node = world.nodes[n]
        if n in world.fenced or not node.up:
            continue
        for ref in codec.loads(node.store.refs[box(n)]):
            if ref.split(".")[0] not in world.fenced and not _stored(world, ref):
                world.violate(f"{ref}, in the box on {n}, was collected")


def _stored(world: World, ref: str) -> bool:
    node = world.nodes[ref.split(".")[0]]
    return ref in node.store.refs and ref.split(".")[0] not in world.fenced
