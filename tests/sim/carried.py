"""Large values by hash, in the simulator (program._encode, machine/questions.py): programs
that carry a large value from node to node, under crashes, partitions, lost and doubled
messages, full disks and failovers.

A program carries one value (bytes standing for a 16 MiB table) through 2-6 hops; at some
steps it changes it (a new value travels inside the hop and is kept by nobody). A value the
same as at its hop before goes by hash: the sending node keeps it among its sources, and the
receiver asks the sending node - or its heir - for it before it runs the program. At every
step the program checks that the value it holds is the one it had. What a run must keep:

- every program ends ok (no value lost: a node that sent a hop naming a value by hash keeps
  it on its disk, copied to its mirror, and answers for it after a restart or a takeover) -
  but one whose hop came from a node declared gone for good, which ends NodeGone (that
  node's disk went with it);
- a program holds, at each step, the value it carried (never another program's, never an
  older one).
"""

from __future__ import annotations

import hashlib
import random

from tests.sim.clients import SimClient
from tests.sim.world import World


def value(pid: str, version: int) -> bytes:
    return hashlib.sha256(f"{pid}/{version}".encode()).digest() * 64  # (2 KiB stands for it)


class Carrier:
    def __init__(self, pid: str, stops: list, changes: list) -> None:
        self.pid = pid
        self.stops = stops  # [node]: where it goes, in turn
        self.changes = changes  # [bool]: it changes its value before hop i

    def run(self, node, prog, state) -> None:
        if state is None:  # (its first segment, where it was submitted)
            step, version, held = 0, 0, value(self.pid, 0)
        else:
            (step, version), found = state
            held = found["table"]
        if held != value(self.pid, version):
            node.world.violate(f"{self.pid} at step {step} on {node.name} holds a value that "
                               f"is not its version {version}")
        if step == len(self.stops):
            node.print(prog, f"done {self.pid}\n")
            node.finish(prog)
            return
        if self.changes[step]:
            version += 1
            held = value(self.pid, version)
        dest = self.stops[step]
        if node.state.route(dest) == node.name:  # (here already: the next stop)
            self.run(node, prog, ((step + 1, version), {"table": held}))
            return
        node.hop(prog, dest, (step + 1, version), {"table": held})


def setup(world: World, programs: int | None = None, within: float = 1.0) -> list:
    rng = random.Random(f"carried-{world.seed}")
    client = SimClient(world)
    made = []
    for k in range(programs if programs is not None else rng.randint(2, 6)):
        pid = f"{client.name}-{k}"
        stops = [rng.choice(world.names) for _ in range(rng.randint(2, 6))]
        changes = [rng.random() < 0.25 for _ in stops]
        world.programs[pid] = Carrier(pid, stops, changes)
        world.at(world.now + rng.uniform(0, within), client.submit, pid,
                 rng.choice(world.names))
        made.append(pid)
    world.carried = (made, client)
    world.submitting_until = max(world.submitting_until, within)
    world.seed_copies()
    return made


def check(world: World) -> None:
    made, client = world.carried
    gone = world.faults.gone  # (declared gone then, or about to be when the run ended)
    for pid in made:
        if pid not in client.runs:
            world.violate(f"{pid} was never submitted (the run ended first)")
            continue
        reports = client.runs[pid].reports
        if not reports:
            continue  # (World.run reported it)
        ok, error = reports[0]
        if not ok and not (gone and error and error.startswith("NodeGone")):
            world.violate(f"{pid} failed: {error}")


def run_seed(seed: int, **kw) -> World:
    world = World(seed, **kw)
    setup(world)
    world.run()
    if not world.violations:
        check(world)
    return world
