"""A node's side of keeping a second copy of its store on its mirror (docs/nodes.md, "Copies
of a node's store"; the mirror's side: swarm/node/mirrors.py).

With `replicas = 2` (the default from three nodes on) every node has a mirror: the next node
after it in cluster order that is not declared gone (`mirror_of`). Each commit of the store is
a numbered record (swarm/node/records.py) sent to the mirror, which replays it on its copy
and answers `mirrored` {seq, have, gap}. A write counts as written - its hops acknowledged,
its submissions confirmed, the messages held for it released (state._written) - only once the
mirror has it too: nothing is acknowledged that one lost disk could undo.

    live   each commit's record goes to the mirror; the write waits for `have >= seq`
    down   the mirror did not answer a record within MIRROR_TIMEOUT: writes count once they
           are on this node's disk alone (a warning says so, `Cluster.status()` shows
           `mirror.state` and counts `writes_one_copy`); a probe {seq, probe} goes every
           PROBE_SECONDS until the mirror answers

A live mirror is asked too, every CHECK_SECONDS: one that lost its disk (and so its copy)
answers with a gap even when this node writes nothing. A `gap` answer (the copy is not at
the record before, or is of another store: the mirror lost its copy, was down, a record was
dropped, or this store is new) is mended by a snapshot: the shell sends the whole store as it is now
(SendSnapshot), and the records after it follow in order on the same link. A probe answered
with the copy at this node's last record brings the mirror back without one. A `behind`
answer (the copy is of this store and further on: the store went back in time) is never
mended by a snapshot: the copy stays, the link stays down, and the log says to restart the
node, which then takes the copy (restore.catch_up). A write, a snapshot, waits for the
mirror MIRROR_TIMEOUT plus its bytes at SHIP_RATE: a large one is not taken for a mirror
that does not answer.

Discussion: what a node that loses its disk gets back. Every write acknowledged while the
mirror was live is on the copy (it counted only once `have` covered it). A node whose store
is new asks its mirror for its copy before it starts (swarm/node/restore.py) and goes on from
it as from a restart after a crash: what it committed but the copy lacks was never
acknowledged - the hops it took are resent by their senders, the hops it sent are sent again
under the same ids when their segments run again (ledger.py, "why sending first loses
nothing"). Writes made while the mirror was down are on one disk only: that window is the
documented limit (as with a synchronous backup that is not there). A mirror that is only
slow (paused, loaded) goes down after MIRROR_TIMEOUT and comes back at the next probe.
"""

from __future__ import annotations

from swarm.node.machine import events as ev
from swarm.node.machine import failover
from swarm.node.machine.instructions import Log, Send, SendSnapshot

MIRROR_TIMEOUT = 2.0  # seconds a write waits for the mirror before it counts without it
SHIP_RATE = 50e6  # bytes a second a record or snapshot is given on top of MIRROR_TIMEOUT
PROBE_SECONDS = 1.0  # how often a mirror that is down is asked what it holds
RESEND_SECONDS = 0.25  # how often the record a write waits for is sent again (a mirror
RESEND_MAX = 1 << 20  # restarted meanwhile lost it), if it is no larger than this
CHECK_SECONDS = 2.0  # and one that is live (it may have lost its copy with its disk)
START_WAIT = 10.0  # seconds a node with a store waits for its mirror before it starts
# (swarm/node/restore.py: catch_up)


def mirror_of(names: list[str], fenced, name: str, replicas: int) -> str | None:
    """Who keeps `name`'s copy: the next node in cluster order not declared gone; None with
    replicas < 2 or no other such node."""
    if replicas < 2:
        return None
    live = [n for n in names if n not in fenced or n == name]
    if name not in live or len(live) < 2:
        return None
    return live[(live.index(name) + 1) % len(live)]


def former_mirrors(names: list[str], fenced, name: str, replicas: int,
                   first: int = 0) -> list[str]:
    """The nodes that kept `name`'s copy before later members joined (each join appends a
    node to `names`: its mirror was the next node in each shorter list, none shorter than
    the `first` nodes - the ring, there before any join), but its mirror now - those a
    restore asks when its mirror keeps no copy (restore.take_former_copy)."""
    if name not in names:
        return []
    now = mirror_of(names, fenced, name, replicas)
    found = [mirror_of(names[:k], fenced, name, replicas)
             for k in range(max(names.index(name) + 1, first), len(names))]
    return sorted({n for n in found if n is not None and n != now})


def deadline(now: float, nbytes: int) -> float:
    return now + MIRROR_TIMEOUT + nbytes / SHIP_RATE


