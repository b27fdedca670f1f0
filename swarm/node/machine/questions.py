"""The machine's part of the questions a node's programs ask other nodes (swarm/node/
asking.py has the rest): a Ref read or write done where the Ref lives, a future's state, a
collection's step, a relocated value, a program's source.

A program that asks parks under a key; the question goes out as `fetch` {key, ref, action}
(or `source?` {key, hash}), and the answer wakes the program. Questions are of two kinds:

- **Reads** (READS, and sources): asking twice does no harm, so they are sent again every
  RESEND_SECONDS until answered, and never time out - like a hop, the program waits for the
  node for as long as it takes (its path may be cut, the node paused), until an operator
  declares the node gone (NODE_GONE).
- **Questions with an id** (a write, a creation, a collection's step, an adoption - asked by
  a program: answers.py): the node asked does each id once and answers a copy as it answered
  the first, so these too are sent again until answered, and wait for as long as it takes.
- **Anything else** (a write asked by no program, e.g. a relocation the placer started) is
  sent once: a second copy could be done twice. If no answer comes within hop_timeout the
  asker is woken with NO_ANSWER, and fails with an error that says it may or may not have
  been done.

A program that stops waiting - cancelled (`swarm cancel`: KeyboardInterrupt where it is
parked) - says so (Unasked, from asking.py): its question is dropped, no longer sent again,
and an answer that comes later finds no question (dropped, as a late one is). A copy sent
before may still be done by the node asked (docs/programs.md, "A cancelled program's last
question"). `asking` in the node's status counts the questions waiting for an answer,
`asked_again` the copies sent again.

Discussion: a connection that breaks (a partition, a pause: swarm/wire/liveness.py closes it
after 1.5 s of silence) loses what it held; a read sent again is answered once the path is
back; the first answer wins (later ones find no question and are dropped).
"""

from __future__ import annotations

from swarm.node.machine import answers
from swarm.node.machine import events as ev
from swarm.node.machine.ids import VALUE, entry_hash
from swarm.node.machine.instructions import Send, Wake

#: actions whose question may be asked twice (they change nothing where they are answered)
# (a collection's steps that change nothing twice: collserve._ask; an atomic block's read,
# check and prepare too: a prepare asked again is answered as the
# first was - it is durable - or, once the block ended there, with a conflict; and a prepared
# node's question of the block's outcome: txn.py)
READS = frozenset({"get", "size", "wait", "coll-read", "futures-done", "futures-get",
                   "futures-wait", "txn-read", "txn-check", "txn-prepare", "txn-outcome"})
NO_ANSWER = "swarm: no answer"  # what wakes a program whose question timed out
NODE_GONE = "swarm: node gone"  # ... whose question went to a node declared gone


class Question:
    __slots__ = ("node", "send", "read", "asked_at", "sent_at")

    def __init__(self, node: str, send: Send, read: bool, now: float) -> None:
        self.node, self.send, self.read = node, send, read
        self.asked_at = self.sent_at = now


def asked(state, e: ev.Asked) -> None:
    node = state.route(e.node)  # (a node whose heir has its store: the heir answers)
    if state.lost(node):
        if e.key is not None:
            state.out.append(Wake(e.key, NODE_GONE))
        return
    fields = {"key": e.key, "ref": e.ref, "action": e.action}
    if e.op is not None:
        fields["op"] = e.op
        answers.asked(state, e.segment, node, e.op)
    send = Send(node, "fetch", fields, (e.arg,))
    if e.key is not None:  # (None: a message that wants no answer)
        state.asks[e.key] = Question(node, send, e.action in READS or e.op is not None,
                                     e.now)
    state._send(send)


def fetched(state, e: ev.FetchAnswered) -> None:
    question = state.asks.get(e.key)
    # too late, asked twice, not asked, or by another node (keys are this start's own:
    # state.next_key; a node whose heir has its store answers from the heir)
    if question is None or state.route(question.node) != e.sender:
        return
    del state.asks[e.key]
    state.out.append(Wake(e.key, e.reply))


