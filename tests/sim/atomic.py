"""Atomic blocks in the simulator: the commit protocol of swarm/node/machine/txn.py (the node's
real code - RefData's versions, Txns' checks and locks, plan() and step()) over three nodes'
RefData, with many blocks and plain writers interleaved step by step in an order the seed
picks. A step is one read where a value lives, one commit step on one node, or one plain
write; every block goes through its plan as txnserve.commit does on real nodes.

Blocks: transfers between two accounts (often on two nodes: prepare, check, commit or
abort), readers of every account (committed only if all their reads still hold: a torn read
would show a wrong sum), and plain writers that rewrite an account's value as it is (a new
version, the same value: a block that read before must conflict) - waiting while it is
locked, as refserve does. After every step: no lock is held by a block that is not
committing. At the end:
- every committed reader saw the total (no committed block is torn);
- the total is conserved, and every committed transfer is in both accounts' histories
  exactly once, every other transfer in neither (no lost or duplicated update);
- no lock or prepared block is left;
- the history of every attempt (tests/histories/elle.py: each account's list of transfer
  attempts is a list-append object; a transfer reads both accounts' lists and appends its
  attempt id to each, a reader reads every list; committed attempts are "ok", conflicted
  ones "fail", and a last read of every account ends it) has no anomaly: no G0, G1, G2, lost
  update or duplicated append.

What this does not simulate: lost messages and crashes between a prepare and its commit
(docs/atomic.md says what a crash does to a block spanning nodes).
"""

from __future__ import annotations

import random

from swarm.continuation import codec
from swarm.node.machine.data import RefData
from swarm.node.machine.txn import plan, step
from tests.histories import elle
from tests.sim.store import SimStore

NODES = ("n1", "n2", "n3")
START = 100


