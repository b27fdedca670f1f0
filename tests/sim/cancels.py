"""Cancels in the simulator (machine/clients.cancel, resend.py, state._run; the kernel's part
in SimNode._cancel): programs that go round the nodes for ever until cancelled, and short
ones cancelled or not, under crashes, partitions, lost and doubled messages, full disks and
nodes declared gone.

A spinner prints a line and then hops to another node or is switched out, step after step,
until it is cancelled; a short program does the same for a few steps and ends ok. The client
cancels every spinner, and a third of the short ones, at a random moment after submitting
it: it asks every node, again each second until told the outcome (`swarm cancel`, Ctrl-C of
`swarm run`). What a run must keep:

- every spinner ends, cancelled (KeyboardInterrupt) - or NodeGone when it was on a node
  declared gone (a spinner still running SPIN_SECONDS after the start, every fault long
  over, was never reached by its cancel: it then ends ok, and that is the violation);
- a short program ends ok or cancelled;
- no program takes a step once its client was told its outcome (it is not running anywhere)
  - but a segment run again after its node's crash, whose hops and output are taken once.
"""

from __future__ import annotations

import random

from tests.sim.clients import SimClient
from tests.sim.world import World

SPIN_SECONDS = 30.0  # a spinner still running this long after the start was never stopped


class Stepper:
    def __init__(self, pid: str, steps: int | None, moves: list) -> None:
        self.pid, self.steps, self.moves = pid, steps, moves  # steps None: a spinner

    def run(self, node, prog, state) -> None:
        self._step(node, prog, state or 0)

    def _step(self, node, prog, i: int) -> None:
        w = node.world
        run = w.cancels[1].runs.get(self.pid)
        if run is not None and run.reports and not prog.again:  # (`again`: a segment its
            # node ran before a crash, run again - what it sends is taken once: ledger.py)
            w.violate(f"{self.pid} takes step {i} on {node.name} after its client was told "
                      f"{run.reports[0]}")
            return
        if i == self.steps or self.steps is None and w.now - w.start > SPIN_SECONDS:
            node.print(prog, f"{self.pid} done\n")
            node.finish(prog)
            return
        node.print(prog, f"{self.pid} step {i}\n")
        dest = self.moves[i % len(self.moves)]
        if dest is None or node.state.route(dest) == node.name:
            node.switch_out(prog, lambda: self._step(node, prog, i + 1))
        else:
            node.hop(prog, dest, i + 1)


def setup(world: World, programs: int | None = None, within: float = 1.0) -> list:
    rng = random.Random(f"cancels-{world.seed}")
    world.pause_rng = rng
    client = SimClient(world)
    made = []
    for k in range(programs if programs is not None else rng.randint(2, 5)):
        pid = f"{client.name}-{k}"
        spinner = k == 0 or rng.random() < 0.4
        moves = [rng.choice([*world.names, None]) for _ in range(rng.randint(2, 5))]
        world.programs[pid] = Stepper(pid, None if spinner else rng.randint(1, 8), moves)
        at = world.now + rng.uniform(0, within)
        world.at(at, client.submit, pid, rng.choice(world.names))
        if spinner or rng.random() < 1 / 3:
            world.at(at + rng.uniform(0.05, 3.0), client.cancel, pid)
        made.append((pid, spinner))
    world.cancels = (made, client)
    world.submitting_until = max(world.submitting_until, within + 3.0)
    world.seed_copies()
    return made


def check(world: World) -> None:
    made, client = world.cancels
    gone = world.faults.gone
    for pid, spinner in made:
        if pid not in client.runs:
            world.violate(f"{pid} was never submitted (the run ended first)")
            continue
        reports = client.runs[pid].reports
        if not reports:
            continue  # (World.run reported it)
        ok, error = reports[0]
        if error and error.startswith("NodeGone") and gone:
            continue
        if spinner and (ok or error != "KeyboardInterrupt: cancelled"):
            world.violate(f"spinner {pid} ended {(ok, error)}: its cancel did not stop it")
        if not spinner and not ok and error != "KeyboardInterrupt: cancelled":
            world.violate(f"{pid} ended {(ok, error)}")


def run_seed(seed: int, **kw) -> World:
    world = World(seed, **kw)
    setup(world)
    world.run(max_steps=400_000)
    if not world.violations:
        check(world)
    return world
