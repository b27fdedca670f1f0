"""Quick submissions: a program written to the store only once it does something that must
be kept (a web request: swarm/web.py; docs/nodes.md, "Quick submissions").

A submission marked `quick` whose sources the node has starts at once, without the write
that takes a submission (the ledger's `take`, its mirror's copy and the `accepted` that
waits for both). The node keeps it in memory (`state.quick`: hop id -> what `take` needs)
and takes it - writes it as it would have at once, and confirms it - before the first thing
the program does that a write must keep:

    a Ref written by its segment (RefData.writers; a new Ref's first value does not count:
        a segment run again makes another Ref, and the first is garbage, as after any crash)
    a hop or a task sent (HopSent), output (ProgramPrinted), a question to its client
        (InputWanted), a question that changes something on another node (Asked with an op)

- all taken in the same unit of the ledger's write as that thing, so it commits with it, or
both not at all, as for a submission taken at once and written by the same group commit.

A quick program that ends here having done none of these - it read Refs here, asked other
nodes for reads, and computed - sends its result without any write: nothing is kept of it
(`collect?` does not know it) and nothing need be. Its result still waits for every Ref
write made here before it to be on disk (and on the mirror): NodeState._send, as any
message that could show a write. If the node stops before the result leaves, its client,
which was never told `accepted`, sends the submission again (runs.RESUBMIT_SECONDS), as it
does for any submission a node did not take; the program runs again - it changed nothing -
and answers. A copy sent again while it runs here is not started twice.

Discussion: what this saves. A read-only web request on the node holding its data was a
SQLite transaction and a mirror round trip (the record sent, replayed in the mirror's
SQLite, answered) for its submission, then the `accepted` message, then another write and
round trip for its end and kept result, before its answer could leave (under load, group
commit shares them among requests). None of it kept anything a client could miss: the
result of a program that changed nothing is as good made again.
"""

from __future__ import annotations

from swarm.node.machine import events as ev
from swarm.node.machine.ids import submit_id
from swarm.node.machine.instructions import Reply
from swarm.wire.control import encode


def start(state, hop_id: str, client: str, meta: dict, forget_at: float) -> None:
    """A quick submission starts without a write (taken later if it must be: take())."""
    state.quick[hop_id] = (client, meta, forget_at)
    state.count("quick_started")


def before(state, event) -> None:
    """Take the quick programs this event (or a Ref write since the last one) shows must be
    kept - before the event is handled, so that they are in the unit it is cut into."""
    quick = state.quick
    for segment in state.data.writers:
        if segment in quick:
            take(state, segment)
            state.count("quick_why_write")
    kind = type(event)
    if kind is ev.HopSent:
        hop_id = event.finished or submit_id(event.meta["program"].split("/", 1)[0])
    elif kind is ev.ProgramPrinted or kind is ev.InputWanted:
        hop_id = submit_id(event.program.split("/", 1)[0])
    elif kind is ev.Asked and event.op is not None:
        hop_id = event.segment
    else:
        return
    if hop_id in quick:
        take(state, hop_id)
        state.count("quick_why_" + kind.__name__)


def take(state, hop_id: str) -> None:
    """Write the submission as a submission taken at once is written, and confirm it."""
    client, meta, forget_at = state.quick.pop(hop_id)
    program = meta["program"]
    state.ledger.confirm(client, program)
    state.ledger.take(None, hop_id, program, encode(meta), b"", forget_at=forget_at)
    state.count("quick_taken")


def finished(state, e: ev.ProgramFinished) -> bool:
    """A program ended here: if it is a quick one not taken, its result goes without a write
    (True); else False (kept and sent after the write, as every result)."""
    if e.hop_id not in state.quick or e.result is None:
        return False
    del state.quick[e.hop_id]
    state.present.pop(e.program, None)
    state._send(Reply(e.client, "result", e.result, encode(e.result)))
    state.count("quick_unwritten")
    return True
