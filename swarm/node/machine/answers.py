"""Questions from other nodes, served here - and those that change something answered once.

A peer's question (`fetch`: questions.py has the asking side) is served by the shell in a
greenlet of its own (Serve -> Served). A question that changes a Ref - a `set` or `delete`
asked under `--policy fetch`, a Ref made on another node, a relocated value's adoption, an
atomic block's commit, a collection's change - carries an id (`op`) when a program asks it
(asking.question_id; collchain.py for a collection's): a number made from the hop the
program resumed from and a count of its questions, and a digest of what it asks (action,
Ref, argument). A program run again from that hop, after its node
died, asks the same questions in the same order under the same ids (docs/nodes.md, "A
segment cut mid-way"). So, here:

- a question whose id was answered before is answered as it was then, and not done again
  (`answered_again` in the node's stats); one asked again while its first copy is still
  being served (waiting for a lock or a relocation) gets the first copy's answer;
- the answer is written with what the question did - both in the ledger unit of the Served
  event - and sent once that is on disk (state._send). Asked again before then, and this node
  dies, neither is kept: the question is done when it comes again.

On the asking node, the ids a segment used are noted by node asked. Once the segment's end
(its next hop, or its end) is on disk, those nodes are told ("answered" {ops}) and forget the
answers. An answer whose forget never comes (lost, or its asker declared gone) goes after
ANSWER_KEPT, like a program's kept output (store.py).

Discussion: why the asker may let the node asked forget once its segment's end is on disk:
only a segment that runs again asks again, and a segment runs again only from an inbox hop
whose end is not written (ledger.py).

Discussion: a program run again need not ask the same questions (its code took another path,
or computed another value: it read the clock, a random number, or a Ref that changed
meanwhile). What it asks is part of the id, so another question is another id: done, and
remembered under its own id. An atomic block run again is another attempt (its commit names
the attempt): committed again (docs/atomic.md). A collection's change asked of other nodes is
a chain of asks, ask n under `<op id>.<n>`, whose route the kept answers fix
(swarm/node/collchain.py): asked again, each is answered as the first time.
"""

from __future__ import annotations

from collections import deque

from swarm.node.machine import events as ev
from swarm.node.machine.instructions import Send, Serve
from swarm.wire.control import decode, encode

ANSWER_KEPT = 7 * 24 * 3600.0  # an answer nobody said they are done with goes after this
PRUNE_EVERY = 60.0


class Answer:
    __slots__ = ("node", "reply", "value", "at")

    def __init__(self, node: str, reply: dict, value: bytes | None, at: float) -> None:
        self.node, self.reply, self.value, self.at = node, reply, value, at


class Answers:
    """The node's memory of questions answered by id, and of the ids its own programs
    used (NodeState.answers)."""

    def __init__(self) -> None:
        self.kept: dict[str, Answer] = {}  # op -> its answer, kept here
        self.serving: dict[str, list] = {}  # op -> [(sender, key)] of copies asked meanwhile
        self.used: dict[str | None, dict[str, list]] = {}  # segment -> node -> ops asked
        self.ended: deque = deque()  # (write number, {node: ops}): told once it is on disk
        self.next_prune = 0.0

    def restore(self, rows: list) -> None:
        for op, node, reply, value, at in rows:
            self.kept[op] = Answer(node, decode(reply), value, at)


def requested(state, e: ev.FetchRequested) -> None:
    """A peer's question: served in a greenlet of its own (it may wait) - unless it is one
    answered before, or being served now."""
    op, answers = e.op, state.answers
    if op is not None:
        kept = answers.kept.get(op)
        if kept is not None and state.speaks_for(e.sender, kept.node):
            state.count("answered_again")
            if e.key is not None:
                state._send(_fetched(e.sender, e.key, kept.reply, kept.value))
            return
        serving = answers.serving.get(op)
        if serving is not None:
            if e.key is not None:
                serving.append((e.sender, e.key))
            return
        answers.serving[op] = []
    state.out.append(Serve(e.sender, e.key, e.action, e.ref, e.arg, op))


def served(state, e: ev.Served) -> None:
    """A question was served here: the answer goes back (key None: nobody waits). One with
    an id is remembered, in the write that holds what it did."""
    also = ()
    if e.op is not None:
        also = state.answers.serving.pop(e.op, None)
        if also is not None:
            state.answers.kept[e.op] = Answer(e.sender, e.reply, e.value, state.now)
            state.ledger.next.answers[e.op] = (e.sender, encode(e.reply), e.value, state.now)
        also = also or ()
    for sender, key in ((e.sender, e.key), *also):
        if key is None:
            continue
        send = _fetched(sender, key, e.reply, e.value)
        if e.op is None and e.ref is not None and state.data.settled(e.ref):
            # A value already on disk shows no write that is not (later ones are not in
            # it; earlier ones are on disk before it): it goes at once, also while the
            # store refuses writes.
            state.out.append(send)
        else:
            state._send(send)


def _fetched(sender: str, key: str, reply: dict, value: bytes | None) -> Send:
    return Send(sender, "fetched", dict(reply, key=key), (value,) if value is not None else ())


def done_with(state, e: ev.AnswersUsed) -> None:
    """A peer has no more use for our answers to these questions of its."""
    kept = state.answers.kept
    for op in e.ops:
        answer = kept.get(op)
        if answer is not None and state.speaks_for(e.sender, answer.node):
            del kept[op]
            state.ledger.next.unanswered.append(op)


# ---- the asking side -------------------------------------------------------------------------
def asked(state, segment: str, node: str, op: str) -> None:
    """A program asked a question with an id (`op`) of `node`: noted with its segment."""
    state.answers.used.setdefault(segment, {}).setdefault(node, []).append(op)


def segment_ended(state, hop_id: str) -> None:
    """The segment of `hop_id` ends in the unit being made: once that is on disk, the
    nodes it asked may forget their answers (released)."""
    used = state.answers.used.pop(hop_id, None)
    if used:
        state.answers.ended.append((state.ledger.cuts + 1, used))


def released(state) -> None:
    """After a write: tell the nodes asked by segments whose end it held."""
    ended, committed = state.answers.ended, state.ledger.committed
    if not ended or ended[0][0] > committed:
        return
    by_node: dict[str, list] = {}
    while ended and ended[0][0] <= committed:
        for node, ops in ended.popleft()[1].items():
            by_node.setdefault(node, []).extend(ops)
    for node, ops in by_node.items():
        if not state.lost(node):
            state.out.append(Send(node, "answered", {"ops": ops}))


def prune(state, now: float) -> None:
    """Answers kept longer than ANSWER_KEPT go (the store drops their rows by itself)."""
    answers = state.answers
    if now < answers.next_prune:
        return
    answers.next_prune = now + PRUNE_EVERY
    for op in [op for op, a in answers.kept.items() if now - a.at > ANSWER_KEPT]:
        del answers.kept[op]


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.FetchRequested: lambda e: requested(state, e),
            ev.Served: lambda e: served(state, e),
            ev.AnswersUsed: lambda e: done_with(state, e)}
