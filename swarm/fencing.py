"""Declaring a node gone for good, and what clients do after: a client's side of fencing
(`swarm node gone NODE`, `Cluster.fence`; docs/nodes.md "Outcomes are final").

Nodes fence in two phases (swarm/node/machine/state.py); the cluster file's `fenced` list
then says so, and a client looking for its programs without an outcome finds those a fenced
node held lost (NodeGone: their outcome is unknown).
"""

from __future__ import annotations

import time

from swarm import asknodes
from swarm.errors import ClusterTimeout
from swarm.node.config import ClusterConfig, ConfigError

SEARCH_SECONDS = 2.0  # after a fence: how often programs without an outcome are looked for


def search(cluster, runs: list) -> None:
    """After an operator declared a node gone (the cluster file's `fenced`): look for the
    programs without an outcome on every live node. A program that no live node holds,
    nor handed to a live node, in two rounds running, was lost with a node declared gone:
    its outcome is unknown (it may have run there, in part or to its end), and it ends
    with NodeGone. One whose result a node kept is collected from it."""
    reload_fences(cluster)
    fenced = set(cluster.config.fenced) - set(cluster.config.heirs)  # (a removed node's
    if not fenced:  # programs are its heir's: swarm/adoption.py)
        return
    # (a submission not confirmed by a live node is sent to it again until it is: not lost)
    runs = [run for run in runs if time.monotonic() - run.heard > SEARCH_SECONDS
            and (run.confirmed or run.node in fenced)]
    if not runs:
        return
    answers = where(cluster, [run.program for run in runs])
    live = asknodes.live_nodes(cluster)
    if any(n not in answers for n in live):
        return  # a live node did not answer: look again later
    for run in runs:
        rows = [row for a in answers.values() for row in a.get("programs", ())
                if row.get("program") == run.program]
        finished = [n for n, a in answers.items() if run.program in a.get("finished", ())]
        if finished:
            run.confirmed = True
            cluster.send(finished[0], "collect?", {"programs": [run.program]})
        by_node = {n: [row for row in a.get("programs", ()) if row.get("program") == run.program]
                   for n, a in answers.items()}
        booted = {n: a.get("booted", 0.0) for n, a in answers.items()}
        alive = bool(finished) or trail_alive(rows, by_node, fenced, booted)
        run.unseen = 0 if alive else run.unseen + 1
        if run.unseen >= 2:
            gone = ", ".join(sorted(fenced))
            run.result = {"program": run.program, "seq": run.next_seq[run.program],
                          "ok": False, "route": [], "value": None, "traceback": "",
                          "error": f"NodeGone: {run.program} was last on a node declared "
                                   f"gone ({gone}); its outcome is unknown (it may have "
                                   f"run there, in part or to its end)"}


def trail_alive(rows: list, by_node: dict, fenced: set, booted: dict) -> bool:
    """Is a program perhaps still alive, from what the live nodes say of it (`rows`;
    `by_node`: node -> its rows; `booted`: node -> when it started)? Yes if a node holds it
    (a row not `handed`), or handed it to a live node that says nothing of it and has run
    since (the hop's news not there yet, as the answers of one round are not one instant).
    No if every trail ends with a hand to a node declared gone (n2 handed it to n1, which
    handed it to the gone n3: n2's row alone would say it is alive), or to a node that
    restarted since: it forgot where it handed the program on (a node remembers that in
    memory only), and it holds it no more - it would say so (its inbox runs again). A
    hand to nobody (`to` empty) is such a node's: a hop it had taken came again after its
    restart (its sender never had the ack), and it could only say it took it before."""
    for row in rows:
        if row.get("state") != "handed":
            return True
        to = row.get("to")
        if to and to not in fenced and not by_node.get(to) and \
                booted.get(to, 0.0) <= row.get("at", 0.0):
            return True
    return False


def reload_fences(cluster) -> None:
    """The operator may have declared nodes gone since this client started, or added some
    (`swarm node add`: a program may end on one, which keeps its result for us)."""
    try:
        config = ClusterConfig.load(cluster.config.path)
    except (OSError, ConfigError):  # (a local cluster's file, being rewritten)
        return  # the fences read last time hold until the next look, 2 s later
    cluster.config.fenced, cluster.config.heirs = config.fenced, config.heirs
    for name, spec in config.nodes.items():
        cluster.config.nodes.setdefault(name, spec)
    cluster.config.ring = config.ring


def where(cluster, programs: list[str], timeout: float = 5.0) -> dict[str, dict]:
    """What each live node says of these programs: {node: its `programs` answer}."""
    return asknodes.ask(cluster, asknodes.live_nodes(cluster), "programs?",
                        {"programs": programs}, "programs", timeout)


def fence(cluster, node: str, timeout: float = 60.0) -> None:
    """Declare `node` gone for good (`swarm node gone NODE`): every other node writes it
    and refuses the node from then on (phase 1); once all have, they give up the hops
    waiting for it (phase 2); then the cluster file says so, and clients looking for
    their programs find those it held lost (NodeGone). Raises ClusterTimeout if a live
    node does not confirm a phase - the fence is only safe once all have."""
    if node not in cluster.config.nodes:
        raise ValueError(f"unknown node {node!r}; the cluster has {cluster.config.names}")
    on_file = ClusterConfig.load(cluster.config.path)
    if node in on_file.heirs:  # (its heir takes, or has, its store: swarm/adoption.py)
        raise ValueError(f"{node} was removed: {on_file.heirs[node]} has its store"
                         if node in on_file.fenced else
                         f"{node} is being removed, {on_file.heirs[node]} taking its store: "
                         f"`swarm node remove {node}` (again) finishes it")
    others = [n for n in cluster.config.names if n != node and n not in cluster.config.fenced]
    for phase in (1, 2):
        try:
            asknodes.until_all_answer(
                cluster, others, "fence", {"node": node, "phase": phase}, "fenced", timeout,
                f"the fence of {node} (phase {phase})",
                accept=lambda p, phase=phase: p["node"] == node and p["phase"] == phase)
        except ClusterTimeout as e:
            raise ClusterTimeout(f"{e}; run it again") from None
    config = ClusterConfig.load(cluster.config.path)
    if node not in config.fenced:
        config.fenced.append(node)
        config.save(cluster.config.path)
    cluster.config.fenced = config.fenced
