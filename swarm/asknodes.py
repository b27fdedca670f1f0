"""What a client asks every node of its cluster, and how long it waits for the answers:
`status?` (swarm status), `programs?` (swarm ps), `cancel` (swarm cancel), `stats?` (swarm
place). `Cluster.status()`, `programs()`, `cancel()` and `stats()` call these.

Each question goes to every node not declared gone, and its answers are awaited within a
bound; the nodes that did not answer are named, so that one node that is down (or cut off)
never hides what the others say: `swarm ps` lists the programs of the live nodes, and
`swarm cancel ID` cancels a program on a live node, with another node down.
"""

from __future__ import annotations

import time

from swarm.errors import ClusterTimeout
from swarm.runs import ProgramInfo, UnknownProgram, check_program_id

STATUS_SECONDS = 5.0  # `swarm status`: a node silent this long is shown `down`
STATS_SECONDS = 10.0  # `swarm place` needs every node's statistics
ANSWER_GRACE_SECONDS = 1.0  # a cancel found: how long the other nodes still have to answer


def live_nodes(cluster) -> list[str]:
    """The nodes of the cluster file not declared gone (their answers would not count)."""
    return [n for n in cluster.config.names if n not in cluster.config.fenced]


def status(cluster) -> list[dict]:
    """Every node's status row that came within STATUS_SECONDS, in cluster order."""
    for name in cluster.config.names:
        cluster.send(name, "status?", {})
    rows = {}
    deadline = time.monotonic() + STATUS_SECONDS
    while len(rows) < len(cluster.config.names) and time.monotonic() < deadline:
        msg = cluster.receive(0.2)
        if msg and msg[0] == "status":
            rows[msg[2]["node"]] = msg[2]
    return [rows[n] for n in cluster.config.names if n in rows]


def programs(cluster, timeout: float) -> tuple[list[ProgramInfo], list[str]]:
    """What the live nodes hold now, one row per program (or task) and node, oldest first;
    and the nodes that did not answer within `timeout` seconds. ClusterTimeout if none
    did."""
    names = live_nodes(cluster)
    for name in names:
        cluster.send(name, "programs?", {"programs": None})
    rows: list[ProgramInfo] = []
    answered: set[str] = set()
    deadline = time.monotonic() + timeout
    while answered != set(names) and time.monotonic() < deadline:
        msg = cluster.receive(0.1)
        if msg and msg[0] == "programs" and msg[1] not in answered:
            answered.add(msg[1])
            rows.extend(ProgramInfo.of(msg[1], row) for row in msg[2].get("programs", ())
                        if row.get("state") != "handed")  # (no longer here)
    silent = [name for name in names if name not in answered]
    if not answered:
        raise ClusterTimeout(f"no node answered within {timeout:g} s (nodes "
                             f"{', '.join(silent)})")
    return sorted(rows, key=lambda r: (r.since, r.program)), silent


def cancel(cluster, program: str, timeout: float) -> tuple[str, list[str]]:
    """Cluster.cancel (its docstring says what a cancel does), and the live nodes that did
    not answer: ("cancelled" | "forwarded" | "finished", silent nodes).

    Discussion: the answer of the node that held the program decides, and comes at once;
    the others have ANSWER_GRACE_SECONDS more to answer (more only delays the command
    when a node is down), and those that did not are named - a node that was down keeps
    no cancel, which matters only if the program reaches it later, as a hop of it sent
    there before."""
    check_program_id(program)
    names = live_nodes(cluster)
    for name in names:
        cluster.send(name, "cancel", {"program": program})
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(states) < len(names) and time.monotonic() < deadline:
        msg = cluster.receive(0.1)
        if msg and msg[0] == "cancelled" and msg[2].get("program") == program:
            states[msg[1]] = msg[2].get("state", "unknown")
            if states[msg[1]] in ("cancelled", "finished"):
                deadline = min(deadline, time.monotonic() + ANSWER_GRACE_SECONDS)
    silent = [name for name in names if name not in states]
    for state in ("cancelled", "finished", "forwarded"):
        if state in states.values():
            return state, silent
    if not states:
        raise ClusterTimeout(f"no node answered `cancel` within {timeout:g} s (nodes "
                             f"{', '.join(names)})")
    if not silent:
        raise UnknownProgram(f"no node of the cluster knows program {program}")
    raise ClusterTimeout(f"{program} was not found on {', '.join(sorted(states))}; "
                         f"{', '.join(silent)} did not answer within {timeout:g} s (it "
                         f"stays cancelled on the others)")


def stats(cluster) -> list[dict]:
    """Every node's report for the placer (swarm/node/access.py); ClusterTimeout if a node
    does not answer within STATS_SECONDS."""
    for name in cluster.config.names:
        cluster.send(name, "stats?", {})
    rows: dict[str, dict] = {}
    deadline = time.monotonic() + STATS_SECONDS
    while len(rows) < len(cluster.config.names):
        if time.monotonic() > deadline:
            missing = sorted(set(cluster.config.names) - set(rows))
            raise ClusterTimeout(f"nodes {missing} sent no statistics")
        msg = cluster.receive(0.2)
        if msg and msg[0] == "stats":
            rows[msg[2]["node"]] = msg[2]
    return [rows[n] for n in cluster.config.names]
