"""The hop ledger: what happened to hops on this node since its last write, the hops it
sent and that are not acknowledged (the outbox), the hops it took (so a resend is taken
once), and the acks it owes. Pure bookkeeping: the store writes what `write` returns.

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
    sources     program code received, to keep
    (writes)    the Ref writes programs made here (RefData.staged), written in the same
                transaction: a hop's segment takes effect with its hops, or not at all
    owed        peer -> its hops written here: acknowledged with the next hop to that peer,
                or on their own once they have waited ACK_DELAY
    forgets     peer -> our hops it acknowledged, off our outbox on disk: it may forget
                them (see `done` below), told with the next hop or ack to it
    expiring    (when, hop ids): hops taken here whose sender said it is done with them

Discussion: why sending first loses nothing. If the node dies after sending hop B (which
continues hop A) but before writing, A was never acknowledged: its sender resends it, A runs
again and sends B again under the same id - hop ids are derived from the hop a program
resumed from (Program.next_id) - so B's receiver, which has B among the hops it took, takes
it once. A segment that wrote a Ref is the exception: its hop waits for the write (the
machine holds every message while a write is not on disk), since B's receiver must not act
on a write a crash could still undo. Everything in one write is one transaction
(store.commit).

Discussion: how long a hop stays in `done` (the hops taken here, so that one that comes again
is taken once). A hop H from node S can come again only
  (a) as a message S sent already, still on its way or queued here - the replay gate refuses
      one sent more than `replay_window` (w) ago by this node's clock, and one from before
      this node's last stop or restart (swarm/wire/gate.py);
  (b) as a resend from S's outbox, for as long as H is in it - and S resends for ever until
      it has H's acknowledgement (a partition, a pause: any length of time);
  (c) made again by S running the segment before H again (S died before writing it): only
      while the hop A that brought that segment is in S's inbox - but A is off the inbox in
      the same transaction that puts H in the outbox (HopSent: `finish` and `sent` together),
      so once H is off S's outbox on disk, A cannot run again from S's inbox; nor can it come
      to S again from A's sender, since A stays in S's `done` by this same rule.
So H may go from `done` only once S has H off its outbox *on disk* (after (b) and (c)), and
the messages S sent before are stale (after (a)). S says when: the write that takes H off
its outbox puts H in `forgets`, which ride on S's next hop or ack to us (`forget`, or alone
every second). A message with H was sent by S before that `forget`, at S's time s <= f (f:
when S sent the forget); we took the forget at our time r_f with |r_f - f| <= w, and take a
message at our time r only if r - s <= w; so r <= f + w <= r_f + 2w. Hence H is dropped at
r_f + 2w + 1 s (`forget`, `expire`; state.forget_after), written as `forget_at` in the store
so that a restart drops it too. A forget that is lost (S died after its write and before
sending it) leaves its hop in `done` for good: safe, and rare. A submission has no sender to
say so (its client resends it until `accepted`, for as long as that takes): it stays a week
(state.SUBMIT_KEPT), and a submission older than that is refused, not taken - a client that
resends it after the week cannot run its program twice.

Discussion: a write that fails (the disk is full) is tried again in smaller parts. A write is
made of *units*: NodeState.handle ends one (`cut`) after each event but those a program sends
while its segment goes on (output, a question, a task spawned: state._MID_SEGMENT), so that a
segment's Ref writes (staged before its end), its output and the hop that ends it (`finish`,
`sent`) are one unit, and commit together or not at all (a segment that parks or is switched
out mid-way is cut where other events come in: docs/nodes.md, "Known limits"); the unit that
took the segment's hop
joins it too if it is not written yet (`_with_takes`: the hop then never enters the inbox, as
when both are written in one transaction). Units are numbered as they are cut; a write holds
consecutive units and `committed` is the number of the last unit on disk. A write of several
units that fails is tried again at once as its first half (halving down to one unit); a part
that commits is followed at once by the next part, twice as large; a single unit that fails
means the disk is full for now (the node refuses new writes meanwhile: state.py): it is tried
again every second (RETRY_WRITE_SECONDS), alone, then in growing parts. Parts commit in order,
oldest unit first: a later unit may hold a write that read an earlier one, so no unit is on
disk before every unit cut before it. So writes that fit are kept while the disk is nearly
full, and a unit that can never fit blocks only the units behind it. Nothing a unit stood for
is acknowledged, confirmed or sent before that unit is on disk - the hops it took are not
acked, so their senders keep them - and what happens meanwhile is cut into units behind it.

Discussion: a segment cut mid-way. A unit is cut after every event, and a program's segment
may be under way across events: it parked (a question to another node, a thread of
`run_in_thread`, a relocation to wait for) or was switched out after its 10 ms slice, and
other events came meanwhile. Its Ref writes made so far are then in a unit without its end.
On disk without it, and the node dying, the segment would run again from the hop that
brought it (still in the inbox) and make those writes twice. So: RefData notes which segment
(the hop its program resumed from: `segment`, set as programs switch in and out) wrote
what; `cut` lists in the unit's `partial` every segment that wrote in it and did not end in
it, and the store keeps them (`partial` table) until the segment's end is written. A node
that restarts does not run such a hop again: the program ends with PartlyDone, naming the
Refs (NodeState._run) - a clear error, not a write made twice. The common case never gets
there: a program that is about to ask another node while writes of its segment are not yet
kept hops to its own node first (traps._save_first, `saves` in status?), which ends the
segment with its writes in one unit; what is cut mid-way is what could not be captured
(a segment switched out, or parked inside code that cannot be captured). The hop that ends
such a segment (`cut_mid_way`) is not sent before that end is on disk (state._hop_sent):
sent first, as other hops are, and the node dying before the write, the program would go
on where the hop went and also end with PartlyDone here.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from swarm.node.machine.data import Writes

WRITE_DELAY = 0.002  # seconds between writes while hops keep coming (a group commit)
ACK_DELAY = 0.01  # seconds a written hop's ack waits for a hop to ride on


def forget_after(replay_window: float) -> float:
    """How long a hop its sender forgot stays in `done`: twice the replay window (and a
    second: the gate's rounding; see the Discussion on `done`)."""
    return 2 * replay_window + 1.0


FORGET_AFTER = forget_after(300.0)  # (the gate's REPLAY_WINDOW: the machine imports no gate,
# which reads the clock; the node gives its own: shell.py)


@dataclass
class Txn:
    """One write of the ledger (store.commit executes it), or one unit of it (see the
    Discussion on a write that fails)."""
    accepted: dict = field(default_factory=dict)  # hop id -> (program, meta bytes, data)
    finished: list = field(default_factory=list)
    outgoing: list = field(default_factory=list)  # (hop id, node, meta bytes, data)
    acked: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # (program, seq, kind, payload)
    sources: dict = field(default_factory=dict)
    fences: list = field(default_factory=list)  # nodes declared gone
    heirs: dict = field(default_factory=dict)  # node -> (heir, routed): fences.py
    cancelled: list = field(default_factory=list)  # programs cancelled
    deaths: dict = field(default_factory=dict)  # program -> node deaths while it ran
    forgetting: list = field(default_factory=list)  # (hop id, when it goes from `done`)
    forgotten: list = field(default_factory=list)  # hop ids off `done`
    writes: object = None  # RefData.take_staged()
    partial: dict = field(default_factory=dict)  # hop id -> Refs its segment wrote here,
    # the segment not ending in this unit (see the Discussion on a segment cut mid-way)
    answers: dict = field(default_factory=dict)  # op -> (node, reply bytes, value, at):
    # questions answered here by id (answers.py)
    unanswered: list = field(default_factory=list)  # ops whose answers are forgotten
    # bookkeeping for after the write (not written)
    number: int = 0  # the number of its (last) unit: units are numbered from 1 (cut)
    unwritten: dict = field(default_factory=dict)
    confirm: list = field(default_factory=list)
    acked_to: dict = field(default_factory=dict)  # peer -> its acks off our outbox here

    @classmethod
    def joined(cls, units: list[Txn]) -> Txn:
        """One transaction of consecutive units, in order (the units stay as they were:
        a part that fails is split again)."""
        if len(units) == 1:
            return units[0]
        txn = cls()
        for unit in units:
            txn.merge(unit)
        txn.number = units[-1].number
        return txn

    def merge(self, later: Txn) -> None:
        """`later` happened after this one: one transaction of the two (`later` is left
        as it was)."""
        self.accepted.update(later.accepted)
        self.finished += later.finished
        self.outgoing += later.outgoing
        self.acked += later.acked
        self.kept += later.kept
        self.sources.update(later.sources)
        self.fences += later.fences
        self.heirs.update(later.heirs)
        self.cancelled += later.cancelled
        self.deaths.update(later.deaths)
        self.partial.update(later.partial)
        self.answers.update(later.answers)
        self.unanswered += later.unanswered
        self.forgetting += later.forgetting
        self.forgotten += later.forgotten
        if later.writes is not None:
            if self.writes is None:
                w = later.writes
                self.writes = Writes(dict(w.values), dict(w.forwards), dict(w.moves),
                                     list(w.moved), dict(w.blocks))
            else:
                self.writes.merge(later.writes)
        for peer, hop_ids in later.unwritten.items():
            self.unwritten.setdefault(peer, []).extend(hop_ids)
        self.confirm += later.confirm
        for peer, hop_ids in later.acked_to.items():
            self.acked_to.setdefault(peer, []).extend(hop_ids)


class HopLedger:
    def __init__(self, data) -> None:
        self.data = data
        self.next = Txn()  # the unit being made (what the event being handled does)
        self.units: list[Txn] = []  # units cut, for the next write
        # units of writes that failed, oldest first, tried again in parts before the others
        # (see the Discussion on a write that fails); `tries`: how many the next part takes
        self.failed: list[Txn] = []
        self.tries = 0
        self.writing: Txn | None = None  # handed to the store, not yet answered
        self.parts: list[Txn] = []  # ... the units it holds
        self.taken: dict[str, Txn] = {}  # hop id -> the unit that took it alone, not written
        self.wanted = False  # a write is wanted for itself: the unit being made is cut, even
        # empty (see want)
        # hop id -> [node, meta bytes, data, first sent at, program]
        self.outbox: dict[str, list] = {}
        self.done: set[str] = set()  # hops taken here
        self.owed: dict[str, list[str]] = {}
        self.owed_since = 0.0
        # peer -> hops of ours it acknowledged, off our outbox on disk: it may forget them
        self.forgets: dict[str, list[str]] = {}
        self.expiring: list = []  # a heap of (when, hop ids) to go from `done` (forget())
        self.pending_since: float | None = None
        self.cut_mid_way: set[str] = set()  # segments with a unit's `partial`, not ended yet
        self.cuts = 0  # the number of the last unit cut
        self.last_writes = 0  # ... of the last unit holding Ref writes
        self.committed = 0  # ... of the last unit on disk (and every one before it)

    def restore(self, done, forgetting) -> None:
        """At start: the hops taken (the store's `done`), and those going at a time."""
        self.done.update(done)
        self.done.update(hop_id for hop_id, _ in forgetting)
        self.expiring.extend((when, [hop_id]) for hop_id, when in forgetting)
        heapq.heapify(self.expiring)

    # ---- hops --------------------------------------------------------------------------------
    def seen(self, hop_id: str) -> bool:
        """Was this hop taken here already (written, or waiting for the next write)?"""
        return hop_id in self.done

    def take(self, peer: str | None, hop_id: str, program: str, meta_bytes: bytes,
             data: bytes, forget_at: float | None = None) -> None:
        """A hop taken here; `forget_at`: when it leaves `done` (a submission: no sender
        tells us when to forget it)."""
        self.done.add(hop_id)
        self.next.accepted[hop_id] = (program, meta_bytes, data)
        if peer is not None:
            self.next.unwritten.setdefault(peer, []).append(hop_id)
        if forget_at is not None:
            heapq.heappush(self.expiring, (forget_at, [hop_id]))
            self.next.forgetting.append((hop_id, forget_at))

    def finish(self, hop_id: str) -> None:
        self.next.finished.append(hop_id)

    def sent(self, hop_id: str, node: str, meta_bytes: bytes, data: bytes, now: float,
             program: str) -> None:
        self.outbox[hop_id] = [node, meta_bytes, data, now, program]
        self.next.outgoing.append((hop_id, node, meta_bytes, data))

    def acknowledged(self, hop_ids) -> None:
        for hop_id in hop_ids:
            entry = self.outbox.pop(hop_id, None)
            if entry is not None:
                self.next.acked.append(hop_id)
                self.next.acked_to.setdefault(entry[0], []).append(hop_id)

    def forget(self, hop_ids, when: float) -> None:
        """The sender of these hops has them off its outbox, on disk: they go from `done` at
        `when` (now + twice the replay window; the Discussion on `done` says why)."""
        hop_ids = [h for h in hop_ids if h in self.done]
        if hop_ids:
            heapq.heappush(self.expiring, (when, hop_ids))
            self.next.forgetting += [(h, when) for h in hop_ids]

    def expire(self, now: float) -> None:
        """Drop from `done` the hops whose time came (forget)."""
        expiring, done = self.expiring, self.done
        while expiring and expiring[0][0] <= now:
            _, hop_ids = heapq.heappop(expiring)
            done.difference_update(hop_ids)
            self.next.forgotten += hop_ids

    def keep(self, program: str, seq: int, kind: str, payload: bytes) -> None:
        self.next.kept.append((program, seq, kind, payload))

    def confirm(self, client: str, program: str) -> None:
        self.next.confirm.append((client, program))

    def add_sources(self, sources: dict) -> None:
        self.next.sources.update(sources)

    # ---- writing -----------------------------------------------------------------------------
    def pending(self) -> bool:
        """Is there something to write (a unit cut, or one being made)?"""
        n = self.next
        return bool(self.units or n.accepted or n.finished or n.outgoing or n.acked or n.kept
                    or n.confirm or n.sources or n.fences or n.heirs or n.cancelled or n.deaths
                    or n.unwritten or n.forgetting or n.forgotten or n.answers or n.unanswered
                    or self.data.dirty())

    def cut(self, empty: bool = False) -> None:
        """End the unit being made: what the event just handled did, with the Ref writes
        staged before it (NodeState.handle, after each event; see the Discussion on a write
        that fails). `empty`: a unit even if nothing was done (a write wanted for itself:
        what waits for "the next write" waits for its number)."""
        n = self.next
        writes = self.data.take_staged()
        writers = self.data.take_writers() if writes is not None else None
        if n.finished:
            if self.data.unsaved:
                self.data.unsaved.difference_update(n.finished)
            if self.cut_mid_way:
                self.cut_mid_way.difference_update(n.finished)
        empty, self.wanted = empty or self.wanted, False
        if writes is None and not empty and not (
                n.accepted or n.finished or n.outgoing or n.acked or n.kept or n.confirm
                or n.sources or n.fences or n.heirs or n.cancelled or n.deaths or n.unwritten
                or n.forgetting or n.forgotten or n.answers or n.unanswered):
            return
        self.next = Txn()
        self.cuts += 1
        if writes is not None:
            self.last_writes = self.cuts
        if n.finished and self.taken:
            n = self._with_takes(n)
        n.number = self.cuts
        if writes is not None:
            n.writes = writes
            if writers:
                ended = set(n.finished)
                n.partial = {h: refs for h, refs in writers.items() if h not in ended}
                self.cut_mid_way.update(n.partial)
        self.units.append(n)
        self._may_move(n)

    def _may_move(self, unit: Txn) -> None:
        """A unit that took a hop and did nothing else that must keep its place: it may
        join the unit that ends the hop's segment (`taken`, _with_takes)."""
        if unit.accepted and not (unit.writes is not None or unit.finished or unit.outgoing
                                  or unit.kept or unit.confirm or unit.sources or unit.fences or unit.heirs
                                  or unit.cancelled or unit.deaths or unit.answers):
            for hop_id in unit.accepted:
                self.taken[hop_id] = unit

    def _with_takes(self, end: Txn) -> Txn:
        """The unit that ends the segments of `end.finished`, with the units that took
        their hops if those are not written yet and may move (`taken`): a segment's take,
        writes and end in one unit - so its hop never enters the inbox, as when they are
        written together - even when other hops were taken in between.

        Discussion: why a take may move later, past other units. It holds nothing but hops
        taken (no Ref write) and bookkeeping that may wait (acks received, forgets): no
        source, confirmation, output or fence (_may_move). No unit in between can depend on
        it: no other segment reads anything of it, and an ack of one of its hops that a unit
        in between owes (a resend of the hop, taken meanwhile) moves with it - an ack may
        always come later, never before its hop is on disk. What a unit in between may hold
        of the hop's own segment (writes staged before it parked mid-way, a task it spawned,
        output) would, if it were on disk and the take not when the node dies, be done again
        by the segment running again: as when the take is on disk and the segment's end is
        not (the segment runs again from the inbox) - docs/nodes.md, "Known limits"."""
        for hop_id in end.finished:
            take = self.taken.get(hop_id)
            if take is None:
                continue
            for queue in (self.failed, self.units):
                at = next((i for i, u in enumerate(queue) if u is take), None)
                if at is not None:
                    break
            if at is None:  # (handed to the store meanwhile)
                continue
            between = queue[at + 1:] + (self.units if queue is self.failed else [])
            hops = set(take.accepted)
            for u in between:  # (acks owed for them there: owed once they are written)
                for peer, ids in list(u.unwritten.items()):
                    if not hops.isdisjoint(ids):
                        ids = [h for h in ids if h not in hops]
                        if ids:
                            u.unwritten[peer] = ids
                        else:
                            del u.unwritten[peer]
            del queue[at]
            for taken in hops:
                self.taken.pop(taken, None)
            take.merge(end)  # (it holds no Ref writes: `end`'s are set by cut)
            end = take
        return end

    def want(self) -> None:
        """A write is wanted now, and one is under way or failed: the next write, after it
        (what waits for "the next write" - a result, a fence's answer - waits for the number
        of the unit being made, which must therefore exist even if nothing else comes)."""
        self.wanted = True
        self.pending_since = -1e18  # (at once, once the write under way is done)

    def due(self, now: float) -> bool:
        """Time for a write? Hops that arrive within WRITE_DELAY of each other share one
        transaction: a program ping-ponging between two nodes costs each of them one
        write per few hops, not one per hop."""
        if self.writing is not None or self.failed or not self.pending():
            return False
        if self.pending_since is None:
            self.pending_since = now
        return now - self.pending_since >= WRITE_DELAY - 1e-9

    def write(self) -> Txn:
        """The transaction to write now (answer with written() or write_failed()): the units
        cut since the last write - or, after a failure, the next part of what failed (the
        units cut since then join it, behind)."""
        self.pending_since = None
        self.cut(empty=not self.units and not self.failed)
        if self.failed:
            self.failed += self.units
            parts, self.failed = self.failed[:self.tries], self.failed[self.tries:]
        else:
            parts = self.units
        self.units = []
        self.parts = parts
        if self.taken:
            for unit in parts:
                for hop_id in unit.accepted:
                    self.taken.pop(hop_id, None)
        self.writing = txn = Txn.joined(parts)
        return txn

    def written(self, now: float) -> Txn:
        """The write is on disk: its hops may be acknowledged; returns it. Parts of a failed
        write left: the next one, twice as large, is due at once (`retry`)."""
        txn, self.writing = self.writing, None
        self.committed = txn.number
        for unit in self.parts:
            self.data.on_disk(unit.writes)
        if self.failed:
            self.tries = 2 * len(self.parts)
            self.pending_since = -1e18  # (at once: the shell's loop does not wait)
        self.parts = []
        if txn.unwritten:
            if not self.owed:
                self.owed_since = now
            for peer, hop_ids in txn.unwritten.items():
                self.owed.setdefault(peer, []).extend(hop_ids)
        for peer, hop_ids in txn.acked_to.items():
            self.forgets.setdefault(peer, []).extend(hop_ids)
        return txn

    def write_failed(self) -> bool:
        """Keep the write's units for the next try (see the Discussion on a write that
        fails). True: it held several, and the first half of them is tried at once; False:
        a single unit failed (the disk is full for now), to be tried again later."""
        parts, self.writing, self.parts = self.parts, None, []
        self.failed[:0] = parts
        for unit in parts:
            self._may_move(unit)
        self.tries = max(1, len(parts) // 2)
        if len(parts) > 1:
            self.pending_since = -1e18  # (at once: the shell's loop does not wait)
            return True
        return False

    def retry(self) -> bool:
        """Is there a failed write to try again?"""
        return bool(self.failed) and self.writing is None

    # ---- acks ----------------------------------------------------------------------------------
    def acks_for(self, peer: str) -> list[str] | None:
        """The acks that ride on a hop about to go to `peer`."""
        return self.owed.pop(peer, None)

    def overdue(self, now: float) -> bool:
        return bool(self.owed) and now - self.owed_since >= ACK_DELAY - 1e-9

    def take_owed(self) -> dict[str, list[str]]:
        owed, self.owed = self.owed, {}
        return owed

    def forgets_for(self, peer: str) -> list[str] | None:
        """The hops of ours `peer` may forget, to ride on a hop or an ack to it."""
        return self.forgets.pop(peer, None)

    def take_forgets(self) -> dict[str, list[str]]:
        forgets, self.forgets = self.forgets, {}
        return forgets

