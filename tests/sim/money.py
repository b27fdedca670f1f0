"""The money workload in the simulator: transfers between accounts on different nodes, and
the invariants a run must keep (as tests/faults/test_money.py checks on real processes).

An account is a Ref holding (balance, history: a list); a transfer of x from A to B debits A where A
lives (appending (tid, -x) to A's history), hops to B's node and credits B (appending
(tid, +x)), then ends with "ok". Its client is told the outcome. A transfer may be switched out
right after its debit (`pause`: as a node switches out a program after its 10 ms slice), the
node handling other events - and writing its debit - before it goes on (ledger.py: a
segment cut mid-way): a crash then must not debit twice; the program ends with PartlyDone.
"""

from __future__ import annotations

import random

from swarm.continuation import codec
from tests.sim.clients import SimClient
from tests.sim.world import World

START = 100


def account(node: str, i: int) -> str:
    return f"{node}.acct.{i}"


class Transfer:
    def __init__(self, tid: str, src: str, dst: str, amount: int, pause: bool = False) -> None:
        self.tid, self.src, self.dst, self.amount = tid, src, dst, amount
        self.pause = pause

    def run(self, node, prog, state) -> None:
        data = node.state.data
        if (state or "debit") == "debit":
            balance, history = data.read(self.src)
            data.write(self.src, (balance - self.amount, history + [(self.tid, -self.amount)]))
            if self.pause:
                node.switch_out(prog, lambda: self._debited(node, prog))
            else:
                self._debited(node, prog)
            return
        self._credit(node, prog)

    def _debited(self, node, prog) -> None:
        node.print(prog, f"debit {self.tid}\n")
        home = self.dst.split(".")[0]
        if node.state.route(home) != node.name:  # (a removed node's accounts: its heir's)
            node.hop(prog, home, "credit")
            return
        self._credit(node, prog)

    def _credit(self, node, prog) -> None:
        data = node.state.data
        balance, history = data.read(self.dst)
        data.write(self.dst, (balance + self.amount, history + [(self.tid, self.amount)]))
        node.print(prog, f"credit {self.tid}\n")
        node.finish(prog)


def setup(world: World, accounts: int = 2, transfers: int | None = None,
          pairs: list | None = None, within: float = 1.0,
          pauses: float = 0.0) -> list[Transfer]:
    """Accounts on every node, and transfers between random accounts (or between the
    `pairs` of account ids given, in turn), submitted by one client at random moments of
    the first `within` seconds; `pauses`: the share of them switched out after their debit
    (picked by a generator of its own: the seeds' other choices stay as they were)."""
    rng = world.rng
    pausing = random.Random(f"pauses-{world.seed}")
    world.pause_rng = pausing
    ids = [account(n, i) for n in world.names for i in range(accounts)]
    for ref_id in ids:
        # (a list: a value that can change, so the node keeps it in its store, not its cache)
        world.nodes[ref_id.split(".")[0]].store.refs[ref_id] = codec.dumps((START, []))
    client = SimClient(world)
    made = []
    for k in range(transfers if transfers is not None else rng.randint(1, 6)):
        src, dst = pairs[k % len(pairs)] if pairs else rng.sample(ids, 2)
        t = Transfer(f"t{k}", src, dst, rng.randint(1, 20),
                     pause=pauses > 0 and pausing.random() < pauses)
        pid = f"{client.name}-{k}"
        world.programs[pid] = t
        world.at(world.now + rng.uniform(0, within), client.submit, pid, src.split(".")[0])
        made.append((pid, t))
    world.money = (ids, made, client)
    # (else a run without early faults ended before they were submitted)
    world.submitting_until = max(world.submitting_until, within)
    world.seed_copies()
    return made


def check(world: World) -> None:
    """After the run: exactly once, and what each client was told is what happened."""
    ids, made, client = world.money
    histories = {}
    gone = world.fenced - set(world.heirs)
    for ref_id in ids:
        if ref_id.split(".")[0] in gone:  # its disk is lost with it
            histories[ref_id] = None
            continue
        holder = world.nodes[world.route(ref_id.split(".")[0])]  # (a removed node's: its heir)
        balance, history = codec.loads(holder.store.refs[ref_id])
        if balance != START + sum(x for _, x in history):
            world.violate(f"{ref_id}: balance {balance} is not what its history says")
        histories[ref_id] = [tid for tid, _ in history]
        for tid in set(histories[ref_id]):
            if histories[ref_id].count(tid) > 1:
                world.violate(f"{tid} applied {histories[ref_id].count(tid)} times to {ref_id}")
    for pid, t in made:
        reports = client.runs[pid].reports if pid in client.runs else None
        if not reports:
            continue  # (World.run reported it)
        ok, error = reports[0]
        if error is not None and error.startswith("NodeGone"):
            continue  # its outcome is unknown: anything is possible but a later report
        if error is not None and error.startswith("PartlyDone") and not t.pause:
            world.violate(f"{pid} ({t.tid}) ended with PartlyDone, but its segments never "
                          f"parked nor were switched out: {error}")
        src, dst = histories[t.src], histories[t.dst]
        debited = src is None or t.tid in src
        credited = t.tid in dst if dst is not None else None
        if ok and not (debited and credited is not False):
            world.violate(f"{pid} ({t.tid}) was told ok, but debited={debited} "
                          f"credited={credited}: an acknowledged write was lost")
        if not ok and credited:  # (a credit on a node declared gone is not seen)
            world.violate(f"{pid} ({t.tid}) was told it failed ({error}), but it went on and "
                          f"credited {t.dst}")


def run_seed(seed: int, pauses: float = 0.0, **kw) -> World:
    world = World(seed, **kw)
    setup(world, pauses=pauses)
    world.run()
    if not world.violations:
        check(world)
    return world