class MirrorLink:
    """What this node knows of its mirror."""

    def __init__(self, node: str | None, seq: int = 0, store: int = 0) -> None:
        self.node = node
        self.seq = seq  # the last record made (the store's)
        self.store = store  # the store's id (Store.id): a copy of another store is none
        self.have = 0  # the last record the mirror said its copy holds
        self.waiting: tuple[int, float] | None = None  # (seq, until): the write held for it
        self.held_since: float | None = None  # that write, late, waits for leave since
        self.sent: Send | None = None  # its record, sent again every RESEND_SECONDS
        self.next_send = 0.0
        self.syncing: tuple[int, float] | None = None  # (seq, until): a snapshot unanswered
        self.down_since: float | None = None
        self.behind = False  # the copy is further on than this store: never replaced
        self.snapshot_at = 0  # the record a snapshot sent last stood at
        self.slow = 1  # doubles with each snapshot not answered in time (snapshot_sent)
        self.exposed = 0  # writes counted on this disk alone, not yet known on the copy
        self.next_probe = 0.0

    def status(self) -> dict:
        return {"node": self.node, "state": "none" if self.node is None else
                "behind" if self.behind else "down" if self.down_since is not None else
                "syncing" if self.syncing is not None else "live",
                "seq": self.seq, "have": self.have, "exposed": self.exposed}

    def due(self) -> float | None:
        """When a Tick must come (a wait that times out, a probe to send): wakeup_at."""
        times = [w[1] for w in (self.waiting, self.syncing) if w]
        if self.waiting is not None and self.sent is not None:
            times.append(self.next_send)
        if self.node is not None and self.waiting is None and self.syncing is None:
            times.append(self.next_probe)
        return min(times) + 1e-6 if times else None


def went_down(link: MirrorLink, now: float) -> None:
    """The mirror did not answer before the node started (restore.catch_up): what the store
    holds may not all be on the copy."""
    link.down_since = link.next_probe = now
    link.exposed += 1


def committed(state, e: ev.Committed) -> bool:
    """A write is on this node's disk: whether it counts as written now (else it waits for
    the mirror; `answered` or `tick` lets it count)."""
    link = state.mirror
    if e.record is None or link.node is None:
        return True
    link.seq = e.seq
    if link.down_since is not None and failover.may_count_alone(state):
        state.count("writes_one_copy")
        link.exposed += 1
        return True
    fields, blobs = e.record
    send = Send(link.node, "mirror", fields, tuple(blobs))
    state.out.append(send)
    size = sum(len(b) for b in blobs if isinstance(b, (bytes, bytearray, memoryview))) + \
        sum(len(p) for _, params in fields.get("stmts", ()) for p in params
            if isinstance(p, (bytes, str)))
    link.waiting, link.held_since = (e.seq, deadline(e.now, size)), None
    link.sent = Send(send.node, send.kind, send.fields, send.blobs, resend=True) \
        if size <= RESEND_MAX else None
    link.next_send = e.now + RESEND_SECONDS
    return False


def probe(link: MirrorLink) -> Send:
    return Send(link.node, "mirror", {"seq": link.seq, "id": link.store, "probe": True},
                resend=True)


def answered(state, e: ev.MirrorAnswered) -> None:
    """The mirror says what its copy holds."""
    link = state.mirror
    if e.sender != link.node:
        return  # (a mirror from before a fence)
    link.have = e.have
    if not e.gap and e.have > link.seq:  # the copy, of this store, is further on than it:
        # it stays (the module's doc). (Not `e.behind`: a probe's compares with the record
        # it was sent at, which may be an older one of this node's by now.)
        if not link.behind:
            link.behind = True
            state.out.append(Log("error", f"the copy of this node's store on {link.node} "
                                          f"is further on (record {e.have}) than the store "
                                          f"(record {link.seq}): the store went back in "
                                          f"time. The copy is kept; restart this node to "
                                          f"take it. Until then writes are kept here alone"))
        if link.waiting is not None:
            link.waiting = None
            link.exposed += 1
            state._written(state.now)
        link.down_since = link.down_since or state.now
        return
    if e.gap:  # records it cannot replay (a copy behind, lost, or of another store)
        link.exposed = max(link.exposed, 1)  # (what the copy had may be gone with it)
        if link.syncing is None and (e.seq > link.snapshot_at or e.probe):
            state.out.append(SendSnapshot(link.node))
            link.snapshot_at = link.seq
            link.syncing = (link.seq, deadline(state.now, 0))  # (SnapshotSent: its size)
            state.count("mirror_snapshots")
            if link.down_since is not None:
                state.out.append(Log("warning", f"mirror {link.node} answers again: "
                                                f"sending it this node's whole store"))
                link.down_since = None
        return
    if link.syncing is not None and e.have >= link.syncing[0]:
        link.syncing, link.slow = None, 1
        if e.have >= link.seq:  # (the pair of "sending it this node's whole store")
            state.out.append(Log("warning", f"mirror {link.node} has the snapshot and holds "
                                            f"every write: writes wait for its copy again"))
    if e.have >= link.seq:  # (every write made so far is on the copy)
        link.exposed = 0
        if state.failover.leave or state.failover.leave_asked_at >= 0:  # (those that let
            failover.whole_again(state)  # it go on alone may vote it out again)
    if link.down_since is not None and e.have == link.seq:
        state.out.append(Log("warning", f"mirror {link.node} answers again and holds every "
                                        f"write: writes wait for its copy again"))
        link.down_since = None
    if link.waiting is not None and e.have >= link.waiting[0]:
        link.waiting = None
        state.count("writes_mirrored")
        state._written(state.now)


