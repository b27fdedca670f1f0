"""Atomic blocks in the simulator: the commit protocol of swarm/node/machine/txn.py (the node's
real code - RefData's versions, Txns' checks, locks, durable prepares and decisions, plan()
and step()) over three nodes' RefData, with many blocks and plain writers interleaved step by
step in an order the seed picks. A step is one read where a value lives, one commit step on
one node, or one plain write; every block goes through its plan as txnserve.commit does on
real nodes.

Blocks: transfers between two accounts (often on two nodes: prepare, check, commit or
abort), readers of every account (committed only if all their reads still hold: a torn read
would show a wrong sum), and plain writers that rewrite an account's value as it is (a new
version, the same value: a block that read before must conflict) - waiting while it is
locked, as refserve does. Each block runs on a node of its own, its *coordinator*.

With `crashes=True`, nodes crash and restart: a crash loses what the node had in memory -
its staged writes not yet on disk, its locks, prepared blocks and decisions (a restart loads
them again from its disk, `Txns.restore`), and the blocks its programs were committing. A
step asked of a node is done, then its changes are written to the node's disk (SimStore),
then it is answered - and the node may crash before the write (the step undone, no answer)
or after it (no answer): the asker asks again until answered, as real nodes do. A block
whose coordinator crashed runs again from its start (a new attempt: a program run again
from its last hop) - unless the coordinator's decision to commit was on disk: then the
program ends (PartlyDone: its segment made a durable change, docs/nodes.md) and the block
is committed by the others. Prepared nodes ask the coordinator the outcome of blocks
prepared a while ago (`Txns.stale`, `outcome`), and a coordinator restarted drives its
decisions again (`undriven`), as txnserve.resolve does.

After every step (without crashes): no lock is held by a block that is not committing. At
the end - every node up, and resolved until nothing is left:
- every committed reader saw the total (no committed block is torn);
- the total is conserved, and every committed transfer is in both accounts' histories
  exactly once, every other transfer in neither (no lost or duplicated update);
- no lock, prepared block or decision is left (every lock released once all nodes are up);
- the history of every attempt (tests/histories/elle.py: each account's list of transfer
  attempts is a list-append object; a transfer reads both accounts' lists and appends its
  attempt id to each, a reader reads every list; committed attempts are "ok", conflicted
  ones "fail", those cut by a crash of their coordinator "info", and a last read of every
  account ends it) has no anomaly: no G0, G1, G2, lost update or duplicated append.

With `colls=True`, some blocks are *appenders* of a List and a Set inside a block, running
the node's own code for them (swarm/node/txncoll.py over this run's reads and writes): `n =
len(l); l.append(n); s.add(n)` - the List's root (its tail), its tail chunk (2 values a
chunk: the tail moves on often, in blocks) and the Set's shard are read and written as the
block's Refs. At the end the List is 0, 1, 2, ... (each value its own index: no append
lost, torn or made twice), one value per committed appender, and the Set holds exactly
those values.

What this does not simulate: lost, duplicated or late messages (a copy of a prepare that
comes after its block ended is refused: `Txns.finished`), a program's segment run again
after a one-node commit asked of another node (docs/atomic.md: committed again), fences.
"""

from __future__ import annotations

import random

from swarm.continuation import codec
from swarm.node.machine.data import RefData
from swarm.node.machine.txn import plan, step
from tests.histories import elle
from tests.sim import blockcolls
from tests.sim.store import SimStore

NODES = ("n1", "n2", "n3")
START = 100
NO_ANSWER = object()  # a step asked of a node that is down, or crashed before answering
RESOLVE_AFTER = 8  # steps after which a prepared node asks the coordinator (Txns.stale)
HOLD_OUTCOME = True  # "commit" is answered once the decision is on disk (state._send); the
# tests turn it off to show that the hold is needed


class Agent:
    """A block's program: its generator, the node it runs on, its attempts so far."""

    def __init__(self, name: str, kind: str, home: str) -> None:
        self.name, self.kind, self.home = name, kind, home
        self.attempt = 0
        self.txn: str | None = None  # the attempt committing now (a crash: its outcome?)
        self.spanning = False  # ... across nodes (prepares, a decision)
        self.gen = None
        self.killed = False


