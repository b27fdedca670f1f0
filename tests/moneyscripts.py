"""The money workload's programs (tests/faults/test_money.py, tests/test_grow.py): accounts
are Refs holding [balance, history]; a transfer debits one and credits another, each on its
own node, and writes its id into both histories."""

import random
from collections import Counter

SETUP = """
import json, sys
from swarm import Ref
RESULT = [[r.id, r.hint] for r in (Ref([int(sys.argv[2]), []], at=at)
                                   for at in json.loads(sys.argv[1]))]
"""

TRANSFER = """
import sys
from swarm.refs import Ref
src, dst = Ref._handle(sys.argv[1], sys.argv[2]), Ref._handle(sys.argv[3], sys.argv[4])
tid, amount = sys.argv[5], int(sys.argv[6])
balance, history = src.get()              # on the debited account's node
src.set([balance - amount, history + ["-" + tid]])
balance, history = dst.get()              # on the credited account's node
dst.set([balance + amount, history + ["+" + tid]])
RESULT = tid
"""

READ_ALL = """
import json, sys
from swarm.refs import Ref
RESULT = [Ref._handle(*h).get() for h in json.loads(sys.argv[1])]
"""


def transfers(handles: list, n: int, seed: int) -> list[tuple]:
    """n transfers between accounts on different nodes: (tid, src, dst, amount)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        src, dst = rng.sample(range(len(handles)), 2)
        while handles[src][1] == handles[dst][1]:
            dst = rng.randrange(len(handles))
        out.append((f"t{i}", src, dst, rng.randint(1, 50)))
    return out


class Clients:
    """Clients running transfers (TRANSFER, at `path`), each share in a thread of its own
    with a connection of its own; what they were told: `results` (tid -> RESULT), `errors`,
    `done` (tids in the order they ended). `pace(j, n)`: called before the j-th of a
    share's n transfers (a test that waits for its faults to fall among them)."""

    def __init__(self, config, path: str, handles: list, timeout: float = 120.0,
                 pace=None) -> None:
        self.config, self.path, self.handles = config, path, handles
        self.timeout, self.pace = timeout, pace
        self.results: dict = {}
        self.errors: list = []
        self.done: list = []

    def run(self, share: list) -> None:
        from swarm.client import Cluster

        c = Cluster(self.config)
        try:
            for j, (tid, src, dst, amount) in enumerate(share):
                if self.pace is not None:
                    self.pace(j, len(share))
                o = c.run_file(self.path, argv=[*self.handles[src], *self.handles[dst], tid,
                                                str(amount)], timeout=self.timeout)
                if o.error:
                    self.errors.append(f"{tid}: {o.error}")
                self.results[tid] = o.value
                self.done.append(tid)
        except Exception as e:
            self.errors.append(f"client: {type(e).__name__}: {e}")
        finally:
            c.close()


def check_money(accounts: list, work: list, total: int) -> None:
    """The money workload's invariants over the accounts as read at the end ([balance,
    history]): the total conserved, every transfer of `work` in both accounts' histories
    once - none made twice, no acknowledged one missing."""
    seen = Counter(entry for _, history in accounts for entry in history)
    expected = Counter([f"-{tid}" for tid, *_ in work] + [f"+{tid}" for tid, *_ in work])
    assert sum(balance for balance, _ in accounts) == total  # conserved
    assert +(seen - expected) == Counter()  # none made twice
    assert +(expected - seen) == Counter()  # no acknowledged write missing
