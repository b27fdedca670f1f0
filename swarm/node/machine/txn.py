"""Atomic blocks, the part of a node that decides: the versions of the Refs that live here,
commit locks, and whether a block's reads still hold (docs/atomic.md has the protocol).

A block (swarm/blocks.py) runs optimistically: each value it reads comes with its version,
its writes wait in the block. At its end the block is committed:

- on one node (every Ref it touched lives there): `commit_here` - check every read still has
  its version and no Ref is locked, then stage the writes - in one step, nothing else runs
  meanwhile (one phase);
- across nodes: `prepare` on each node with writes (check, then lock the Refs it read or
  writes there), `check` on each node it only read from (versions, and nothing locked), then
  `commit` (stage the writes, unlock) on every prepared node - or `abort` (unlock) if any
  node said no. The block is serialized at the moment its last lock is taken: what it read
  was current then (each read node checked that nothing changed since, and nothing was
  locked by a writer between its prepare and its commit). A prepare, and the coordinator's
  decision to commit, are durable (`Txns.staged`, written with the ledger before anything
  shows them); a node prepared for a while asks the coordinator the outcome (`outcome`:
  presumed abort) - docs/atomic.md, "Crashes between the phases".

A version is (the node's incarnation tag, a counter): every write, deletion, adoption or move
out of a Ref gives it a new one (RefData calls `bump`), so a Ref that changed and changed back
still fails the check, and so does one whose node restarted (its tag differs) or that moved
to another node. Pure: no I/O, no clock; the node and the simulator call it alike.
"""

from __future__ import annotations

from typing import Callable

Version = tuple  # (incarnation tag, counter)


class Versions:
    """The version of every Ref on this node (one not written since the node started has
    the incarnation's first version)."""

    def __init__(self, tag: str = "") -> None:
        self.tag = tag
        self.clock = 0
        self.of: dict[str, int] = {}

    def bump(self, ref_id: str) -> None:
        self.clock += 1
        self.of[ref_id] = self.clock

    def version(self, ref_id: str) -> Version:
        return (self.tag, self.of.get(ref_id, 0))


