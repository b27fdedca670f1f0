"""Where programs are, as far as this node knows: for `swarm ps` (programs?) and for a
client looking for a program after a fence (swarm/fencing.py follows the trail of hands).

A row, by program id: [state, when, node, hop id, client, task, submitted, route], where
state is
    here     taken here (running, parked or waiting here)
    sent     its hop to `node` is not acknowledged yet
    waiting  ... for longer than hop_timeout
    handed   `node` acknowledged it (or was declared gone): it is there, or went on
A program that ends here leaves (state._finished). A handed row is kept HANDED_SECONDS, and
only the HANDED_KEPT newest: they are the memory a node keeps of programs that are no longer
its own, bounded in time and count (tests/test_node_memory.py). Once handed, a row drops its
hop id (nothing reads it then) and shares its client's name with the other rows.
"""

from __future__ import annotations

import sys
from collections import deque

HANDED_SECONDS = 600.0  # how long a node remembers where it handed a program
HANDED_KEPT = 10000  # ... and how many such programs at most (the newest)


class Whereabouts(dict):
    """program id -> row (above); the rows handed, in the order they were handed."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: deque = deque()  # (when, program), oldest first; some since replaced

    def place(self, program: str, state: str, node: str, hop_id: str | None, meta: dict,
              when: float) -> None:
        self[program] = [state, when, node, hop_id, sys.intern(meta.get("client", "")),
                         meta.get("task"), meta.get("submitted", 0.0), meta.get("route", [])]
        if state == "handed":
            self.handed.append((when, program))

    def hand(self, program: str, node: str, now: float) -> None:
        """`program`'s hop reached `node` (acknowledged, or the node was declared gone)."""
        self[program][:4] = ["handed", now, node, None]
        self.handed.append((now, program))

    def trim(self, now: float) -> None:
        """Forget the handed rows older than HANDED_SECONDS, and the oldest beyond
        HANDED_KEPT (counting hands since replaced: a program that came back here)."""
        handed = self.handed
        while handed and (len(handed) > HANDED_KEPT or now - handed[0][0] > HANDED_SECONDS):
            when, program = handed.popleft()
            row = self.get(program)
            if row is not None and row[0] == "handed" and row[1] == when:
                del self[program]

    def rows(self, programs) -> list[dict]:
        """The rows of `programs` (None: all) known here, as `programs?` answers them."""
        ids = self if programs is None else [p for p in programs if p in self]
        rows = []
        for program in ids:
            state, when, node, _, client, task, submitted, route = self[program]
            rows.append({"program": program, "state": state, "since": submitted or when,
                         "at": when, "to": node, "client": client, "task": task,
                         "route": route if route[-1:] == [node] else [*route, node]})
        return rows