def unasked(state, e: ev.Unasked) -> None:
    """The program parked on `e.key` stopped waiting (cancelled): its question is not asked
    again. Its answer, if one comes, finds no question. A source still wanted by other
    programs is still asked for them."""
    if state.asks.pop(e.key, None) is not None:
        return
    for digest, waiting in list(state.asking.items()):
        if e.key in waiting:
            waiting.remove(e.key)
            if not waiting:  # nobody else waits for this source
                del state.asking[digest]
                for key in [k for k, (d, _) in state.source_asks.items() if d == digest]:
                    del state.source_asks[key]
            return


def source_wanted(state, e: ev.SourceWanted) -> None:
    """A program needs a source (or a large value its hop named by hash): asked of the node
    its hop came from, or of that node's heir, once however many programs wait for it
    (10,000 tasks arriving together ask once)."""
    if e.digest in state.sources:
        state.out.append(Wake(e.key, state.sources[e.digest]))
        return
    node = state.route(e.node)  # (a node taken over: its heir holds its sources)
    if state.lost(node) or node == state.name:  # (its own: not held here, nor anywhere)
        state.out.append(Wake(e.key, None))
        return
    waiting = state.asking.get(e.digest)
    if waiting is not None:
        waiting.append(e.key)
        return
    state.asking[e.digest] = [e.key]
    key = state.next_key("source")
    send = Send(node, "source?", {"key": key, "hash": e.digest})
    state.source_asks[key] = (e.digest, Question(node, send, True, e.now))
    state._send(send)


def source_received(state, e: ev.SourceReceived) -> None:
    asked_for = state.source_asks.pop(e.key, None)
    if asked_for is None:
        return
    digest = asked_for[0]
    source = e.source
    if source is not None and entry_hash(source) == digest:
        source = tuple(source)
        state.sources[digest] = source
        state.ledger.add_sources({digest: source})
        if source[0] == VALUE:
            state.held_bytes += len(source[2])
    else:
        source = None
    for key in state.asking.pop(digest, ()):
        state.out.append(Wake(key, source))


def follow_up(state, now: float, resend_seconds: float) -> None:
    """Every resend round: reads not answered yet are asked again; other questions
    unanswered for hop_timeout wake their program with NO_ANSWER."""
    for key, q in list(state.asks.items()):
        if q.read:
            if now - q.sent_at >= resend_seconds:
                q.sent_at = now
                state.count("asked_again")
                state._send(q.send)
        elif now - q.asked_at > state.hop_timeout:
            del state.asks[key]
            state.out.append(Wake(key, NO_ANSWER))
    for _, q in state.source_asks.values():
        if now - q.sent_at >= resend_seconds:
            q.sent_at = now
            state.count("asked_again")
            state._send(q.send)


def node_gone(state, node: str) -> None:
    """`node` was declared gone: the programs whose question went there are woken."""
    for key in [k for k, q in state.asks.items() if q.node == node]:
        del state.asks[key]
        state.out.append(Wake(key, NODE_GONE))
    for key in [k for k, (_, q) in state.source_asks.items() if q.node == node]:
        digest, _ = state.source_asks.pop(key)
        for waiter in state.asking.pop(digest, ()):
            state.out.append(Wake(waiter, None))


def source_requested(state, e: ev.SourceRequested) -> None:
    """A peer's program needs a module's source this node sent it, or a large value its hop
    named by hash (the value's pickle in a frame of its own): here it is (or None)."""
    state.count("sources_sent")
    source = state.sources.get(e.digest)
    if source is not None and source[0] == VALUE:
        state.count("values_sent")
        state._send(Send(e.sender, "source", {"key": e.key, "source": [VALUE, "", ""]},
                         (source[2],)))
        return
    state._send(Send(e.sender, "source", {
        "key": e.key, "source": list(source) if source else None}))


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.Asked: lambda e: asked(state, e),
            ev.SourceRequested: lambda e: source_requested(state, e),
            ev.FetchAnswered: lambda e: fetched(state, e),
            ev.Unasked: lambda e: unasked(state, e),
            ev.SourceWanted: lambda e: source_wanted(state, e),
            ev.SourceReceived: lambda e: source_received(state, e)}
