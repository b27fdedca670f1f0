"""Garbage collection of Refs across a cluster: the coordinator (`swarm gc`, Cluster.gc).
The nodes' part, and why it never takes a Ref a program can still reach, is
swarm/node/machine/gc.py; what a user gets is docs/gc.md.

    report = collect(cluster)                 # mark, flush, end, sweep
    report = collect(cluster, dry_run=True)   # the same, deleting nothing
    print(report.summary())

A cycle asks every live node (the cluster file's nodes, less those declared gone) to mark,
then to flush its links (each sends every other a `gc-flush` behind what it sent before),
asks each to end - a node ends once every other's flush has come, so every message sent
before the last mark has arrived - and sends each the Refs of its own that no root of any
node reaches and that no node saw go by meanwhile. A node that
does not answer, or restarted during the cycle, stops it: nothing is collected (run it
again), and the error says which node and which step.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from swarm import fencing
from swarm.wire.layout import human

ANSWER_SECONDS = 30.0  # how long a node has to answer one step
RESEND_SECONDS = 3.0  # a step not answered is sent again (the gate may refuse a late one)
SWEEP_BATCH = 20000  # ids per sweep message


class CollectionStopped(RuntimeError):
    """A cycle that could not finish; nothing (or, for a sweep, part) was collected."""


@dataclass
class Report:
    nodes: list
    refs: int = 0  # collectable Refs found (made by Ref(...), and futures' results)
    ref_bytes: int = 0
    reachable: int = 0
    garbage: dict = field(default_factory=dict)  # node -> {id: size}
    deleted: dict = field(default_factory=dict)  # node -> (count, bytes), after a sweep
    waited: float = 0.0  # seconds from the last mark to the last end (the flush)
    dry_run: bool = False

    @property
    def garbage_count(self) -> int:
        return sum(map(len, self.garbage.values()))

    @property
    def garbage_bytes(self) -> int:
        return sum(sum(g.values()) for g in self.garbage.values())

    def summary(self) -> str:
        lines = [f"{len(self.nodes)} nodes: {self.refs:,} Refs made by Ref(...) or spawn() "
                 f"({human(self.ref_bytes)}), {self.reachable:,} reachable, "
                 f"{self.garbage_count:,} unreachable ({human(self.garbage_bytes)})",
                 f"flushed the links between the nodes in {self.waited:.2f} s"]
        if self.dry_run:
            lines.append("dry run: nothing deleted. Would delete:")
            for node, ids in sorted(self.garbage.items()):
                shown = sorted(ids, key=_natural)[:10]
                more = f" and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
                lines.append(f"  {node}: {len(ids):,} ({human(sum(ids.values()))}): "
                             f"{', '.join(shown)}{more}")
        else:
            count = sum(c for c, _ in self.deleted.values())
            size = sum(b for _, b in self.deleted.values())
            per_node = ", ".join(f"{n} {c:,}" for n, (c, _) in sorted(self.deleted.items()))
            lines.append(f"deleted {count:,} Refs ({human(size)})"
                         + (f": {per_node}" if count else ""))
        return "\n".join(lines)


def collect(cluster, dry_run: bool = False, answer_seconds: float = ANSWER_SECONDS,
            say=None) -> Report:
    """One collection over the live nodes of `cluster` (a swarm.client.Cluster). `say(text)`:
    progress lines (the command prints them)."""
    fencing.reload_fences(cluster)  # (nodes joined or declared gone since it started)
    config = cluster.config
    live = [n for n in config.names if n not in config.fenced]
    cycle = secrets.token_hex(6)
    report = Report(live, dry_run=dry_run)
    marks = _step(cluster, live, cycle, "mark", {}, answer_seconds)
    if any(a.get("lost") for a in marks.values()):  # (cannot be: the cycle is new)
        raise CollectionStopped("a node took the mark as one of a cycle it ended: run it again")
    marked_at = time.monotonic()
    if say is not None:
        say(f"marked {len(live)} nodes; flushing the links between them")
    ends = _flush_and_end(cluster, live, cycle, answer_seconds)
    report.waited = time.monotonic() - marked_at
    lost = sorted(n for n, a in ends.items() if a.get("lost"))
    if lost:
        raise CollectionStopped(f"{', '.join(lost)} restarted (or dropped the cycle: a node "
                                f"joined meanwhile) between its mark and its end: nothing "
                                f"was collected; run it again")
    report.garbage, report.refs, report.ref_bytes, report.reachable = unreachable(marks, ends)
    if dry_run or not report.garbage:
        return report
    for node, ids in report.garbage.items():
        ordered = sorted(ids)
        batches = [ordered[i:i + SWEEP_BATCH] for i in range(0, len(ordered), SWEEP_BATCH)]
        count = size = 0
        for batch in batches:
            answer = _step(cluster, [node], cycle, "sweep", {"ids": batch},
                           answer_seconds)[node]
            if answer.get("lost"):
                raise CollectionStopped(
                    f"{node} restarted after its mark: its {len(ordered) - count:,} "
                    f"unreachable Refs were not deleted (the other nodes' were); run it again")
            count += answer.get("deleted", 0)
            size += answer.get("bytes", 0)
        report.deleted[node] = (count, size)
    return report


def _flush_and_end(cluster, live: list, cycle: str, answer_seconds: float) -> dict:
    """Every node sends the others a gc-flush; then each is asked to end, which it does once
    every other's flush has come (it names those still pending: they flush again - a flush
    can be lost with a broken connection). The end answers, or CollectionStopped."""
    deadline = time.monotonic() + answer_seconds
    flushing, ends = list(live), {}
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            missing = sorted(set(live) - set(ends))
            raise CollectionStopped(f"{', '.join(missing)} did not hear every other node's "
                                    f"flush within {answer_seconds:g} s (cut off?): nothing "
                                    f"was collected")
        flushed = _step(cluster, flushing, cycle, "flush", {"nodes": live}, left)
        if any(a.get("lost") for a in flushed.values()):
            ends.update({n: a for n, a in flushed.items() if a.get("lost")})
            return ends
        answers = _step(cluster, [n for n in live if n not in ends], cycle, "end",
                        {"nodes": live}, max(0.1, deadline - time.monotonic()))
        pending = set()
        for node, answer in answers.items():
            if answer.get("pending"):
                pending.update(answer["pending"])
            else:
                ends[node] = answer
        if len(ends) == len(live):
            return ends
        flushing = sorted(pending & set(live))
        time.sleep(0.05)


def unreachable(marks: dict, ends: dict) -> tuple[dict, int, int, int]:
    """From the nodes' mark and end answers: (node -> {id: size} of the Refs no root reaches
    and no node saw go by; how many Refs, their bytes, and how many are reachable)."""
    owner: dict[str, tuple[str, int]] = {}
    edges: dict[str, list] = {}
    roots: set = set()
    for node, answer in marks.items():
        for ref_id, size in answer.get("refs", {}).items():
            owner[ref_id] = (node, size)
        edges.update(answer.get("edges", {}))
        roots.update(answer.get("roots", ()))
    for answer in ends.values():
        roots.update(answer.get("touched", ()))
    reached, todo = set(roots), list(roots)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    garbage: dict[str, dict] = {}
    for ref_id, (node, size) in owner.items():
        if ref_id not in reached:
            garbage.setdefault(node, {})[ref_id] = size
    return (garbage, len(owner), sum(size for _, size in owner.values()),
            sum(1 for ref_id in owner if ref_id in reached))


def _step(cluster, nodes: list, cycle: str, phase: str, fields: dict,
          answer_seconds: float) -> dict[str, dict]:
    """Send one step to these nodes, and again every RESEND_SECONDS to those that have not
    answered (a step may come twice: gc.py); their answers, or CollectionStopped naming who
    did not answer."""
    answers: dict[str, dict] = {}
    start = time.monotonic()
    deadline, resend = start + answer_seconds, start
    while len(answers) < len(nodes):
        now = time.monotonic()
        if now >= deadline:
            missing = sorted(set(nodes) - set(answers))
            raise CollectionStopped(
                f"{', '.join(missing)} did not answer the {phase} within {answer_seconds:g} s: "
                + ("nothing was collected" if phase != "sweep"
                   else "its Refs were not all deleted"))
        if now >= resend:
            for node in nodes:
                if node not in answers:
                    cluster.send(node, "gc", {"cycle": cycle, "phase": phase, **fields})
            resend = now + RESEND_SECONDS
        msg = cluster.receive(max(0.0, min(resend, deadline) - now))
        if msg is None:
            continue
        kind, sender, payload = msg
        if kind == "gc-report" and payload.get("cycle") == cycle and \
                payload.get("phase") == phase and sender in nodes:
            answers[sender] = payload
    return answers


def _natural(ref_id: str):
    """n1.ab12cd34.9 before n1.ab12cd34.10."""
    head, _, n = ref_id.rpartition(".")
    return (head, int(n)) if n.isdigit() else (ref_id, 0)
