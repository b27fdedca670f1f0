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
  locked by a writer between its prepare and its commit).

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
    """Commit locks and prepared blocks of this node, over its Refs' versions.

    `locks`: ref id -> the block holding it (between its prepare and its commit or abort);
    `prepared`: block -> (the Refs it locked, its writes here); `waiting`: ref id ->
    callbacks of plain writes parked until the Ref is unlocked."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions
        self.locks: dict[str, str] = {}
        self.prepared: dict[str, tuple[list[str], dict]] = {}
        self.waiting: dict[str, list[Callable]] = {}

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

    def prepare(self, txn: str, reads: dict, writes: dict) -> str | None:
        """Phase one: check, then lock what the block read or writes here. A conflict (no
        lock taken), or None."""
        if txn in self.prepared:  # asked again (an answer lost): the same answer
            return None
        why = self.conflict(txn, reads, writes)
        if why is not None:
            return why
        refs = sorted(set(reads) | set(writes))
        for ref_id in refs:
            self.locks[ref_id] = txn
        self.prepared[txn] = (refs, dict(writes))
        return None

    def commit(self, txn: str, apply: Callable[[str, object], None]) -> bool:
        """Phase two: stage the prepared writes and unlock. False if the block was not
        prepared here (a second commit, or the node restarted: see docs/atomic.md)."""
        entry = self.prepared.pop(txn, None)
        if entry is None:
            return False
        refs, writes = entry
        for ref_id, value in writes.items():
            apply(ref_id, value)
        self._unlock(txn, refs)
        return True

    def abort(self, txn: str) -> None:
        entry = self.prepared.pop(txn, None)
        if entry is not None:
            self._unlock(txn, entry[0])

    def _unlock(self, txn: str, refs: list[str]) -> None:
        for ref_id in refs:
            if self.locks.get(ref_id) == txn:
                del self.locks[ref_id]
            for callback in self.waiting.pop(ref_id, ()):
                callback()


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
         writes: dict, apply: Callable[[str, object], None]) -> str | None:
    """One step of a commit on one node: its conflict, or None. `lives_here(ref)`: is the Ref
    here, and not being relocated (a Ref that moved away conflicts)."""
    if action in ("txn-check", "txn-commit1", "txn-prepare"):
        for ref_id in (*reads, *writes):
            if not lives_here(ref_id):
                return f"Ref({ref_id!r}) moved to another node"
    if action == "txn-check":
        return txns.conflict(txn, reads, ())
    if action == "txn-commit1":
        return txns.commit_here(txn, reads, writes, apply)
    if action == "txn-prepare":
        return txns.prepare(txn, reads, writes)
    if action == "txn-commit":
        if not txns.commit(txn, apply):
            return f"block {txn} was not prepared here"
        return None
    if action == "txn-abort":
        txns.abort(txn)
        return None
    raise ValueError(action)
