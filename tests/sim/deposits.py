"""Deposits asked of other nodes, in the simulator: writes a program asks of the node where
a Ref lives (a `set` under --policy fetch, machine/answers.py), under crashes of both sides.

A program makes 1-4 deposits, each into an account on a random node, asked from where the
program is (a question with an id: the account's node appends (deposit id, amount) to the
account's history and answers). Between deposits it may hop to another node (a new segment)
or be switched out. When the asking node dies, the program runs again from its last hop and
asks its questions again, under the same ids: the node asked must answer them without doing
them again. What each run must keep:

- every deposit is in its account's history at most once;
- a program told ok has each of its deposits there exactly once (unless the account's node
  was declared gone: its disk went with it).
"""

from __future__ import annotations

import random

from swarm.continuation import codec
from swarm.node.machine import NO_ANSWER, NODE_GONE
from tests.sim.clients import SimClient
from tests.sim.world import World


def account(node: str) -> str:
    return f"{node}.acct"


class Deposits:
    def __init__(self, pid: str, deposits: list, hops: list, pauses: list) -> None:
        self.pid = pid
        self.deposits = deposits  # [(account, amount)]
        self.hops = hops  # [node or None]: after deposit i, hop there (None: stay)
        self.pauses = pauses  # [bool]: switched out after deposit i's answer

    def run(self, node, prog, state) -> None:
        self._next(node, prog, state or 0)

    def _next(self, node, prog, i: int) -> None:
        if i == len(self.deposits):
            node.finish(prog)
            return
        acct, amount = self.deposits[i]
        node.ask(prog, acct.split(".")[0], "deposit", acct, (f"{self.pid}.{i}", amount),
                 lambda reply: self._answered(node, prog, i, reply))

    def _answered(self, node, prog, i: int, reply) -> None:
        if reply in (NO_ANSWER, NODE_GONE) or reply.get("error"):
            node.finish(prog, ok=False, error=f"NodeGone: deposit {i}: {reply}")
            return
        if self.pauses[i]:
            node.switch_out(prog, lambda: self._moved_on(node, prog, i))
        else:
            self._moved_on(node, prog, i)

    def _moved_on(self, node, prog, i: int) -> None:
        dest = self.hops[i]
        # (here, as the shell sees it: a removed node's name means its heir - fences.py)
        if dest is not None and node.state.route(dest) != node.name:
            node.hop(prog, dest, i + 1)
        else:
            self._next(node, prog, i + 1)


def serve(node, action: str, ref: str, arg) -> tuple[dict, bytes | None]:
    """The account's node: a deposit appended to its history (refserve.serve's part)."""
    assert action == "deposit", action
    data = node.state.data
    history = data.read(ref)
    data.write(ref, history + [arg])
    return {}, codec.dumps(None)


def setup(world: World, programs: int | None = None, within: float = 1.0) -> list:
    rng = random.Random(f"deposits-{world.seed}")  # (the faults keep the seed's own dice)
    world.pause_rng = rng
    for name in world.names:
        world.nodes[name].store.refs[account(name)] = codec.dumps([])
    world.serve = serve
    client = SimClient(world)
    made = []
    for k in range(programs if programs is not None else rng.randint(1, 6)):
        n = rng.randint(1, 4)
        p = Deposits(f"d{k}", [(account(rng.choice(world.names)), rng.randint(1, 9))
                               for _ in range(n)],
                     [rng.choice((None, None, *world.names)) for _ in range(n)],
                     [rng.random() < 0.3 for _ in range(n)])
        pid = f"{client.name}-{k}"
        world.programs[pid] = p
        world.at(world.now + rng.uniform(0, within), client.submit, pid,
                 rng.choice(world.names))
        made.append((pid, p))
    world.deposits = (made, client, list(world.names))
    world.submitting_until = within
    world.seed_copies()
    return made


def check(world: World) -> None:
    made, client, names = world.deposits
    histories = {}
    for name in names:  # (the nodes with accounts: not those that joined later)
        if name in world.fenced and name not in world.heirs:
            continue
        history = codec.loads(world.nodes[world.route(name)].store.refs[account(name)])
        ids = [d for d, _ in history]
        for d in set(ids):
            if ids.count(d) > 1:
                world.violate(f"deposit {d} made {ids.count(d)} times in {account(name)}")
        histories[account(name)] = set(ids)
    for pid, p in made:
        reports = client.runs[pid].reports if pid in client.runs else None
        if not reports or not reports[0][0]:
            continue
        for i, (acct, _) in enumerate(p.deposits):
            if acct in histories and f"{p.pid}.{i}" not in histories[acct]:
                world.violate(f"{pid} was told ok, but its deposit {i} is not in {acct}")


def run_seed(seed: int, **kw) -> World:
    """One run; it goes on 5 s after every program's outcome (the nodes' forgets)."""
    world = World(seed, **kw)
    setup(world)
    world.run(drain=5.0)
    if not world.violations:
        check(world)
    return world