class Run:
    def __init__(self, seed: int, accounts: int = 4, blocks: int = 12) -> None:
        self.rng = rng = random.Random(seed)
        self.data = {n: RefData(SimStore(), codec.dumps, codec.loads, version_tag=f"{n}:0")
                     for n in NODES}
        self.home: dict[str, str] = {}
        self.accounts = []
        for i in range(accounts):
            node = rng.choice(NODES)
            ref_id = f"{node}.acct{i}"
            self.home[ref_id] = node
            self.data[node].reader.refs[ref_id] = codec.dumps((START, ()))
            self.accounts.append(ref_id)
        self.total = START * accounts
        self.violations: list[str] = []
        self.committed: dict[str, tuple] = {}  # transfer id -> (src, dst, amount)
        self.sums: list[int] = []  # what each committed reader saw
        self.committing: set[str] = set()  # blocks between their first and last commit step
        self.history: list[elle.Txn] = []  # every attempt of every block, as list-appends
        self.anomalies: list[elle.Anomaly] = []
        self.steps = 0  # the clock: steps taken so far
        self.agents = []
        for k in range(blocks):
            kind = rng.choice(("transfer", "transfer", "reader", "plain"))
            self.agents.append(getattr(self, kind)(f"{kind}{k}"))

    # ---- what a block does, step by step ------------------------------------------------------
    def _read(self, ref_id: str):
        data = self.data[self.home[ref_id]]
        return data.versions.version(ref_id), data.read(ref_id)

    def _commit(self, txn: str, reads: dict, writes: dict):
        """txnserve.commit, a step at a time (yields between steps); returns the conflict."""
        parts: dict = {}
        for ref_id, version in reads.items():
            parts.setdefault(self.home[ref_id], ({}, {}))[0][ref_id] = version
        for ref_id, value in writes.items():
            parts.setdefault(self.home[ref_id], ({}, {}))[1][ref_id] = value
        self.committing.add(txn)
        prepared, why = [], None
        for where, action in plan(parts):
            if action == "txn-prepare":
                prepared.append(where)
            why = self._step(where, action, txn, *parts[where])
            if why is not None:
                break
            yield
        for where in prepared:
            self._step(where, "txn-commit" if why is None else "txn-abort", txn, {}, {})
            yield
        self.committing.discard(txn)
        return why

    def _step(self, where, action, txn, reads, writes):
        data = self.data[where]
        why = step(data.txns, lambda r: self.home.get(r) == where, action, txn, reads, writes,
                   data.write)
        if action == "txn-commit" and why is not None:
            self.violations.append(f"{txn}: commit failed on {where}: {why}")
        return why

    def transfer(self, name: str):
        src, dst = self.rng.sample(self.accounts, 2)
        amount = self.rng.randint(1, 20)
        for attempt in range(200):
            txn, start = f"{name}/{attempt}", self.steps
            reads, got = {}, {}
            for ref_id in (src, dst):
                reads[ref_id], got[ref_id] = self._read(ref_id)
                yield
            (sb, sh), (db, dh) = got[src], got[dst]
            writes = {src: (sb - amount, sh + ((txn, -amount),)),
                      dst: (db + amount, dh + ((txn, amount),))}
            why = yield from self._commit(txn, reads, writes)
            self.history.append(elle.Txn(txn, [
                elle.read(src, _ids(sh)), elle.read(dst, _ids(dh)),
                elle.append(src, txn), elle.append(dst, txn)],
                elle.OK if why is None else elle.FAIL, start, self.steps))
            if why is None:
                self.committed[name] = (src, dst, amount)
                return

    def reader(self, name: str):
        for attempt in range(200):
            reads, total, ops, start = {}, 0, [], self.steps
            for ref_id in self.rng.sample(self.accounts, len(self.accounts)):
                reads[ref_id], (balance, history) = self._read(ref_id)
                total += balance
                ops.append(elle.read(ref_id, _ids(history)))
                yield
            why = yield from self._commit(f"{name}/{attempt}", reads, {})
            self.history.append(elle.Txn(f"{name}/{attempt}", ops,
                                         elle.OK if why is None else elle.FAIL, start, self.steps))
            if why is None:
                self.sums.append(total)
                if total != self.total:
                    self.violations.append(f"{name} committed a torn read: sum {total}, "
                                           f"not {self.total}")
                return

    def plain(self, name: str):
        for _ in range(self.rng.randint(1, 6)):
            ref_id = self.rng.choice(self.accounts)
            data = self.data[self.home[ref_id]]
            while data.txns.locked(ref_id):  # (refserve.wait_if_busy)
                yield
            data.write(ref_id, data.read(ref_id))  # the same value, a new version
            yield

    # ---- the run ---------------------------------------------------------------------------------
    def run(self, max_steps: int = 20_000) -> Run:
        agents = list(self.agents)
        while agents and self.steps < max_steps:
            agent = self.rng.choice(agents)
            try:
                next(agent)
            except StopIteration:
                agents.remove(agent)
            self.steps += 1
            for where in NODES:
                for ref_id, holder in self.data[where].txns.locks.items():
                    if holder not in self.committing:
                        self.violations.append(f"{ref_id} on {where} is locked by {holder}, "
                                               f"which is not committing")
            if self.violations:
                self.check_history(self.history)
                return self
        if agents:
            self.violations.append(f"{len(agents)} blocks still running after {self.steps} "
                                   f"steps")
        self.check()
        return self

    def check_history(self, history: list[elle.Txn]) -> None:
        self.anomalies = elle.check(history, realtime=True)
        self.violations += [f"anomaly {a}" for a in self.anomalies]

    def check(self) -> None:
        values = {r: self.data[self.home[r]].read(r) for r in self.accounts}
        total = sum(balance for balance, _ in values.values())
        if total != self.total:
            self.violations.append(f"the total is {total}, not {self.total}")
        for ref_id, (balance, history) in values.items():
            if balance != START + sum(x for _, x in history):
                self.violations.append(f"{ref_id}: balance {balance} is not its history's")
            names = [_name(txn) for txn, _ in history]
            for name in set(names):
                if name not in self.committed:
                    self.violations.append(f"{name} is in {ref_id} but was not committed")
                elif names.count(name) != 1:
                    self.violations.append(f"{name} is in {ref_id} more than once")
        for name, (src, dst, _) in self.committed.items():
            for ref_id in (src, dst):
                if name not in {_name(txn) for txn, _ in values[ref_id][1]}:
                    self.violations.append(f"{name} was committed but is not in {ref_id}")
        for where in NODES:
            txns = self.data[where].txns
            if txns.locks or txns.prepared:
                self.violations.append(f"{where} still holds locks {txns.locks}")
        last = elle.Txn("end", [elle.read(r, _ids(h)) for r, (_, h) in values.items()])
        self.check_history([*self.history, last])


def _ids(history: tuple) -> list[str]:
    """An account's history as a list-append value: the ids of the attempts that wrote it."""
    return [txn for txn, _ in history]


def _name(txn: str) -> str:
    """The block of an attempt id ("transfer3/0" -> "transfer3")."""
    return txn.split("/")[0]


def run_seed(seed: int, **kw) -> Run:
    return Run(seed, **kw).run()
