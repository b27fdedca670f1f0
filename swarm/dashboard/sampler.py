"""What the dashboard shows, gathered from the nodes: a thread that asks every node
`status?`, `programs?` and `hops?` each interval (one round, answered within 5 s or the node
is down) and `stats?`, the placer's reports, every few intervals, and publishes one
JSON-ready *snapshot* at a time.

A snapshot::

    {"cluster": PATH, "at": UNIX_TIME, "interval": SECONDS, "version": N,
     "nodes": [{"name", "endpoint", "state": "up" | "down" | "fenced" | "waiting" |
                "store-failing", "detail", "refs", "bytes", "running", "parked",
                "awaiting", "hops_in", "hops_out", "hops_in_per_s", "hops_out_per_s",
                "fetches", "fallbacks", "fallback_reasons": {why: n}, "refused",
                "refusals": {why: n}, "resent", "unacked", "write_failing",
                "waiting_on": [node]}],
     "history": {"t": [...], "nodes": {NAME: {"in": [...], "out": [...]}}},
     "graph": {"refs": [[id, home, size, traffic, planned_home]], "edges": [[a, b, weight]],
               "total_refs", "total_edges", "cut_now", "cut_plan", "moves", "bytes_moved",
               "at", "error"},
     "programs": {"rows": [{"id", "node", "state": "running" | "parked" | "sent" |
                            "waiting", "to", "route", "since", "client", "task"}],
                  "total", "states": {state: n}, "error"},
     "hops": {"recent": [{"n", "at", "program", "hop", "from", "to", "why", "bytes",
                          "us"}], "seen", "missed"}}

Counters are the nodes' own (since each started); rates are the difference between two
samples. inflight.py makes the programs' rows, the timeline and the nodes' states.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from swarm.client import Cluster, ClusterTimeout
from swarm.dashboard.inflight import Timeline, node_state, programs_in_flight
from swarm.node.config import ClusterConfig, ConfigError

COUNTERS = ("refs", "bytes", "running", "parked", "awaiting", "hops_in", "hops_out",
            "fetches", "fallbacks", "refused", "resent", "unacked", "write_failing")
ANSWER_SECONDS = 5.0  # a node that has not answered status? within this is down


class Sampler(threading.Thread):
    """Polls the cluster of `path` every `interval` seconds; `wait_newer` hands out
    snapshots. Owns its own client (ZeroMQ sockets belong to one thread)."""

    def __init__(self, path: str, interval: float = 1.0, graph_every: int = 3,
                 history: int = 120, max_refs: int = 600, max_edges: int = 1500) -> None:
        super().__init__(name="swarm-dashboard-sampler", daemon=True)
        self.path, self.interval, self.graph_every = path, interval, graph_every
        self.max_refs, self.max_edges = max_refs, max_edges
        self.config = ClusterConfig.load(path)
        self.times: deque[float] = deque(maxlen=history)
        self.rates = {n: (deque(maxlen=history), deque(maxlen=history))
                      for n in self.config.names}
        self.previous: dict[str, tuple[float, int, int]] = {}
        self.graph: dict = {"refs": [], "edges": [], "total_refs": 0, "total_edges": 0,
                            "cut_now": None, "cut_plan": None, "moves": 0, "bytes_moved": 0,
                            "at": None, "error": "not gathered yet"}
        self.timeline = Timeline()
        self.programs: dict = {"rows": [], "total": 0, "states": {}, "error": None}
        self.fenced: list[str] = list(self.config.fenced)
        self.snapshot: dict | None = None
        self.version = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()

    # ---- the thread -----------------------------------------------------------------------
    def run(self) -> None:
        cluster = Cluster(self.config)
        try:
            tick = 0
            while not self.stopping.is_set():
                started = time.monotonic()
                nodes = self.sample_nodes(cluster)
                if tick % self.graph_every == 0:
                    self.sample_graph(cluster, nodes)
                self.publish(nodes)
                tick += 1
                self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            cluster.close()

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()

    def wait_newer(self, version: int, timeout: float) -> dict | None:
        """The latest snapshot if it is newer than `version`, waiting up to `timeout`
        seconds for one; None if none came (or the sampler stopped)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version > version or self.stopping.is_set(),
                                  timeout)
            return self.snapshot if self.version > version else None

    # ---- one sample -----------------------------------------------------------------------
    def ask_nodes(self, cluster: Cluster) -> tuple[dict, dict]:
        """One round: status?, programs? and hops? to every node; their answers within
        ANSWER_SECONDS - {node: status row}, {node: programs rows}. Hops go to the
        timeline as they come (a late answer of an earlier round too)."""
        names = self.config.names
        for name in names:
            cluster.send(name, "status?", {})
            cluster.send(name, "programs?", {"programs": None})
            cluster.send(name, "hops?", {"after": self.timeline.after(name)})
        status: dict[str, dict] = {}
        programs: dict[str, list] = {}
        heard: set[str] = set()  # nodes whose hops answer came
        deadline = time.monotonic() + ANSWER_SECONDS
        while (len(status) < len(names) or len(programs) < len(names)
               or len(heard) < len(names)) and time.monotonic() < deadline:
            msg = cluster.receive(0.1)
            if msg is None:
                continue
            kind, sender, p = msg
            if kind == "status" and p.get("node") in self.rates:
                status[p["node"]] = p
            elif kind == "programs" and sender in self.rates:
                programs[sender] = list(p.get("programs", ()))
            elif kind == "hops" and sender in self.rates:
                heard.add(sender)
                self.timeline.take(p)
        return status, programs

    def sample_nodes(self, cluster: Cluster) -> list[dict]:
        """Every node's row: its status answer (down if it gave none within 5 s), its state
        (inflight.node_state) and its hop rates since the previous sample; and the
        programs in flight."""
        rows, answers = self.ask_nodes(cluster)
        try:
            loaded = ClusterConfig.load(self.path)  # (swarm node gone / add change it)
            self.fenced = loaded.fenced
            for name, spec in loaded.nodes.items():
                self.config.nodes.setdefault(name, spec)
        except ConfigError:
            pass  # being rewritten: the lists read last time
        self.programs = programs_in_flight(answers)
        self.programs["error"] = None if answers else "no node answered programs?"
        waiting_on: dict[str, list[str]] = {}
        for program in self.programs["rows"]:
            if program["state"] == "waiting" and program["to"] not in \
                    waiting_on.setdefault(program["node"], []):
                waiting_on[program["node"]].append(program["to"])
        now = time.time()
        self.times.append(now)
        nodes = []
        for name in self.config.names:
            row = rows.get(name)
            state, detail = node_state(row, name in self.fenced, waiting_on.get(name, []))
            node = {"name": name, "endpoint": self.config.nodes[name].endpoint,
                    "state": state, "detail": detail, "refusals": {}, "fallback_reasons": {},
                    "waiting_on": waiting_on.get(name, []),
                    "hops_in_per_s": None, "hops_out_per_s": None}
            if row:
                node.update({k: row.get(k) for k in COUNTERS})
                node["refusals"] = dict(row.get("refusals", {}))
                node["fallback_reasons"] = dict(row.get("fallback_reasons", {}))
                before = self.previous.get(name)
                if before and now > before[0] and row["hops_in"] >= before[1] \
                        and row["hops_out"] >= before[2]:  # else the node restarted
                    node["hops_in_per_s"] = (row["hops_in"] - before[1]) / (now - before[0])
                    node["hops_out_per_s"] = (row["hops_out"] - before[2]) / (now - before[0])
                self.previous[name] = (now, row["hops_in"], row["hops_out"])
            else:
                self.previous.pop(name, None)
            in_rates, out_rates = self.rates.setdefault(  # (a node that joined since)
                name, (deque(maxlen=self.times.maxlen), deque(maxlen=self.times.maxlen)))
            in_rates.append(node["hops_in_per_s"])
            out_rates.append(node["hops_out_per_s"])
            nodes.append(node)
        return nodes

    def sample_graph(self, cluster: Cluster, nodes: list[dict]) -> None:
        """The access graph as the placer sees it (cluster/graph.py), the placer's plan for
        it, and the part of it the page draws: the Refs with the most traffic and the
        heaviest edges. Kept as it was (with the reason) when it cannot be gathered."""
        from cluster.graph import access_graph
        from cluster.placer import plan

        if any(n["state"] in ("down", "fenced") for n in nodes):
            self.graph["error"] = ("a node is down or declared gone: the graph is the last "
                                   "one gathered")
            return
        try:
            g = access_graph(cluster.stats())
        except (ClusterTimeout, ValueError) as e:  # ValueError: a Ref was moving
            self.graph["error"] = f"not gathered this time: {e}"
            return
        try:
            planned = plan(g, self.config.names)
            target, cut_plan = planned.target, planned.cut_after
            moves, moved = len(planned.moves), planned.bytes_moved
            cut_now, error = planned.cut_before, None
        except Exception as e:  # the picture of the graph is still worth showing
            target, cut_plan, moves, moved = {}, None, 0, 0
            cut_now, error = None, f"the placer's plan failed: {type(e).__name__}: {e}"
        traffic = dict(g.degree(weight="weight"))
        edges = sorted(g.edges(data="weight"), key=lambda e: -e[2])[:self.max_edges]
        ranked = sorted(g, key=lambda r: (-traffic[r], -g.nodes[r]["size"], r))
        shown = set(ranked[:self.max_refs])
        edges = [(a, b, w) for a, b, w in edges if a in shown and b in shown]
        self.graph = {
            "refs": [[r, g.nodes[r]["home"], g.nodes[r]["size"], traffic[r],
                      target.get(r, g.nodes[r]["home"])] for r in ranked if r in shown],
            "edges": [[a, b, w] for a, b, w in edges],
            "total_refs": g.number_of_nodes(), "total_edges": g.number_of_edges(),
            "cut_now": cut_now, "cut_plan": cut_plan, "moves": moves, "bytes_moved": moved,
            "at": time.time(), "error": error}

    def publish(self, nodes: list[dict]) -> None:
        snapshot = {
            "cluster": self.path, "at": time.time(), "interval": self.interval,
            "nodes": nodes,
            "history": {"t": list(self.times), "nodes": {
                n: {"in": list(i), "out": list(o)} for n, (i, o) in self.rates.items()}},
            "graph": self.graph,
            "programs": self.programs,
            "hops": self.timeline.recent(),
        }
        with self.changed:
            self.version += 1
            snapshot["version"] = self.version
            self.snapshot = snapshot
            self.changed.notify_all()
