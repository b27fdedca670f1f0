"""Submitting programs to a cluster and collecting what they print and return.

    with swarm.local_cluster(3) as cluster:      # 3 node processes on loopback, temp dir
        outcome = cluster.run_file("examples/hello.py")
    cluster = swarm.connect("cluster.toml")      # a running cluster (swarm up / swarm-node)

Output comes back in program order wherever the program runs: every `output` message carries
the program's sequence number, and the client prints them in that order.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import zmq

from swarm.compiler.registry import source_hash
from swarm.node.config import ClusterConfig, local_config
from swarm.wire import curve, decode
from swarm.wire.envelope import Signer, WireError, unpack


@dataclass
class RunOutcome:
    stdout: str
    value: object
    error: str | None
    traceback: str = ""
    route: list[str] = field(default_factory=list)
    trace: list[dict] = field(default_factory=list)  # hops, with run_file(trace=True)


class ClusterTimeout(Exception):
    pass


def program_sources(path: str, text: str | None = None) -> tuple[str, dict, dict]:
    """The script and the modules beside it: (entry hash, sources by hash, modules by name).
    `text`: the script's source, if it is not (or not yet) the file at `path`."""
    path = os.path.abspath(path)
    sources, modules = {}, {}
    directory = os.path.dirname(path)
    for name in sorted(os.listdir(directory)):
        full = os.path.join(directory, name)
        if not name.endswith(".py") or full == path or not os.path.isfile(full):
            continue
        with open(full, encoding="utf-8") as f:
            module_text = f.read()
        digest = source_hash(module_text)
        sources[digest] = (name[:-3], full, module_text)
        modules[name[:-3]] = digest
    if path.endswith(".sw"):  # a Skywriting script travels with what it includes
        from swarm.skywriting import bundle

        text = bundle(path, text)
    elif text is None:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    entry = source_hash(text)
    sources[entry] = ("__main__", path, text)
    return entry, sources, modules


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.id = f"c{os.getpid()}-{secrets.token_hex(4)}"
        self.signer = Signer(config.secret, self.id)
        self.ctx = zmq.Context()
        self.socks: dict[str, zmq.Socket] = {}
        for name, spec in config.nodes.items():
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.IDENTITY, self.id.encode())
            s.setsockopt(zmq.LINGER, 0)
            if config.curve:  # talk to nobody but the holder of the node's secret key
                curve.make_client(s, config.client_public_key, config.client_secret_key,
                                  spec.public_key)
            s.connect(spec.endpoint)
            self.socks[name] = s
        self.poller = zmq.Poller()
        for s in self.socks.values():
            self.poller.register(s, zmq.POLLIN)
        self.ids = 0

    def close(self) -> None:
        self.ctx.destroy(linger=0)  # closes every socket made from it

    def send(self, node: str, kind: str, payload: dict) -> None:
        self.ids += 1
        self.socks[node].send_multipart(self.signer.pack(kind, pickle.dumps(payload,
                                                                            protocol=5)))

    def receive(self, timeout: float):
        """Next verified message (kind, sender, payload), or None after `timeout` seconds."""
        for sock, _ in self.poller.poll(int(timeout * 1000)):
            frames = sock.recv_multipart()
            try:
                env = unpack(self.config.secret, frames, self.config.max_message_bytes)
                return env.kind, env.sender, decode.payload(env)
            except WireError:
                continue
        return None

    def ping(self, names=None, timeout: float = 0.5) -> set[str]:
        """The nodes among `names` (default: all) that answer a hello within `timeout` s."""
        pending = set(names or self.config.names)
        for name in pending:
            self.send(name, "hello", {})
        answered = set()
        until = time.monotonic() + timeout
        while pending - answered and time.monotonic() < until:
            msg = self.receive(0.05)
            if msg and msg[0] == "pong":
                answered.add(msg[1])
        return answered & pending

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Ping every node until all answer (they may still be starting)."""
        pending = set(self.config.names)
        deadline = time.monotonic() + timeout
        while pending:
            pending -= self.ping(pending)
            if pending and time.monotonic() > deadline:
                raise ClusterTimeout(f"nodes {sorted(pending)} did not answer in {timeout}s")

    def run_file(self, path: str, echo: bool = False, timeout: float = 600.0,
                 argv: list[str] | None = None, hop_checkpoints: bool = False,
                 policy: str = "migrate", strict: bool = False,
                 trace: bool = False, env: dict | None = None,
                 packages: dict | None = None, source: str | None = None,
                 session: list | None = None, record_access: bool = True) -> RunOutcome:
        """Run the script on the cluster's first node; return what it printed, its RESULT
        global, and its error. `hop_checkpoints`: every checkpoint() moves the program on to
        the next node in cluster order (a test of migration across real processes).
        `trace`: the outcome lists every hop (program, from, to, why, bytes, microseconds).

        Output comes in program order; the output of tasks it spawned is printed as it
        arrives (each task's in its own order), until the program ends.

        A Skywriting script (`.sw`) gets `env` (its `env` dict) and `packages` (key -> path
        of a file, read on the node by `package(key)`); a syntax error in it (or in a file it
        includes) raises SkywritingError here, before anything runs.

        `source`: the script's text (`path` then only names it); `session`: where a console
        session's variables are (console.py); `record_access=False`: its Ref accesses are
        not counted for the placer (the placer's own moves)."""
        entry, sources, modules = program_sources(path, source)
        argv = list(argv or [])
        if path.endswith(".sw"):
            launch = {"env": dict(env or {}),
                      "packages": {k: os.path.abspath(v) for k, v in (packages or {}).items()}}
            if session:
                launch["session"] = session
            argv = [json.dumps(launch)] + argv
        program = f"{self.id}-{self.ids + 1}"
        first = self.config.names[0]
        self.send(first, "submit", {"program": program, "sources": sources, "entry": entry,
                                    "modules": modules, "argv": [path] + argv,
                                    "hop_checkpoints": hop_checkpoints,
                                    "policy": policy, "strict": strict, "trace": trace,
                                    "record_access": record_access})
        pending: dict[str, dict[int, str]] = {}  # program or task -> chunks by sequence no.
        next_seq: dict[str, int] = {program: 0}  # program or task -> next chunk to print
        printed: list[str] = []
        hops: list[dict] = []
        result = None
        deadline = time.monotonic() + timeout
        while True:
            msg = self.receive(0.2)
            if msg is None:
                if time.monotonic() > deadline:
                    raise ClusterTimeout(f"program {program} did not finish in {timeout}s")
                continue
            kind, _, p = msg
            who = p.get("program", "")
            if who != program and not who.startswith(program + "/"):
                continue
            chunks = pending.setdefault(who, {})
            if kind == "output":
                chunks[p["seq"]] = p["text"]
            elif kind == "trace":
                hops.append(p)
            elif kind == "result" and who == program:
                result = p
            while next_seq.setdefault(who, 0) in chunks:  # print in program order
                text = chunks.pop(next_seq[who])
                printed.append(text)
                if echo:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                next_seq[who] += 1
            if result is not None and next_seq[program] >= result["seq"]:
                break
        return RunOutcome("".join(printed), result.get("value"), result["error"],
                          result["traceback"], result["route"],
                          sorted(hops, key=lambda h: h["at"]))

    def status(self) -> list[dict]:
        for name in self.config.names:
            self.send(name, "status?", {})
        rows = {}
        deadline = time.monotonic() + 5
        while len(rows) < len(self.config.names) and time.monotonic() < deadline:
            msg = self.receive(0.2)
            if msg and msg[0] == "status":
                rows[msg[2]["node"]] = msg[2]
        return [rows[n] for n in self.config.names if n in rows]

    def stats(self) -> list[dict]:
        """Every node's report for the placer (swarm/node/access.py); raises ClusterTimeout
        if a node does not answer."""
        for name in self.config.names:
            self.send(name, "stats?", {})
        rows: dict[str, dict] = {}
        deadline = time.monotonic() + 10
        while len(rows) < len(self.config.names):
            if time.monotonic() > deadline:
                missing = sorted(set(self.config.names) - set(rows))
                raise ClusterTimeout(f"nodes {missing} sent no statistics")
            msg = self.receive(0.2)
            if msg and msg[0] == "stats":
                rows[msg[2]["node"]] = msg[2]
        return [rows[n] for n in self.config.names]

    def stop(self) -> None:
        for name in self.config.names:
            self.send(name, "stop", {})


def connect(path: str, timeout: float = 30.0) -> Cluster:
    """A client of the running cluster described by the file; waits until every node answers
    (ClusterTimeout after `timeout` seconds)."""
    cluster = Cluster(ClusterConfig.load(path))
    try:
        cluster.wait_ready(timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_nodes(config: ClusterConfig, names=None,
                detached: bool = False) -> dict[str, subprocess.Popen]:
    """Start node processes (default: all), each appending its output to <name>.log beside
    the cluster file. `detached`: in a session of their own, so they outlive the caller and
    its terminal (swarm up)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _root() + os.pathsep + env.get("PYTHONPATH", "")
    procs = {}
    for name in names or config.names:
        with open(os.path.join(os.path.dirname(config.path), f"{name}.log"), "ab") as log:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "swarm.node.server", "--config", config.path, "--name",
                 name], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=detached)
    return procs


class LocalCluster(Cluster):
    """n node processes on loopback in a directory of their own, stopped on exit.
    `curve`: with CURVE keys (every link encrypted and authenticated, as between machines)."""

    def __init__(self, n: int = 3, directory: str | None = None, curve: bool = False,
                 **settings) -> None:
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="swarm-")
        self.directory = directory or self._tmp.name
        os.makedirs(self.directory, exist_ok=True)
        config = local_config(n, self.directory, curve_keys=curve)
        for key, value in settings.items():  # max_message_bytes, hop_timeout, replay_window
            setattr(config, key, value)
        config.save(os.path.join(self.directory, "cluster.toml"))
        self.procs = start_nodes(config)
        super().__init__(config)
        try:
            self.wait_ready()
        except BaseException:
            self.shutdown()
            raise

    def kill(self, name: str) -> None:
        """SIGKILL one node (fault injection)."""
        self.procs[name].kill()
        self.procs[name].wait()

    def restart(self, name: str) -> None:
        self.procs.update(start_nodes(self.config, [name]))

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        for p in self.procs.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def local_cluster(n: int = 3, directory: str | None = None, curve: bool = False,
                  **settings) -> LocalCluster:
    return LocalCluster(n, directory, curve, **settings)