def snapshot_sent(state, e: ev.SnapshotSent) -> None:
    """The shell sent the snapshot: its size sets how long it may take - longer after each
    one that was not answered in time.

    Discussion: a snapshot not answered in time is sent again (a probe's gap). One of a
    store that holds 300 MB values takes the mirror longer than its bytes at SHIP_RATE on a
    loaded machine; sent again at every probe, each copy of the whole store queued in memory
    behind the last on both nodes, and they grew until the kernel killed one (trial 17,
    finding 1). So each late one doubles the time the next is given (up to 64 times)."""
    link = state.mirror
    if link.syncing is not None and e.node == link.node:
        link.syncing = (link.syncing[0], deadline(state.now, e.nbytes * link.slow))


def tick(state, now: float) -> None:
    """A write the mirror has not answered in time counts without it; a mirror that is down
    (or live: has it still its copy?) is probed."""
    link = state.mirror
    if link.waiting is not None and link.sent is not None and now >= link.next_send:
        link.next_send = now + RESEND_SECONDS  # (a copy of it is answered as the first)
        state.out.append(link.sent)
    late = [w for w in (link.waiting, link.syncing) if w and now > w[1]]
    if late and not failover.may_go_alone(state, now):  # (they wait: failover.py, rule 3)
        again = now + failover.ASK_SECONDS
        link.waiting = link.waiting and (link.waiting[0], max(link.waiting[1], again))
        link.held_since = link.held_since or now  # (failover.tell_held)
        if link.syncing is not None:  # (a snapshot unanswered: lost? a probe's gap sends
            link.syncing, link.snapshot_at = None, 0  # it again, given longer)
            link.slow = min(link.slow * 2, 64)
        state.out.append(probe(link))
    elif late:
        waiting = link.waiting
        if link.syncing is not None:  # (the next is given longer: snapshot_sent)
            link.slow = min(link.slow * 2, 64)
        link.waiting = link.syncing = None
        link.snapshot_at = 0  # (the next gap sends a snapshot again)
        link.down_since = link.next_probe = now
        state.count("mirror_downs")
        state.out.append(Log("warning", f"mirror {link.node} did not answer in time: writes "
                                        f"are kept on this node's disk alone until it "
                                        f"answers again"))
        if waiting is not None:
            link.exposed += 1
            state._written(now)
    if link.node is not None and link.waiting is None and link.syncing is None and \
            now >= link.next_probe:
        link.next_probe = now + (PROBE_SECONDS if link.down_since is not None else
                                 CHECK_SECONDS if not failover.on(state) else
                                 min(CHECK_SECONDS, state.failover.after / 4))
        state.out.append(probe(link))


def fenced(state) -> None:
    """A node was declared gone, or one joined: this node's mirror may be another one now
    (which has no copy yet: its first answer is a gap, and a snapshot follows; the old
    mirror's copy stays where it is, unused)."""
    link = state.mirror
    node = mirror_of(state.names, state.fenced, state.name, state.replicas)
    if node != link.node:
        waiting = link.waiting
        state.mirror = new = MirrorLink(node, link.seq, link.store)
        new.exposed = link.exposed + 1  # (the old copy is not this node's any more)
        if node is None and waiting is not None:
            state._written(state.now)
        elif waiting is not None:  # asked again of the new one (a gap: a snapshot)
            new.waiting = (waiting[0], deadline(state.now, 0))
            state.out.append(probe(new))


def handlers(state) -> dict:
    return {ev.MirrorAnswered: lambda e: answered(state, e),
            ev.SnapshotSent: lambda e: snapshot_sent(state, e)}