class Txns:
    """Commit locks and prepared blocks of this node, over its Refs' versions - and, for the
    blocks this node's programs commit across nodes, their decisions.

    `locks`: ref id -> the block holding it (between its prepare and its commit or abort);
    `prepared`: block -> (the Refs it locked, its writes here); `coordinator`: block -> the
    node whose program commits it (asked for the outcome: `stale`); `waiting`: ref id ->
    callbacks of plain writes parked until the Ref is unlocked. On the coordinator's side:
    `deciding`, the blocks its programs are committing and have not decided yet; `decided`,
    block -> the nodes it prepared, for the blocks decided to commit (until every one of them
    committed). `staged`: the durable changes of all this, (kind, block) -> record or None
    (gone), for the ledger's next write (RefData.take_staged): a prepare and a decision are
    on disk - and on the mirror's copy - before anything that shows them leaves the node.

    Discussion: why a prepare must be durable. A node that said yes promised to commit if
    told to; restarted with its prepares in memory only, it had forgotten the promise while
    the other nodes committed - a torn block. Now a prepare's record (its Refs, its writes,
    its coordinator) is written with the ledger before the yes is sent, and a restart loads
    it (`restore`): the Refs are locked again, and the commit or abort finds it. Presumed
    abort: a coordinator writes its decision to commit before any commit leaves; asked the
    outcome of a block it has no decision for and is not deciding (`outcome`), it answers
    abort - such a block can never commit any more (its program's attempt ended, or died
    with the node: a program run again makes another attempt, another block id)."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions
        self.locks: dict[str, str] = {}
        self.prepared: dict[str, tuple[list[str], dict]] = {}
        self.coordinator: dict[str, str] = {}
        self.since: dict[str, float] = {}  # prepared block -> when prepared or loaded
        self.resolving: set[str] = set()  # prepared blocks whose coordinator is being asked
        self.waiting: dict[str, list[Callable]] = {}
        self.deciding: set[str] = set()
        self.decided: dict[str, list[str]] = {}
        self.driving: set[str] = set()  # decided blocks whose commits are being sent
        # block -> (its outcome here, when): a copy of its prepare that comes late (sent
        # again before the first answer came) must not prepare it again (FINISHED_KEPT)
        self.finished: dict[str, tuple[str, float]] = {}
        self.staged: dict[tuple[str, str], object] = {}

    def locked(self, ref_id: str, by: str | None = None) -> bool:
        """Is `ref_id` locked by a block other than `by`?"""
        holder = self.locks.get(ref_id)
        return holder is not None and holder != by

    def conflict(self, txn: str, reads: dict, writes) -> str | None:
        """Why the block cannot commit here (None: it can): a Ref it read has a new version,
        or a Ref it read or writes is locked by another block."""
        for ref_id, seen in reads.items():
            if self.locked(ref_id, txn):
                return f"Ref({ref_id!r}) is being committed by another block"
            if tuple(seen) != self.versions.version(ref_id):
                return f"Ref({ref_id!r}) changed since the block read it"
        for ref_id in writes:
            if self.locked(ref_id, txn):
                return f"Ref({ref_id!r}) is being committed by another block"
        return None

    def commit_here(self, txn: str, reads: dict, writes: dict,
                    apply: Callable[[str, object], None]) -> str | None:
        """One phase: check, then `apply(ref_id, value)` each write. A conflict, or None."""
        why = self.conflict(txn, reads, writes)
        if why is None:
            for ref_id, value in writes.items():
                apply(ref_id, value)
        return why

    # ---- a participant: prepare, then commit or abort ---------------------------------------
    def prepare(self, txn: str, reads: dict, writes: dict, coordinator: str = "",
                now: float = 0.0) -> str | None:
        """Phase one: check, then lock what the block read or writes here, and stage the
        prepare's record (durable: `staged`). A conflict (no lock taken), or None."""
        if txn in self.prepared:  # asked again (an answer lost): the same answer
            return None
        if txn in self.finished:  # a copy that came late: the block is over here
            return f"block {txn} was {self.finished[txn][0]}ed here already"
        why = self.conflict(txn, reads, writes)
        if why is not None:
            return why
        refs = sorted(set(reads) | set(writes))
        self._lock(txn, refs, dict(writes), coordinator, now)
        self.staged["prepared", txn] = (coordinator, refs, dict(writes))
        return None

    def _lock(self, txn: str, refs: list, writes: dict, coordinator: str, now: float) -> None:
        for ref_id in refs:
            self.locks[ref_id] = txn
        self.prepared[txn] = (refs, writes)
        self.coordinator[txn] = coordinator
        self.since[txn] = now

    def commit(self, txn: str, apply: Callable[[str, object], None], now: float = 0.0) -> bool:
        """Phase two: stage the prepared writes and unlock (the prepare's record goes in the
        same write). False if the block is not prepared here: committed already (its
        coordinator asked, or a copy of its commit; the prepare was durable), or - True is
        not returned then either - aborted here, which `finished` tells."""
        entry = self.prepared.pop(txn, None)
        if entry is None:
            return False
        refs, writes = entry
        for ref_id, value in writes.items():
            apply(ref_id, value)
        self._finish(txn, refs, "commit", now)
        return True

    def abort(self, txn: str, now: float = 0.0) -> None:
        entry = self.prepared.pop(txn, None)
        if entry is not None:
            self._finish(txn, entry[0], "abort", now)

    def _finish(self, txn: str, refs: list[str], outcome: str, now: float) -> None:
        self.staged["prepared", txn] = None
        self.coordinator.pop(txn, None)
        self.since.pop(txn, None)
        self.finished[txn] = (outcome, now)
        for ref_id in refs:
            if self.locks.get(ref_id) == txn:
                del self.locks[ref_id]
            for callback in self.waiting.pop(ref_id, ()):
                callback()

    def stale(self, now: float, after: float) -> list[tuple[str, str]]:
        """[(block, coordinator)]: blocks prepared here `after` seconds ago or more, whose
        coordinator is not being asked yet - asked now (marked `resolving`; `resolved`)."""
        out = [(txn, self.coordinator.get(txn, "")) for txn, at in self.since.items()
               if now - at >= after and txn not in self.resolving]
        self.resolving.update(txn for txn, _ in out)
        return out

    def resolved(self, txn: str, now: float) -> None:
        """Its coordinator was asked (and the outcome done, or it is still deciding: asked
        again `after` seconds from now)."""
        self.resolving.discard(txn)
        if txn in self.since:
            self.since[txn] = now

    def forget_finished(self, before: float) -> None:
        """Forget the outcomes of blocks finished before `before` (no copy of their prepare
        can come any more: the replay gate refuses what was sent that long ago)."""
        for txn in [t for t, (_, at) in self.finished.items() if at < before]:
            del self.finished[txn]

    # ---- a coordinator: decide, then have every prepared node commit ---------------------
    def begin(self, txn: str) -> None:
        """A program of this node begins committing `txn` across nodes (before its first
        prepare is asked): asked its outcome meanwhile, the answer is "pending"."""
        self.deciding.add(txn)

    def decide(self, txn: str, participants: list[str]) -> None:
        """Every node said yes: the decision to commit, staged (durable) - no commit may be
        sent before it is on disk (the ledger holds messages until then)."""
        self.deciding.discard(txn)
        self.driving.add(txn)  # (by the program that decided: `undriven` after a restart)
        self.decided[txn] = list(participants)
        self.staged["decided", txn] = list(participants)

    def abandon(self, txn: str) -> None:
        """The block is aborted (a node said no, or did not answer): never committed."""
        self.deciding.discard(txn)

    def done_deciding(self, txn: str) -> None:
        """Every prepared node committed: the decision is no longer needed."""
        self.driving.discard(txn)
        if self.decided.pop(txn, None) is not None:
            self.staged["decided", txn] = None

    def outcome(self, txn: str) -> str:
        """What a prepared node asking about `txn` is told: "commit" (decided), "pending"
        (being decided), or "abort" (presumed: no decision, and none can come)."""
        if txn in self.decided:
            return "commit"
        return "pending" if txn in self.deciding else "abort"

    def undriven(self) -> list[tuple[str, list[str]]]:
        """Decisions loaded at a restart, whose commits nobody sends (marked `driving`)."""
        out = [(txn, nodes) for txn, nodes in self.decided.items()
               if txn not in self.driving and txn not in self.deciding]
        self.driving.update(txn for txn, _ in out)
        return out

    # ---- durability ---------------------------------------------------------------------------
    def take_staged(self) -> dict:
        """The records to write with the ledger's next unit: (kind, block) -> record or None."""
        staged, self.staged = self.staged, {}
        return staged

    def restore(self, rows, now: float) -> None:
        """At start: the records on disk - [(kind, block, record)] - loaded again: prepared
        blocks lock their Refs again (and their coordinators are asked soon: `stale`),
        decisions are driven again (`undriven`)."""
        for kind, txn, record in rows:
            if kind == "prepared":
                coordinator, refs, writes = record
                self._lock(txn, list(refs), dict(writes), coordinator, now)
            elif kind == "decided":
                self.decided[txn] = list(record)
            else:
                raise ValueError(f"a block record of an unknown kind: {kind!r} ({txn})")


