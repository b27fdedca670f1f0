"""The hop ledger: what happened to hops on this node since its last write, and the acks it
owes.

A hop is sent before it is written (the write is off the path of the program that moves on)
and acknowledged only after the hop that brought it is written. Between two writes the ledger
holds:

    accepting   hops received and resumed here, not yet written
    finished    hops whose program moved on (or ended) here
    outgoing    hops sent, not yet written to the outbox
    acked       our hops that their receivers acknowledged
    unwritten   peer -> its hops taken here; owed an ack once written
    kept        (program, seq, kind, payload): programs' output and results, kept for a
                client that asks again
    confirm     (client, program): submissions to confirm once written
    (data)      the Ref writes programs made here (RefData.staged), written in the same
                transaction: a hop's segment takes effect with its hops, or not at all
    owed        peer -> its hops written here: acknowledged with the next hop to that peer,
                or on their own once they have waited ACK_DELAY

Discussion: why sending first loses nothing. If the node dies after sending hop B (which
continues hop A) but before writing, A was never acknowledged: its sender resends it, A runs
again and sends B again under the same id - hop ids are derived from the hop a program
resumed from (Program.next_id) - so B's receiver, which has B in its `done` table, takes it
once. A segment that wrote a Ref is the exception: its hop waits for the write (Node.commit),
since B's receiver must not act on a write a crash could still undo. Everything in one write
is one SQLite transaction (store.commit_hops).
"""

from __future__ import annotations

import time
from collections import defaultdict

from swarm.node.store import Store

WRITE_DELAY = 0.002  # seconds between writes while hops keep coming (a group commit)
ACK_DELAY = 0.01  # seconds a written hop's ack waits for a hop to ride on


class HopLedger:
    def __init__(self, store: Store, data) -> None:
        self.store, self.data = store, data
        self.accepting: dict[str, tuple] = {}  # hop id -> (program, meta bytes, data)
        self.finished: list[str] = []
        self.outgoing: list[tuple] = []  # (hop id, node, meta bytes, data)
        self.acked: list[str] = []
        self.unwritten: dict[str, list[str]] = defaultdict(list)
        self.owed: dict[str, list[str]] = {}
        self.kept: list[tuple] = []
        self.confirm: list[tuple[str, str]] = []
        self.confirmed: list[tuple[str, str]] = []
        self.owed_since = 0.0
        self.pending_since: float | None = None

    def seen(self, hop_id: str, again: bool) -> bool:
        """Was this hop taken here already? Only a hop marked `again` - resent from an
        outbox, or sent by a program that may be running its segment a second time - can
        have been: a hop id is made once per run of a segment (Program.next_id), so a hop
        sent for the first time is new and costs no lookup in the store."""
        return hop_id in self.accepting or (again and self.store.is_done(hop_id))

    def received(self, peer: str, hop_id: str) -> None:
        self.unwritten[peer].append(hop_id)

    def pending(self) -> bool:
        return bool(self.accepting or self.finished or self.outgoing or self.acked
                    or self.unwritten or self.data.staged or self.kept or self.confirm)

    def due(self, now: float) -> bool:
        """Time for a write? Hops that arrive within WRITE_DELAY of each other share one
        transaction: a program ping-ponging between two nodes costs each of them one
        write per few hops, not one per hop."""
        if not self.pending():
            return False
        if self.pending_since is None:
            self.pending_since = now
        return now - self.pending_since >= WRITE_DELAY

    def write(self) -> None:
        """One transaction; then the hops it wrote may be acknowledged."""
        self.pending_since = None
        if self.accepting or self.finished or self.outgoing or self.acked or self.kept \
                or self.data.staged:
            self.store.commit_hops(self.accepting, self.finished, self.outgoing, self.acked,
                                   self.data.take_staged(), self.kept)
            self.accepting, self.finished, self.outgoing, self.acked = {}, [], [], []
            self.kept = []
        self.confirmed.extend(self.confirm)
        self.confirm = []
        if self.unwritten:
            if not self.owed:
                self.owed_since = time.monotonic()
            for peer, hop_ids in self.unwritten.items():
                self.owed.setdefault(peer, []).extend(hop_ids)
            self.unwritten.clear()

    def take_confirmed(self) -> list[tuple[str, str]]:
        """Submissions written (or seen before) since the last call: (client, program)."""
        confirmed, self.confirmed = self.confirmed, []
        return confirmed

    def acks_for(self, peer: str) -> list[str] | None:
        """The acks that ride on a hop about to go to `peer`."""
        return self.owed.pop(peer, None)

    def overdue(self, now: float) -> bool:
        return bool(self.owed) and now - self.owed_since >= ACK_DELAY

    def take_owed(self) -> dict[str, list[str]]:
        owed, self.owed = self.owed, {}
        return owed
