"""Garbage collection of Refs: the node's part of a cycle (the coordinator, `swarm gc`, is
swarm/gc.py; docs/gc.md says what a user gets).

A cycle, numbered by its coordinator, goes over every live node in four steps, each a `gc`
message answered with `gc-report`:

  mark    In one step (nothing else runs on the node meanwhile), the node starts noting
          every collectable Ref id that goes by it (`touched`: in every event it takes -
          hops in and out, values served and received, programs' writes), and answers what
          it holds: its collectable Refs (id -> size), the ids each one's value holds
          (`edges`), and its roots - the ids held by everything that is not a collectable
          Ref: collections' parts, named Refs and futures' results (their values), hops
          taken or sent and not finished, programs' kept results, messages held for a
          write, prepared atomic blocks, answers kept for questions asked again
          (answers.py), and the Refs the node's programs hold in memory (the shell finds
          those: GcRequested.memory).
  flush   (once every node has marked) The node sends each other live node a `gc-flush`,
          behind everything it sent that node before.
  end     Once the node has every other live node's `gc-flush` (else it answers which are
          `pending`, and the coordinator has those nodes flush again), it answers the ids it
          saw go by since its mark, and stops noting.
  sweep   The node deletes the Refs it is told (those still here, not moving), answered
          once the deletion is written. A node that did not mark and end this cycle in this
          life (it restarted) deletes nothing.

A node ends only once every message sent to it before the last mark has arrived: each
sender's `gc-flush` was sent after that mark, on the same connection, which delivers in
order (ZeroMQ over TCP; a connection that breaks loses what it held - it never delivers it
later). A Ref is collected when it is reachable from no root of any node's mark and was seen
by no node during the cycle.

Discussion: why nothing reachable is collected. The marks are not one instant: a program may
carry a Ref from a node not yet marked to one marked already, so that no mark sees it. But
the Ref then went by in a message sent before its sender's mark and taken after its
receiver's: taken during the cycle, so noted (`touched`), and taken before `end` - it came
before its sender's `gc-flush`. (Before the flush, the coordinator waited twice the replay
window - ten minutes by default - for the gate to refuse anything older.) A Ref no mark saw and no
message carried during the cycle is held by nothing: no program can reach it again (a
program reaches a Ref only from what holds it), so deleting it later is safe. A Ref made
after a node's mark is in no mark, so it is never a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swarm.node.machine import events as ev
from swarm.node.machine.gcscan import IdFinder
from swarm.node.machine.instructions import Log, Reply, Send

CYCLE_SECONDS = 3600.0  # a cycle whose coordinator went quiet is dropped after this (at least)
ENDED_KEPT = 16  # cycles ended here whose sweep may still come


@dataclass
class Cycle:
    touched: set = field(default_factory=set)
    until: float = 0.0  # dropped after this (the coordinator went away)
    flushed: set = field(default_factory=set)  # the nodes whose gc-flush came


class Collector:
    """The cycles under way on one node (NodeState.gc)."""

    def __init__(self, names) -> None:
        self.finder = IdFinder(names)
        self.cycles: dict[str, Cycle] = {}  # marked here, not ended
        # cycle -> the ids noted, for the cycles ended here in this life (the newest ENDED_KEPT)
        self.ended: dict[str, list] = {}

    def saw(self, state, event) -> None:
        """Note the collectable ids in an event, for every cycle under way."""
        now = state.now
        for key in [k for k, c in self.cycles.items() if c.until < now]:
            del self.cycles[key]
            state.out.append(Log("warning", f"gc cycle {key} dropped: its coordinator did "
                                            f"not end it"))
        if not self.cycles:
            return
        found: set = set()
        self.finder.scan(event, found)
        if type(event) is ev.Served and event.value is None and event.ref is not None:
            self.finder.ids_in(state.data.blob(event.ref), found)  # (a mapped value)
        if found:
            for cycle in self.cycles.values():
                cycle.touched |= found


def handle(state, e: ev.GcRequested) -> None:
    """A step of a cycle. Each may come again (a coordinator that heard no answer asks
    again): a mark again answers a new mark but keeps noting from the first; an end again
    gives the same ids; a sweep again deletes what is left of its list."""
    collector = state.gc
    answer = {"node": state.name, "cycle": e.cycle, "phase": e.phase}
    if e.phase == "mark":
        if e.cycle not in collector.cycles and e.cycle not in collector.ended:
            # (dropped long after its coordinator's wait of twice the replay window)
            keep = max(CYCLE_SECONDS, 4 * state.forget_after)
            collector.cycles[e.cycle] = Cycle(until=state.now + keep)
        if e.cycle in collector.cycles:
            answer.update(mark(state, e.memory))
        else:  # (a late copy of a mark whose cycle ended here)
            answer["lost"] = True
        state.out.append(Reply(e.client, "gc-report", answer))
    elif e.phase == "flush":  # (also once ended here: another node may wait for it)
        if e.cycle in collector.cycles or e.cycle in collector.ended:
            for peer in e.nodes:
                if peer != state.name and peer not in state.fenced:
                    state.out.append(Send(peer, "gc-flush", {"cycle": e.cycle}))
        state.out.append(Reply(e.client, "gc-report", dict(
            answer, lost=e.cycle not in collector.cycles and e.cycle not in collector.ended)))
    elif e.phase == "end":
        cycle = collector.cycles.get(e.cycle)
        if cycle is not None and set(state.names) - state.fenced - set(e.nodes):
            # a node joined during the cycle (`swarm node add`): it marked nothing, and a
            # program there may hold a Ref that no mark saw - dropped, never swept
            del collector.cycles[e.cycle]
            state.out.append(Log("warning", f"gc cycle {e.cycle} dropped: a node joined "
                                            f"the cluster meanwhile"))
            cycle = None
        pending = cycle is not None and sorted(
            set(e.nodes) - cycle.flushed - {state.name} - state.fenced)
        if pending:  # (messages sent here before the last mark may be on their way)
            state.out.append(Reply(e.client, "gc-report", dict(answer, pending=pending)))
            return
        cycle = collector.cycles.pop(e.cycle, None)
        if cycle is not None:
            collector.ended[e.cycle] = sorted(cycle.touched)
            while len(collector.ended) > ENDED_KEPT:
                del collector.ended[next(iter(collector.ended))]
        touched = collector.ended.get(e.cycle)
        state.out.append(Reply(e.client, "gc-report", dict(
            answer, lost=touched is None, touched=touched or [])))
    elif e.phase == "sweep":
        if e.cycle not in collector.ended:
            state.out.append(Reply(e.client, "gc-report", dict(answer, lost=True, deleted=0,
                                                               bytes=0)))
            return
        deleted, size = sweep(state, e.ids)
        if deleted:
            state.out.append(Log("info", f"gc cycle {e.cycle}: {deleted} Refs deleted "
                                         f"({size} bytes)"))
        state._send(Reply(e.client, "gc-report", dict(answer, lost=False, deleted=deleted,
                                                      bytes=size)), hold=True)
        state._write_now()
    else:
        state.out.append(Log("warning", f"gc {e.phase!r} from {e.client} ignored"))


def mark(state, memory) -> dict:
    """What this node holds, now: {refs: {id: size}, edges: {id: [ids]}, roots: [ids]}."""
    finder, data, ledger = state.gc.finder, state.data, state.ledger
    collectable = finder.collectable
    refs: dict[str, int] = {}
    edges: dict[str, list] = {}
    roots: set = {i for i in memory if collectable(i)}
    newer: dict = {}  # what is newer than the store: writes not yet on disk, oldest first
    for writes in data.pending:
        newer.update(writes.values)
        newer.update(dict.fromkeys(writes.forwards))
    newer.update(data.staged)
    newer.update(dict.fromkeys(data.staged_forwards))
    moving = set(data.moving) | set(data.staged_moves) | set(data.reader.moves_under_way())

    def take(ref_id: str, blob) -> None:
        held = finder.ids_in(blob)
        if collectable(ref_id) and ref_id not in moving:
            refs[ref_id] = data.nbytes(blob)
            held.discard(ref_id)
            if held:
                edges[ref_id] = sorted(held)
        else:
            roots.update(held)
            if collectable(ref_id):
                roots.add(ref_id)  # (being relocated: left alone)

    for ref_id, blob in data.reader.all_refs():  # (one at a time: a value may be a file's map)
        if ref_id not in newer:
            take(ref_id, blob)
    for ref_id, blob in newer.items():
        if blob is not None:  # (None: deleted, or moved away)
            take(ref_id, blob)
    for blob in data.reader.held_blobs():  # inbox, outbox and kept rows on disk
        finder.ids_in(blob, roots)
    for txn in (ledger.next, ledger.writing, *ledger.units, *ledger.failed, *ledger.parts):
        if txn is not None:  # (hops taken or sent, and results, not yet on disk)
            finder.scan((txn.accepted, txn.outgoing, txn.kept), roots)
    finder.scan(ledger.outbox, roots)
    finder.scan([message for _, message in state.held], roots)
    finder.scan(data.txns.prepared, roots)
    # answers kept for questions asked again (answers.py): a Ref made for a program whose
    # node died is handed to it again when it asks again
    finder.scan([a.value for a in state.answers.kept.values()], roots)
    return {"refs": refs, "edges": edges, "roots": sorted(roots)}


def sweep(state, ids) -> tuple[int, int]:
    """Delete these Refs where they still are here (written with the ledger's next write)."""
    data = state.data
    moving = set(data.moving) | set(data.staged_moves)
    deleted = size = 0
    for ref_id in ids:
        if ref_id in moving or data.txns.locked(ref_id) or not data.has(ref_id):
            continue
        size += data.size(ref_id)
        data.delete(ref_id)
        deleted += 1
    return deleted, size


def flushed(state, e: ev.GcFlushed) -> None:
    """A peer's gc-flush: what it sent here before has arrived."""
    cycle = state.gc.cycles.get(e.cycle)
    if cycle is not None:
        cycle.flushed.add(e.sender)


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.GcRequested: lambda e: handle(state, e),
            ev.GcFlushed: lambda e: flushed(state, e)}