class Run:
    def __init__(self, seed: int, accounts: int = 4, blocks: int = 12,
                 crashes: bool = False, colls: bool = False) -> None:
        self.rng = rng = random.Random(seed)
        self.crashes = crashes
        self.steps = 0  # the clock: steps taken so far
        self.disk = {n: SimStore() for n in NODES}
        self.up = dict.fromkeys(NODES, True)
        self.incarnation = dict.fromkeys(NODES, 0)
        self.data = {n: self._boot(n) for n in NODES}
        self.partial: dict[str, set] = {n: set() for n in NODES}  # on disk: PartlyDone
        self.answered: dict[str, dict] = {n: {} for n in NODES}  # on disk: one-phase commits
        self.home: dict[str, str] = {}
        self.accounts = []
        for i in range(accounts):
            node = rng.choice(NODES)
            ref_id = f"{node}.acct{i}"
            self.home[ref_id] = node
            self.disk[node].refs[ref_id] = codec.dumps((START, ()))
            self.accounts.append(ref_id)
        self.total = START * accounts
        self.violations: list[str] = []
        self.committed: dict[str, tuple] = {}  # transfer id -> (src, dst, amount)
        self.sums: list[int] = []  # what each committed reader saw
        self.committing: set[str] = set()  # blocks between their first and last commit step
        self.history: list[elle.Txn] = []  # every attempt of every block, as list-appends
        self.anomalies: list[elle.Anomaly] = []
        self.crashed = self.partly_done = self.resolved = 0  # (the tests: what happened)
        self.agents = []
        self.appended: dict[str, int] = {}  # appender -> the value its committed block added
        kinds = ("transfer", "transfer", "reader", "plain") + (
            ("appender", "appender") if colls else ())
        for k in range(blocks):
            kind = rng.choice(kinds)
            agent = Agent(f"{kind}{k}", kind, rng.choice(NODES))
            if kind == "transfer":
                agent.plan = (*rng.sample(self.accounts, 2), rng.randint(1, 20))
            agent.gen = getattr(self, kind)(agent)
            self.agents.append(agent)

    # ---- nodes: memory, disk, crashes -------------------------------------------------------
    def _boot(self, node: str) -> RefData:
        data = RefData(self.disk[node], codec.dumps, codec.loads,
                       version_tag=f"{node}:{self.incarnation[node]}")
        disk = self.disk[node]
        data.txns.restore([(kind, txn, record) for (kind, txn), record in disk.blocks.items()],
                          self.steps)
        return data

    def _persist(self, node: str) -> None:
        """The node's staged changes on its disk (its ledger's write)."""
        data, disk = self.data[node], self.disk[node]
        writes = data.take_staged()
        if writes is not None:
            for ref_id, blob in writes.values.items():
                if blob is None:
                    disk.refs.pop(ref_id, None)
                else:
                    disk.refs[ref_id] = blob
            for key, record in writes.blocks.items():
                if record is None:
                    disk.blocks.pop(key, None)
                else:
                    disk.blocks[key] = record
                    if key[0] == "decided":  # (its program's segment: segment_wrote)
                        self.partial[node].add(key[1])
            data.on_disk(writes)

    def _crash(self, node: str) -> None:
        self.crashed += 1
        self.up[node] = False
        self.data[node] = None
        for agent in self.agents:
            # (a block committing in one phase is not cut: docs/atomic.md, "A block's
            # program that runs a segment again" - not simulated)
            if agent.home == node and agent.gen is not None and (
                    agent.txn is None or agent.spanning):
                agent.killed = True

    def _restart(self, node: str) -> None:
        self.incarnation[node] += 1
        self.data[node] = self._boot(node)
        self.up[node] = True
        for agent in self.agents:
            if agent.home == node and agent.killed:
                self._rerun(agent)

    def _rerun(self, agent: Agent) -> None:
        """A block's program, its node restarted: PartlyDone if its decision to commit was on
        disk (the block is committed by the others), else run again from its start."""
        agent.killed = False
        txn, agent.txn = agent.txn, None
        if txn is not None:
            self.committing.discard(txn)
            if txn in self.partial[agent.home]:
                self.partly_done += 1
                self._ended(agent, txn, elle.OK)
                agent.gen = None
                return
            self._note(agent, txn, elle.INFO)
        agent.gen = getattr(self, agent.kind)(agent)

    def _maybe_crash(self, node: str) -> bool:
        if self.crashes and node is not None and self.rng.random() < 0.04:
            self._crash(node)
            return True
        return False

    # ---- what a block does, step by step ------------------------------------------------------
    def _read(self, ref_id: str):
        while not self.up[self.home[ref_id]]:
            yield
        data = self.data[self.home[ref_id]]
        return data.versions.version(ref_id), data.read(ref_id)

    def _commit(self, agent: Agent, txn: str, reads: dict, writes: dict):
        """txnserve.commit, a step at a time (yields between steps); returns the conflict.
        A step not answered is asked again (the coordinator's crash ends the generator:
        the run loop drops it at its next yield)."""
        parts: dict = {}
        for ref_id, version in reads.items():
            parts.setdefault(self.home[ref_id], ({}, {}))[0][ref_id] = version
        for ref_id, value in writes.items():
            parts.setdefault(self.home[ref_id], ({}, {}))[1][ref_id] = value
        self.committing.add(txn)
        agent.txn, agent.spanning = txn, False
        steps = plan(parts)
        spans = any(action == "txn-prepare" for _, action in steps) and len(steps) > 1
        agent.spanning = spans
        me = self.data[agent.home].txns if spans else None
        if spans:
            me.begin(txn)
        prepared, why = [], None
        for where, action in steps:
            if action == "txn-prepare":
                prepared.append(where)
            while (why := self._step(where, action, txn, *parts[where], agent.home)) \
                    is NO_ANSWER:
                yield
            if why is not None:
                break
            yield
        if spans and why is None:
            me.decide(txn, prepared)  # (staged: a resolver asking now waits for the disk)
            yield
            if self._maybe_crash(agent.home):
                yield  # (killed: the decision is lost with the node's memory)
            self._persist(agent.home)  # (a PartlyDone for its program, if it is cut now)
            yield
        elif spans:
            me.abandon(txn)
        for where in prepared:
            action = "txn-commit" if why is None else "txn-abort"
            while self._step(where, action, txn, {}, {}, agent.home) is NO_ANSWER:
                yield
            yield
        if spans and why is None:
            me.done_deciding(txn)
            self._persist(agent.home)
        self.committing.discard(txn)
        return why

    def _step(self, where, action, txn, reads, writes, coordinator):
        if not self.up[where]:
            return NO_ANSWER
        if action == "txn-commit1" and txn in self.answered[where]:  # (by id: answers.py)
            return self.answered[where][txn]
        data = self.data[where]
        why = step(data.txns, lambda r: self.home.get(r) == where, action, txn, reads, writes,
                   data.write, coordinator, self.steps)
        if action == "txn-commit" and why is not None:
            self.violations.append(f"{txn}: commit failed on {where}: {why}")
        if self._maybe_crash(where):  # before its write: the step is undone
            return NO_ANSWER
        self._persist(where)
        if action == "txn-commit1":
            self.answered[where][txn] = why
        if self._maybe_crash(where):  # after it: the answer is lost
            return NO_ANSWER
        return why

    def _ended(self, agent: Agent, txn: str, status: str) -> None:
        """A block's attempt is over (its program's segment end written)."""
        self._note(agent, txn, status)
        self.partial[agent.home].discard(txn)
        if status == elle.OK and agent.kind == "transfer":
            self.committed[agent.name] = agent.plan
        if status == elle.OK and agent.kind == "appender":
            self.appended[agent.name] = agent.plan

    def _note(self, agent: Agent, txn: str, status: str) -> None:
        ops = agent.ops.pop(txn, None)
        if ops is not None:
            self.history.append(elle.Txn(txn, ops[0], status, ops[1], self.steps))

    def transfer(self, agent: Agent):
        src, dst, amount = agent.plan
        agent.ops = {}
        while agent.attempt < 200:
            while not self.up[agent.home]:  # (a one-phase commit outlived it: not cut)
                yield
            agent.attempt += 1
            txn, start = f"{agent.name}/{agent.attempt}", self.steps
            reads, got = {}, {}
            for ref_id in (src, dst):
                reads[ref_id], got[ref_id] = yield from self._read(ref_id)
                yield
            (sb, sh), (db, dh) = got[src], got[dst]
            writes = {src: (sb - amount, sh + ((txn, -amount),)),
                      dst: (db + amount, dh + ((txn, amount),))}
            agent.ops[txn] = ([elle.read(src, _ids(sh)), elle.read(dst, _ids(dh)),
                               elle.append(src, txn), elle.append(dst, txn)], start)
            why = yield from self._commit(agent, txn, reads, writes)
            agent.txn = None
            self._ended(agent, txn, elle.OK if why is None else elle.FAIL)
            if why is None:
                return

    def reader(self, agent: Agent):
        agent.ops = {}
        while agent.attempt < 200:
            while not self.up[agent.home]:
                yield
            agent.attempt += 1
            txn = f"{agent.name}/{agent.attempt}"
            reads, total, ops, start = {}, 0, [], self.steps
            for ref_id in self.rng.sample(self.accounts, len(self.accounts)):
                reads[ref_id], (balance, history) = yield from self._read(ref_id)
                total += balance
                ops.append(elle.read(ref_id, _ids(history)))
                yield
            agent.ops[txn] = (ops, start)
            why = yield from self._commit(agent, txn, reads, {})
            agent.txn = None
            self._ended(agent, txn, elle.OK if why is None else elle.FAIL)
            if why is None:
                self.sums.append(total)
                if total != self.total:
                    self.violations.append(f"{agent.name} committed a torn read: sum "
                                           f"{total}, not {self.total}")
                return

    def appender(self, agent: Agent):
        """`n = len(l); l.append(n); s.add(n)` in a block (txncoll.py's own code)."""
        agent.ops = {}
        while agent.attempt < 200:
            while not self.up[agent.home]:
                yield
            agent.attempt += 1
            txn = f"{agent.name}/{agent.attempt}"
            parts = blockcolls.Parts(self)
            while True:  # (its reads, each where the Ref lives: asked again while it is down)
                try:
                    agent.plan = blockcolls.append_len(parts)
                    break
                except blockcolls.Down:  # (as a real block waits there: what it read is
                    parts.writes = {}  # kept, and the operations go on from the one that
                    yield  # waited - here, from the first again, without their writes)
            yield
            why = yield from self._commit(agent, txn, parts.reads, parts.writes)
            agent.txn = None
            self._ended(agent, txn, elle.OK if why is None else elle.FAIL)
            if why is None:
                return

    def _part(self, ref_id: str) -> str:
        """A collection's Ref: its node is the one its id names (nothing moves here)."""
        return self.home.setdefault(ref_id, ref_id.split(".", 1)[0])

    def plain(self, agent: Agent):
        agent.ops = {}
        for _ in range(self.rng.randint(1, 6)):
            ref_id = self.rng.choice(self.accounts)
            where = self.home[ref_id]
            while not self.up[where] or self.data[where].txns.locked(ref_id):
                yield  # (refserve.wait_if_busy)
            data = self.data[where]
            data.write(ref_id, data.read(ref_id))  # the same value, a new version
            if not self._maybe_crash(where):
                self._persist(where)
            yield

    # ---- resolving: what txnserve.resolve does on real nodes ----------------------------------
    def _resolve(self, node: str) -> None:
        """A prepared node asks the coordinators of its blocks prepared a while ago; a
        coordinator sends the commits of its decisions nobody sends (after a restart)."""
        txns = self.data[node].txns
        for txn, coordinator in txns.stale(self.steps, RESOLVE_AFTER):
            if self.up[coordinator]:
                outcome = self.data[coordinator].txns.outcome(txn)
                if outcome == "commit" and ("decided", txn) not in self.disk[coordinator].blocks \
                        and HOLD_OUTCOME:
                    outcome = "pending"  # (its answer waits for the decision's write: _send)
                if outcome != "pending":
                    self.resolved += 1
                    action = "txn-commit" if outcome == "commit" else "txn-abort"
                    if self._step(node, action, txn, {}, {}, coordinator) is NO_ANSWER:
                        return  # (crashed)
            txns.resolved(txn, self.steps)
        for txn, nodes in txns.undriven():
            if all(self.up[n] for n in nodes) and all(
                    self._step(where, "txn-commit", txn, {}, {}, node) is not NO_ANSWER
                    for where in nodes):
                if not self.up[node]:
                    return
                txns.done_deciding(txn)
                self._persist(node)
            elif self.up[node]:
                txns.driving.discard(txn)  # (driven again later)

    # ---- the run ---------------------------------------------------------------------------------
    def run(self, max_steps: int = 20_000) -> Run:
        rng = self.rng
        while self.steps < max_steps:
            live = [a for a in self.agents if a.gen is not None and not a.killed]
            if not live and not any(a.killed for a in self.agents):
                break
            if self.crashes and rng.random() < 0.3:
                self._fault()
            elif live:
                agent = rng.choice(live)
                try:
                    next(agent.gen)
                except StopIteration:
                    agent.gen = None
            self.steps += 1
            if not self.crashes:
                self._check_locks()
            if self.violations:
                self.check_history(self.history)
                return self
        if any(a.gen is not None for a in self.agents):
            self.violations.append(f"blocks still running after {self.steps} steps")
        self.settle()
        self.check()
        return self

    def _fault(self) -> None:
        """A node crashes or restarts, or resolves what it has prepared."""
        rng = self.rng
        node = rng.choice(NODES)
        roll = rng.random()
        if not self.up[node]:
            if roll < 0.3:
                self._restart(node)
        elif roll < 0.03:
            self._crash(node)
        elif roll < 0.5:
            self._resolve(node)

    def settle(self) -> None:
        """Every node up; each resolves until nothing is left (no fault any more)."""
        self.crashes = False
        for node in NODES:
            if not self.up[node]:
                self._restart(node)
        for _ in range(4):
            self.steps += RESOLVE_AFTER
            for node in NODES:
                self._resolve(node)

    def _check_locks(self) -> None:
        for where in NODES:
            for ref_id, holder in self.data[where].txns.locks.items():
                if holder not in self.committing:
                    self.violations.append(f"{ref_id} on {where} is locked by {holder}, "
                                           f"which is not committing")

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
            txns, disk = self.data[where].txns, self.disk[where]
            if txns.locks or txns.prepared or txns.decided or disk.blocks:
                self.violations.append(f"{where} still holds locks {txns.locks}, prepared "
                                       f"{list(txns.prepared)}, decisions "
                                       f"{list(txns.decided)}, records {list(disk.blocks)}")
        last = elle.Txn("end", [elle.read(r, _ids(h)) for r, (_, h) in values.items()])
        self.check_history([*self.history, last])
        self.violations += blockcolls.violations(self)