# ---- the protocol's steps (txnserve.py runs them on real nodes, tests/sim/atomic.py in the
# simulator) -------------------------------------------------------------------------------------

def plan(parts: dict) -> list[tuple[str, str]]:
    """The first steps of a commit, in order: [(node, action)] for `parts` (node -> (reads
    there: ref -> version, writes there: ref -> value)). One node: one phase. Several:
    prepare every node with writes (in name order), then check every node only read from."""
    if not parts:
        return []
    if len(parts) == 1:
        (where, (_, writes)), = parts.items()
        return [(where, "txn-commit1" if writes else "txn-check")]
    order = sorted(parts, key=lambda n: (not parts[n][1], n))
    return [(n, "txn-prepare" if parts[n][1] else "txn-check") for n in order]


def step(txns: Txns, lives_here: Callable[[str], bool], action: str, txn: str, reads: dict,
         writes: dict, apply: Callable[[str, object], None], coordinator: str = "",
         now: float = 0.0) -> str | None:
    """One step of a commit on one node: its conflict, or None. `lives_here(ref)`: is the Ref
    here, and not being relocated (a Ref that moved away conflicts). `coordinator`: the node
    whose program commits the block (a prepare keeps it); `now`: the node's clock."""
    if action in ("txn-check", "txn-commit1", "txn-prepare"):
        for ref_id in (*reads, *writes):
            if not lives_here(ref_id):
                return f"Ref({ref_id!r}) moved to another node"
    if action == "txn-check":
        return txns.conflict(txn, reads, ())
    if action == "txn-commit1":
        return txns.commit_here(txn, reads, writes, apply)
    if action == "txn-prepare":
        return txns.prepare(txn, reads, writes, coordinator, now)
    if action == "txn-commit":
        if not txns.commit(txn, apply, now) and txns.finished.get(txn, ("",))[0] == "abort":
            # (never: a block is aborted here only when its coordinator said so, or had no
            # decision - and then it never sends a commit)
            return f"block {txn} was aborted here, and is now told to commit"
        return None  # (not prepared here: committed already - prepares are durable)
    if action == "txn-abort":
        txns.abort(txn, now)
        return None
    raise ValueError(action)
