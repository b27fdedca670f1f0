"""What a client asks every node of its cluster, and how long it waits for the answers:
`status?` (swarm status), `programs?` (swarm ps), `cancel` (swarm cancel), `stats?` (swarm
place); and the requests sent again until every node has answered (a join, a fence's
phases: until_all_answer). `Cluster.status()`, `programs()`, `cancel()` and `stats()` call these.

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
RESEND_SECONDS = 1.0  # a node that did not answer a join or a fence is asked again after this


def live_nodes(cluster) -> list[str]:
    """The nodes of the cluster file not declared gone (their answers would not count)."""
    return [n for n in cluster.config.names if n not in cluster.config.fenced]


def ask(cluster, names: list[str], kind: str, payload: dict, answer: str, timeout: float, *,
        accept=None, decided=None) -> dict[str, dict]:
    """Send a question to these nodes and gather their answers - messages of kind `answer`
    (those `accept(payload)` takes), the last of each node: {node: payload} - until all
    have answered, or `timeout` seconds, or ANSWER_GRACE_SECONDS after `decided(answers)`
    holds (the answer that matters has come: the others are waited for only to name the
    nodes that do not answer). Asked again every RESEND_SECONDS, the nodes that have not
    answered (the questions are ones a node may be asked twice)."""
    for name in names:
        cluster.send(name, kind, payload)
    answers: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    again = time.monotonic() + RESEND_SECONDS
    while len(answers) < len(names) and time.monotonic() < deadline:
        if time.monotonic() >= again:  # (a node restarting meanwhile missed it: a cancel
            again += RESEND_SECONDS    # it had not written when it died, say)
            for name in names:
                if name not in answers:
                    cluster.send(name, kind, payload)
        msg = cluster.receive(0.1)
        if msg and msg[0] == answer and msg[1] in names and (accept is None or
                                                             accept(msg[2])):
            answers[msg[1]] = msg[2]
            if decided is not None and decided(answers):
                deadline = min(deadline, time.monotonic() + ANSWER_GRACE_SECONDS)
    return answers


def until_all_answer(cluster, names: list[str], kind: str, payload: dict, answer: str,
                     timeout: float, what: str, *, accept=None, refused=None,
                     every: float = RESEND_SECONDS) -> None:
    """Send a request to these nodes again every `every` seconds until each has answered (a
    message of kind `answer` that `accept(payload)` takes): `swarm node gone`'s phases,
    `swarm node add`'s join. ClusterTimeout naming the nodes that did not answer in
    `timeout` seconds (`what`: the request, as the message says it); `refused(node,
    payload)`: an answer that is a refusal raises what it returns."""
    answered: set[str] = set()
    deadline = time.monotonic() + timeout
    while answered != set(names):
        if time.monotonic() > deadline:
            missing = sorted(set(names) - answered)
            raise ClusterTimeout(f"nodes {missing} did not answer {what} in {timeout:g}s")
        for name in set(names) - answered:
            cluster.send(name, kind, payload)
        until = time.monotonic() + every
        while time.monotonic() < until and answered != set(names):
            msg = cluster.receive(0.1)
            if msg and msg[0] == answer and msg[1] in names and \
                    (accept is None or accept(msg[2])):
                error = refused(msg[1], msg[2]) if refused is not None else None
                if error is not None:
                    raise error
                answered.add(msg[1])


def status(cluster) -> list[dict]:
    """Every node's status row that came within STATUS_SECONDS, in cluster order."""
    names = live_nodes(cluster)
    rows = ask(cluster, names, "status?", {}, "status", STATUS_SECONDS)
    return [rows[n] for n in names if n in rows]


def programs(cluster, timeout: float) -> tuple[list[ProgramInfo], list[str]]:
    """What the live nodes hold now, one row per program (or task) and node, oldest first;
    and the nodes that did not answer within `timeout` seconds. ClusterTimeout if none
    did."""
    names = live_nodes(cluster)
    answers = ask(cluster, names, "programs?", {"programs": None}, "programs", timeout)
    rows = [ProgramInfo.of(node, row) for node, a in answers.items()
            for row in a.get("programs", ())
            if row.get("state") != "handed"]  # (no longer there)
    silent = [name for name in names if name not in answers]
    if not answers:
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
    answers = ask(cluster, names, "cancel", {"program": program}, "cancelled", timeout,
                  accept=lambda p: p.get("program") == program,
                  decided=lambda a: any(p.get("state") in ("cancelled", "finished")
                                        for p in a.values()))
    states = {node: p.get("state", "unknown") for node, p in answers.items()}
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
    names = live_nodes(cluster)
    rows = ask(cluster, names, "stats?", {}, "stats", STATS_SECONDS)
    if missing := [n for n in names if n not in rows]:
        raise ClusterTimeout(f"nodes {missing} sent no statistics")
    return [rows[n] for n in names]