def _ids(history: tuple) -> list[str]:
    """An account's history as a list-append value: the ids of the attempts that wrote it."""
    return [txn for txn, _ in history]


def _name(txn: str) -> str:
    """The block of an attempt id ("transfer3/0" -> "transfer3")."""
    return txn.split("/")[0]


def run_seed(seed: int, **kw) -> Run:
    return Run(seed, **kw).run()


def main() -> int:
    """`python -m tests.sim.atomic --search N [--from S] [--crashes]`: run N seeds, print the
    failing ones and what the runs did."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.sim.atomic")
    p.add_argument("--search", type=int, default=1000)
    p.add_argument("--from", dest="start", type=int, default=0)
    p.add_argument("--crashes", action="store_true")
    args = p.parse_args()
    bad, totals = 0, dict.fromkeys(("committed", "crashed", "resolved", "partly_done"), 0)
    for seed in range(args.start, args.start + args.search):
        run = run_seed(seed, crashes=args.crashes)
        totals["committed"] += len(run.committed)
        for key in ("crashed", "resolved", "partly_done"):
            totals[key] += getattr(run, key)
        if run.violations:
            bad += 1
            print(f"seed {seed}: {run.violations[0]}")
    print(f"{bad} of {args.search} seeds violate an invariant; {totals}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
