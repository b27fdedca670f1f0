"""When a large message that was not answered may be sent again (hops of the outbox).

A hop not acknowledged within RESEND_SECONDS is sent again, every RESEND_SECONDS, for as long
as it takes (resend.py). For a hop of a few KiB that costs nothing. For one of 300 MB it
was the node's undoing: the receiver takes longer than a second to receive, store, mirror and
acknowledge it (tens of seconds on a loaded machine), and each resend handed another 300 MB
to ZeroMQ, which queues it in memory (a peer's queue is counted in messages, and a 16 MiB
chunk is one message) on the sender and again on the receiver (its receive queue has no
limit: wire/liveness.py). n3 grew 0.3 -> 4.1 GB in 2.5 min and the kernel killed a node at
12.5 GB (trial 17, finding 1).

Discussion: a hop over BIG_BYTES is sent again only once its bytes could have crossed at
RATE on top of RESEND_SECONDS, and each resend doubles that wait, up to MAX_SECONDS (plus
its bytes at RATE): a receiver that is only slow gets one copy at a time, not one a second;
one that is down costs a copy every minute or so, not a copy a second. Small hops keep the
second: a restarted peer gets them at once.
"""

from __future__ import annotations

BIG_BYTES = 1 << 20  # hops up to this size are resent every RESEND_SECONDS
RATE = 20e6  # bytes a second a large hop is given to cross before it is sent again
MAX_SECONDS = 60.0  # the longest wait between two resends (on top of its bytes at RATE)


class Pacer:
    """hop id -> when it may be sent again, for the large hops of the outbox."""

    def __init__(self) -> None:
        self.due: dict[str, tuple[float, float]] = {}  # hop id -> (next send, wait)

    def may_resend(self, hop_id: str, nbytes: int, sent_at: float, now: float,
                   resend_seconds: float) -> bool:
        """Whether the hop is to be sent again now (if so, its next wait starts)."""
        if nbytes <= BIG_BYTES:
            return True
        crossing = nbytes / RATE
        due, wait = self.due.get(hop_id) or (sent_at + resend_seconds + crossing,
                                             resend_seconds + crossing)
        if now < due:
            self.due[hop_id] = (due, wait)
            return False
        wait = min(wait * 2, MAX_SECONDS + crossing)
        self.due[hop_id] = (now + wait, wait)
        return True

    def keep(self, hop_ids) -> None:
        """Forget the hops no longer in the outbox (acknowledged)."""
        if self.due:
            self.due = {h: d for h, d in self.due.items() if h in hop_ids}
