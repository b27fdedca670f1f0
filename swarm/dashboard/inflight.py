"""What is moving in a cluster, as the dashboard shows it: the programs in flight (from the
nodes' `programs?` answers), the recent hops (from their `hops?` answers, kept in order
across samples) and each node's state beyond up and down. Pure functions and one small
class: sampler.py asks the nodes, this module makes the rows.
"""

from __future__ import annotations

from collections import deque

MAX_PROGRAMS = 200  # rows of the programs' list (the oldest programs first)
MAX_HOPS = 500  # hops in a snapshot (the newest)
KEPT_HOPS = 2000  # hops the dashboard keeps between samples

# a program can be on two nodes at once for a moment (its hop taken, not yet acknowledged):
# the row shown is the one of the node that has it
PRIORITY = {"running": 0, "parked": 1, "waiting": 2, "sent": 3}


def programs_in_flight(answers: dict[str, list[dict]], limit: int = MAX_PROGRAMS) -> dict:
    """One row per program (or task) from every node's `programs` rows - {id, node, state,
    route, since, client, task; and `to`, the node a sent or waiting program is going
    to} - oldest first, at most `limit`; with the totals per state."""
    best: dict[str, dict] = {}
    for node, rows in answers.items():
        for row in rows:
            state = row.get("state")
            if state not in PRIORITY:  # handed: no longer on that node
                continue
            program = row.get("program", "?")
            shown = {"id": program, "node": node, "state": state, "to": row.get("to", node),
                     "route": list(row.get("route") or [node]),
                     "since": float(row.get("since") or 0.0), "client": row.get("client", ""),
                     "task": row.get("task")}
            other = best.get(program)
            if other is None or PRIORITY[state] < PRIORITY[other["state"]]:
                best[program] = shown
    rows = sorted(best.values(), key=lambda r: (r["since"], r["id"]))
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    return {"rows": rows[:limit], "total": len(rows), "states": states}


def node_state(row: dict | None, fenced: bool, waiting_on: list[str]) -> tuple[str, str]:
    """A node's state and what it means, in words: fenced (declared gone: `swarm node
    gone`), down (no answer), store-failing (its store refuses writes: nothing it holds
    is acknowledged or sent until it takes them again), waiting (a hop of it has not been
    acknowledged for the cluster's hop_timeout: the peers it waits for), or up."""
    if fenced:
        return "fenced", "declared gone (swarm node gone): the other nodes refuse it"
    if row is None:
        return "down", "no answer to status? within 5 s"
    if row.get("write_failing"):
        return "store-failing", f"its store refuses writes: {row['write_failing']}"
    if waiting_on:
        return "waiting", (f"waiting for {', '.join(waiting_on)} to acknowledge a hop "
                           f"(longer than the hop timeout)")
    return "up", ""


class Timeline:
    """The hops the nodes took, merged in time order across nodes and samples: each node
    is asked for the hops after the last one the dashboard has of it (`hops? {after}`)."""

    def __init__(self, kept: int = KEPT_HOPS) -> None:
        self.hops: deque[dict] = deque(maxlen=kept)
        self.marks: dict[str, tuple[float, int]] = {}  # node -> (epoch, last number taken)
        self.missed = 0  # hops the nodes no longer had when asked (asked too seldom)
        self.seen = 0  # hops taken in since the dashboard started

    def after(self, node: str) -> int:
        return self.marks.get(node, (0.0, 0))[1]

    def take(self, answer: dict) -> None:
        """A node's `hops` answer. An answer that overlaps one taken before (it was late,
        and asked again) brings nothing twice; a new epoch is a restarted node, whose
        numbers start again. Hops a node no longer had when asked - numbers skipped since
        the last one taken - are counted in `missed` (from the second answer of a node on:
        what it forgot before the dashboard started is not missed)."""
        node, epoch = answer.get("node", "?"), answer.get("epoch")
        known = self.marks.get(node)
        last = known[1] if known is not None and known[0] == epoch else 0
        new = [h for h in answer.get("hops", ()) if h.get("n", 0) > last]
        if known is not None and new and new[0]["n"] > last + 1:
            self.missed += new[0]["n"] - last - 1
        self.marks[node] = (epoch, new[-1]["n"] if new else last)
        if not new:
            return
        self.seen += len(new)
        merged = sorted([*self.hops, *new], key=lambda h: h.get("at") or 0.0)
        self.hops.clear()
        self.hops.extend(merged[-(self.hops.maxlen or len(merged)):])

    def recent(self, limit: int = MAX_HOPS) -> dict:
        hops = list(self.hops)[-limit:]
        return {"recent": hops, "seen": self.seen, "missed": self.missed}
