"""What happened lately on a node, for whoever watches it (`swarm dashboard`): a bounded ring
of the hops it took, answered to `hops?`, and the times programs did not migrate, counted by
reason, answered with `status?`.

A hop is recorded where it arrives (NodeState._resume), once: a resend taken before is not
taken again, so it is not recorded again. A record::

    {"n": 17, "at": 1767000000.25, "program": "c1-ab12-3", "hop": HOP_ID,
     "from": "n1", "to": "n2", "why": "get n2.5f3a.1", "bytes": 1834, "us": 412}

`n` numbers the records of this node from 1 (a client asks for those after the last it
has: `hops? {after: n}`); `at` is when the program was captured on `from` (that node's
clock); `bytes` the size of its continuation; `us` the time from the capture to the arrival
here, measured between the two nodes' clocks (None for a task placed on its own node). The
ring keeps the last HOPS_KEPT: a client that asks less often than they come is told how many
it missed (`missed`). `epoch` is when this machine started: numbers start again from 1 after
a restart, and a client that sees a new epoch starts again from 0.

Nothing here is written to the store: a restarted node's history starts empty.
"""

from __future__ import annotations

from collections import deque

HOPS_KEPT = 1000  # the hops a node remembers (hops?)
REASONS_KEPT = 100  # distinct fallback reasons counted one by one; the rest under OTHER
OTHER = "(other reasons)"


class HopHistory:
    """The last HOPS_KEPT hops this node took, numbered."""

    def __init__(self, epoch: float, size: int = HOPS_KEPT) -> None:
        self.epoch = epoch
        self.ring: deque[dict] = deque(maxlen=size)
        self.last = 0  # the number of the last record

    def arrived(self, meta: dict, here: str, now: float) -> None:
        """Note a hop that arrived here at `now` with `meta` (HOP_META; its `why`, which
        every hop carries, is [why, from, bytes, captured at])."""
        why, source, size, captured = meta.get("why") or ("?", meta.get("from", "?"), None,
                                                          None)
        us = None if captured is None or source == here else round((now - captured) * 1e6)
        self.last += 1
        self.ring.append({"n": self.last, "at": now if captured is None else captured,
                          "program": meta["program"], "hop": meta["hop_id"], "from": source,
                          "to": here, "why": why, "bytes": size, "us": us})

    def answer(self, node: str, after: int) -> dict:
        """The `hops` answer: the records numbered above `after` (all after a restart)."""
        ring = self.ring
        if after > self.last:  # numbers of an earlier life of this node
            after = 0
        newer: list[dict] = []
        for record in reversed(ring):
            if record["n"] <= after:
                break
            newer.append(record)
        newer.reverse()
        first = newer[0]["n"] if newer else self.last + 1
        return {"node": node, "epoch": self.epoch, "last": self.last, "hops": newer,
                "missed": max(0, first - after - 1)}


class FallbackReasons:
    """How often a program here went on where it was instead of migrating, per reason
    (swarm/continuation/fallback.py words them: file:line, and what could not travel)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def note(self, reason: str) -> None:
        if reason not in self.counts and len(self.counts) >= REASONS_KEPT:
            reason = OTHER  # a bounded table, whatever the programs do
        self.counts[reason] = self.counts.get(reason, 0) + 1
