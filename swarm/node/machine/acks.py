"""What receivers say of the hops this node sent: acknowledgements (the hop is written there:
off the outbox, state._acknowledged) and refusals (not taken yet: the hop waits in the outbox,
and its program's client is told why)."""

from __future__ import annotations

from swarm.node.machine import events as ev
from swarm.node.machine.instructions import Reply
from swarm.wire.control import decode as stored_meta


def refused(state, e: ev.RefusedReceived) -> None:
    """Hops of ours a peer would not take yet: they wait, and their clients are told."""
    for hop_id in e.hop_ids:
        entry = state.ledger.outbox.get(hop_id)
        if entry is None or state.route(entry[0]) != e.sender:
            continue
        where = state.present.get(entry[4])
        if where is None or where[3] != hop_id or where[0] == "waiting":
            continue
        where[0] = "waiting"
        meta = stored_meta(entry[1])
        state.out.append(Reply(meta["client"], "waiting", {
            "program": entry[4], "node": e.sender, "since": entry[3], "reason": e.reason}))


def ack(state, e: ev.AckReceived) -> None:
    if e.sender not in state.fenced:
        if e.load >= 0:  # (a node receiving many tasks says how many wait, with acks)
            state.peer_load[e.sender] = (e.load, state.now)
        state._acknowledged(e.hop_ids)
        if e.forget:
            state.ledger.forget(e.forget, state.now + state.forget_after)


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.RefusedReceived: lambda e: refused(state, e),
            ev.AckReceived: lambda e: ack(state, e)}
