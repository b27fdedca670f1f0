"""What a node refused, and why: counted per reason, logged without flooding the log.

Every refusal - a message that failed the gate (swarm/wire/gate.py), a signed payload that
was malformed, a CURVE handshake with an unknown key, a connection that failed ZeroMQ's
handshake - is counted under its reason (`swarm status` shows the total, the status
message each reason), and logged with what was wrong. Under an attack the first BURST
refusals of each sort in a PERIOD are logged one by one, the rest as one line per sort at the
end of the period. A sort is a reason, or for failed handshakes the way they failed: a flood
of one sort does not hide another.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import zmq

BURST = 20
PERIOD = 10.0  # seconds

log = logging.getLogger("swarm.node")


class Refusals:
    def __init__(self) -> None:
        self.counts: Counter = Counter()  # reason -> refusals since the node started
        self._logged: Counter = Counter()  # (reason, sort) -> logged in this period
        self._quiet: Counter = Counter()  # (reason, sort) -> not logged in this period
        self._period_end = time.monotonic() + PERIOD

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def note(self, reason: str, what: str, sort: str = "", exc_info: bool = False) -> None:
        """Count a refusal under `reason` and log `what` (unless this sort was logged BURST
        times in this period)."""
        self.counts[reason] += 1
        self.tick()
        if self._logged[reason, sort] < BURST:
            self._logged[reason, sort] += 1
            log.warning("refused %s [%s]", what, reason, exc_info=exc_info)
        else:
            self._quiet[reason, sort] += 1

    def tick(self) -> None:
        """At the end of a period: log what was counted but not logged, start a new one."""
        if time.monotonic() >= self._period_end:
            self.flush()

    def flush(self) -> None:
        """Log what was counted but not logged; a new period starts."""
        for (reason, sort), n in sorted(self._quiet.items()):
            log.warning("refused %d more [%s]%s, not logged one by one (%d [%s] since the node "
                        "started)", n, reason, f" ({sort})" if sort else "",
                        self.counts[reason], reason)
        self._quiet.clear()
        self._logged.clear()
        self._period_end = time.monotonic() + PERIOD


_HANDSHAKE = {
    "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH": "its peer and this node disagree on CURVE (a "
                                              "client without keys, or keys for a node without)",
    "PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC": "CURVE decryption failed (the peer does not have "
                                         "this node's public key)",
}


def handshake_failure(event: dict) -> tuple[str, str]:
    """What a ZeroMQ monitor event about a failed handshake means: (its sort, a sentence)."""
    value = int(event["value"])
    if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:  # value: a ZMTP protocol error
        try:
            detail = zmq.Event(value).name or f"{value:#x}"
        except ValueError:
            detail = f"{value:#x}"
        explained = _HANDSHAKE.get(detail, detail.lower().replace("_", " "))
    else:  # no detail: value is an errno
        explained = f"{os.strerror(value)} (the peer went away mid-handshake)"
    endpoint = event["endpoint"].decode("ascii", "replace")
    return explained, f"a connection to {endpoint} that failed the ZeroMQ handshake: {explained}"
