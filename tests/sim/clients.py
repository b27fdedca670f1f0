"""The simulated cluster's outside actors (tests/sim/world.py): clients, which submit programs
and collect their outcomes as swarm/client.py does, and the operator of `swarm node gone`."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from swarm.fencing import trail_alive

if TYPE_CHECKING:
    from tests.sim.world import World

RESUBMIT = 1.0
COLLECT = 3.0


class Operator:
    """`swarm node gone NAME`: fence the node on every other node (phase 1), and once all
    have written it, let them fail what waits for it (phase 2); then the cluster file says
    so (what clients know)."""

    def __init__(self, world: World, node: str, at: float) -> None:
        self.world, self.node = world, node
        self.name = f"op-{node}"
        self.phase = 0
        self.confirmed: set[str] = set()
        world.operators[self.name] = self
        world.at(at, self._next_phase)

    def _next_phase(self) -> None:
        self.phase += 1
        self.confirmed = set()
        if self.phase == 3:
            self.world.fenced.add(self.node)
            self.world.note(f"{self.node} declared gone")
            for client in self.world.clients.values():
                client.fence_known()
            return
        self._ask()

    def _ask(self) -> None:
        w = self.world
        others = [n for n in w.names if n != self.node and n not in w.fenced]
        missing = [n for n in others if n not in self.confirmed]
        if not missing:
            return self._next_phase()
        for n in missing:
            w.send(self.name, n, "fence", {"node": self.node, "phase": self.phase})
        w.at(w.now + 1.0, self._retry, self.phase)

    def _retry(self, phase: int) -> None:
        if phase == self.phase:
            self._ask()

    def receive(self, src: str, kind: str, fields: dict) -> None:
        if kind == "fenced" and fields["phase"] == self.phase:
            self.confirmed.add(src)
            others = [n for n in self.world.names if n != self.node]
            if all(n in self.confirmed for n in others):
                self._next_phase()


class Run:
    def __init__(self, pid: str, node: str, submission: dict, now: float) -> None:
        self.pid, self.node, self.submission = pid, node, submission
        self.confirmed = False
        self.asked = self.heard = now
        self.patience = COLLECT
        self.reports: list[tuple] = []  # (ok, error), as told
        self.unseen = 0  # search rounds after a fence in which no live node knew it


class SimClient:
    """A client (swarm/client.py's protocol): submits, sends again until accepted, asks every
    node for what it kept after silence, and records every outcome it is told."""

    def __init__(self, world: World, name: str = "c1") -> None:
        self.world, self.name = world, name
        self.runs: dict[str, Run] = {}
        self.answers: dict[str, dict] = {}
        self.asked_nodes: list[str] = []
        self.searching = False
        self.cancel_decided: set[str] = set()
        world.clients[name] = self
        world.at(world.now + 0.5, self._chase)

    def submit(self, pid: str, node: str) -> None:
        submission = {"program": pid, "sources": {}, "entry": "e", "modules": {},
                      "argv": []}
        if self.world.quick and zlib.crc32(pid.encode()) % 2:  # (machine/quick.py)
            submission["quick"] = True
        self.runs[pid] = Run(pid, node, submission, self.world.now)
        self.world.send(self.name, node, "submit", submission)

    def cancel(self, pid: str) -> None:
        """`swarm cancel` (asknodes.cancel): every node is asked - the one holding it stops
        it, one it went through passes it on - again each second until a node answers that
        it held it (`cancelled`) or kept its result (`finished`), or its outcome comes; the
        client then waits for its outcome as for any (an answer to the cancel is not news
        of the program)."""
        run = self.runs.get(pid)
        if run is not None and run.reports or pid in self.cancel_decided:
            return
        w = self.world
        for n in w.names:
            if n not in w.fenced:
                w.send(self.name, n, "cancel", {"program": pid})
        w.at(w.now + 1.0, self.cancel, pid)

    def fence_known(self) -> None:
        """The cluster file now says a node is gone: look for the programs without an
        outcome, in rounds for as long as some are left (swarm/client.py does the same)."""
        if not self.searching:
            self.searching = True
            self.world.at(self.world.now, self._search)

    def _search(self) -> None:
        w = self.world
        # (a submission not confirmed by a live node is sent to it again: not lost)
        pending = [pid for pid, run in self.runs.items() if not run.reports
                   and (run.confirmed or run.node in w.fenced)]
        if not pending:
            if len(self.runs) < len(w.programs) or any(  # more to come
                    not run.reports for run in self.runs.values()):
                w.at(w.now + 1.0, self._search)
            else:
                self.searching = False
            return
        self.answers = {}
        self.asked_nodes = [n for n in w.names if n not in w.fenced]
        for n in self.asked_nodes:
            w.send(self.name, n, "programs?", {"programs": pending})
        w.at(w.now + 1.0, self._searched, pending)

    def _searched(self, pending: list) -> None:
        """A round of answers: a program no live node has, nor handed to a live node, in two
        rounds running, was lost with a node declared gone."""
        w = self.world
        if len(self.answers) < len(self.asked_nodes):  # some did not answer: ask again
            return self._search()
        for pid in pending:
            run = self.runs[pid]
            if run.reports:
                continue
            rows = [row for a in self.answers.values() for row in a["programs"]
                    if row["program"] == pid]
            finished = any(pid in a["finished"] for a in self.answers.values())
            alive = finished or trail_alive(rows, {n: [r for r in a["programs"]
                                                     if r["program"] == pid]
                                                 for n, a in self.answers.items()}, w.fenced,
                                            {n: a["booted"] for n, a in self.answers.items()})
            run.unseen = 0 if alive else run.unseen + 1
            if finished:  # its result is kept there: ask for it
                run.confirmed = True
                for node, a in self.answers.items():
                    if pid in a["finished"]:
                        w.send(self.name, node, "collect?", {"programs": [pid]})
            if run.unseen >= 2:
                gone = sorted(w.fenced)
                self._report(run, src="client", outcome=(
                    False, f"NodeGone: the program was last on a node declared gone "
                           f"({', '.join(gone)}); its outcome is unknown"))
        self._search()

    def _report(self, run: Run, src: str, outcome: tuple) -> None:
        """Outcomes are final: two definite ones (ok, or the program's own error) never
        differ, and none comes from a live node after the client gave a program up as lost
        (NodeGone: its outcome unknown, which a definite outcome the gone node gave before
        does not contradict)."""
        unknown = outcome[1] is not None and outcome[1].startswith("NodeGone")
        for earlier in run.reports:
            was_unknown = earlier[1] is not None and earlier[1].startswith("NodeGone")
            if not unknown and not was_unknown and earlier != outcome:
                self.world.violate(f"program {run.pid}: told {earlier}, then {outcome} "
                                   f"(by {src})")
            if was_unknown and not unknown and src not in self.world.fenced:
                self.world.violate(f"program {run.pid}: given up as lost ({earlier[1]}), then "
                                   f"{outcome} by {src}")
        run.reports.append(outcome)

    def receive(self, src: str, kind: str, fields: dict) -> None:
        if kind == "programs":
            self.answers[src] = fields
            return
        if kind == "cancelled":
            if fields["state"] in ("cancelled", "finished"):
                self.cancel_decided.add(fields["program"])
            return
        run = self.runs.get(fields.get("program", "").split("/")[0])
        if run is None:
            return
        run.heard, run.patience = self.world.now, COLLECT
        if kind == "accepted":
            run.confirmed = True
        elif kind == "result":
            run.confirmed = True
            self._report(run, src, (fields["ok"], fields.get("error")))

    def _chase(self) -> None:
        w = self.world
        ask = []
        for run in self.runs.values():
            if run.reports:
                continue
            if not run.confirmed and w.now - run.asked > RESUBMIT and \
                    w.route(run.node) not in w.fenced:  # (a removed node's heir: the file)
                w.send(self.name, w.route(run.node), "submit", dict(run.submission, again=True))
                run.asked = w.now
            elif run.confirmed and w.now - max(run.heard, run.asked) > run.patience:
                ask.append(run.pid)
                run.asked, run.patience = w.now, min(run.patience * 2, 20.0)
        if ask:
            for name in w.names:
                w.send(self.name, name, "collect?", {"programs": ask})
        if len(self.runs) < len(w.programs) or any(not r.reports for r in self.runs.values()):
            w.at(w.now + 0.5, self._chase)
