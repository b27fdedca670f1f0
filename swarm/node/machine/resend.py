"""Hops sent and not acknowledged: sent again, and their programs' clients told they wait
(NodeState's clock, every RESEND_SECONDS: state.py `_tick`).
"""

from __future__ import annotations

from swarm.node.machine.instructions import Log, Reply, Send
from swarm.wire.control import decode as stored_meta


def unacknowledged(state, now: float, resend_seconds: float) -> None:
    """Resend every hop not acknowledged within `resend_seconds`, for as long as it takes.

    Discussion: a hop's acceptance by its receiver is the point of no return. Until the
    sender has the acknowledgement, the receiver may have taken the hop (and its ack be
    lost, or the receiver paused, or cut off): the program may be running there. So the
    sender never gives up on its own - the program is *waiting* (its client is told, once
    the hop has waited hop_timeout), never failed - until an operator declares the
    receiver gone (`swarm node gone`, fences.py), after which nothing it does counts."""
    present, pacer, outbox = state.present, state.pacer, state.ledger.outbox
    pacer.keep(outbox)
    for hop_id, (dest, meta_bytes, data, sent_at, program) in outbox.items():
        if now - sent_at < resend_seconds:
            continue  # its ack may be on its way (acks wait for a hop to ride on)
        cancelled = program.split("/", 1)[0] in state.cancelled
        if cancelled:  # (it may not have heard; its tasks there too)
            state.out.append(Send(dest, "cancel", {"program": program}))
        if pacer.may_resend(hop_id, len(meta_bytes) + len(data), sent_at, now,
                            resend_seconds):  # (a large one waits longer: pacing.py)
            state.count("resent")
            # the hop carries the cancel too: the message before it may have been refused
            # unread by a receiver restarting (sent before its start: a replay to its gate)
            # and the hop, sent a moment later, taken - the program ran there for ever
            extra = {"again": True, "cancelled": True} if cancelled else {"again": True}
            state._send(Send(dest, "hop", extra, (meta_bytes, data), resend=True))
        where = present.get(program)
        if now - sent_at > state.hop_timeout and where is not None and where[0] == "sent" \
                and where[3] == hop_id:
            where[0] = "waiting"
            meta = stored_meta(meta_bytes)
            state.out.append(Reply(meta["client"], "waiting", {
                "program": program, "node": dest, "since": sent_at}))
            state.out.append(Log("warning", f"program {program}: {dest} has not "
                                            f"acknowledged hop {hop_id} since {sent_at:.3f}"))
    present.trim(now)
