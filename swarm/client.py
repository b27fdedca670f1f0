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


RESUBMIT_SECONDS = 1.0  # a submission not confirmed in this time is sent again
COLLECT_SECONDS = 3.0  # silence after which the nodes are asked for what they kept ...
COLLECT_MAX_SECONDS = 60.0  # ... then twice as long each time nothing new came, up to this
SEARCH_SECONDS = 2.0  # after a fence: how often programs without an outcome are looked for


class ClusterTimeout(Exception):
    pass


class _Run:
    """What came back so far of one submitted program (and its tasks): output chunks are put
    in order by their sequence numbers, per program or task. `node` and `submission`: where
    and what was submitted (sent again until `confirmed`); None for another client's
    program, which is only collected."""

    def __init__(self, program: str, node: str | None = None,
                 submission: dict | None = None) -> None:
        self.program, self.node, self.submission = program, node, submission
        self.confirmed = submission is None
        # another client's program: the nodes are asked at once for what they kept of it
        now = time.monotonic()
        self.heard = now if submission is not None else now - COLLECT_SECONDS
        self.asked = self.heard
        self.patience = COLLECT_SECONDS
        self.pending: dict[str, dict[int, str]] = {}  # program or task -> chunks by seq
        self.next_seq: dict[str, int] = {program: 0}  # program or task -> next to print
        self.printed: list[str] = []
        self.echo, self.echoed = False, 0
        self.hops: list[dict] = []
        self.result: dict | None = None
        self.waiting: tuple[str, float] | None = None  # (node, since): see take()
        self.unseen = 0  # search rounds after a fence in which no live node knew it

    def take(self, kind: str, who: str, p: dict) -> None:
        self.heard, self.confirmed, self.patience = time.monotonic(), True, COLLECT_SECONDS
        chunks = self.pending.setdefault(who, {})
        if kind == "output":
            chunks[p["seq"]] = p["text"]
        elif kind == "waiting" and who == self.program:
            # Discussion: a hop its receiver has not acknowledged is never given up (the
            # receiver may be running it): the program waits, and says so once, until the
            # node answers or an operator declares it gone (`swarm node gone NODE`)
            if self.waiting is None and self.echo:
                when = time.strftime("%H:%M:%S", time.localtime(p["since"]))
                print(f"[swarm] {self.program} is waiting for {p['node']}: it has not "
                      f"acknowledged the program since {when} (if {p['node']} is gone for "
                      f"good: swarm node gone {p['node']})", file=sys.stderr, flush=True)
            self.waiting = (p["node"], p["since"])
        elif kind == "trace":
            self.hops.append(p)
        elif kind == "result" and who == self.program:
            self.result = p
        while self.next_seq.setdefault(who, 0) in chunks:  # print in program order
            self.printed.append(chunks.pop(self.next_seq[who]))
            self.next_seq[who] += 1
        self.flush_echo()

    def flush_echo(self) -> None:
        if self.echo and self.echoed < len(self.printed):
            sys.stdout.write("".join(self.printed[self.echoed:]))
            sys.stdout.flush()
            self.echoed = len(self.printed)

    @property
    def done(self) -> bool:
        return self.result is not None and self.next_seq[self.program] >= self.result["seq"]

    def outcome(self) -> RunOutcome:
        r = self.result
        value = r.get("value")
        if value is not None:
            try:
                value = decode.value(value)
            except Exception as e:  # (a class the client cannot import, say)
                value = f"<a value the client cannot unpickle: {type(e).__name__}: {e}>"
        return RunOutcome("".join(self.printed), value, r["error"], r["traceback"],
                          r["route"], sorted(self.hops, key=lambda h: h["at"]))


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
        self._runs: dict[str, _Run] = {}  # submitted programs whose outcome is not taken

    def close(self) -> None:
        self.ctx.destroy(linger=0)  # closes every socket made from it

    def send(self, node: str, kind: str, payload: dict) -> None:
        self.ids += 1
        self.socks[node].send_multipart(self.signer.pack(kind, decode.encode(payload)))

    def receive(self, timeout: float):
        """Next verified message (kind, sender, payload), or None after `timeout` seconds.
        Messages about submitted programs are kept for results(), not returned."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            for sock, _ in self.poller.poll(max(0, int(left * 1000))):
                msg = self._verify(sock.recv_multipart())
                if msg is not None and not self._runs_take(msg):
                    return msg
            if left <= 0:
                return None

    def _verify(self, frames: list[bytes]):
        try:
            env = unpack(self.config.secret, frames, self.config.max_message_bytes)
            if env.sender in self.config.fenced:  # declared gone: nothing of it counts
                return None
            return env.kind, env.sender, decode.payload(env)
        except WireError:
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
        """Ping every node until all answer (they may still be starting); nodes declared
        gone are not waited for."""
        pending = set(self.config.names) - set(self.config.fenced)
        deadline = time.monotonic() + timeout
        while pending:
            pending -= self.ping(pending)
            if pending and time.monotonic() > deadline:
                raise ClusterTimeout(f"nodes {sorted(pending)} did not answer in {timeout}s")

    def run_file(self, path: str, echo: bool = False, timeout: float = 600.0,
                 argv: list[str] | None = None, **options) -> RunOutcome:
        """Run the script on the cluster's first node; return what it printed, its RESULT
        global, and its error. Output comes in program order; the output of tasks it spawned
        is printed as it arrives (each task's in its own order), until the program ends.
        `echo`: write the output to stdout as it comes. `options`: as for submit()."""
        program = self.submit(path, argv, **options)
        return self.results([program], timeout, echo=echo)[program]

    def wait(self, program: str, timeout: float = 600.0, echo: bool = False) -> RunOutcome:
        """The outcome of one program, submitted by this client or by any other (one that
        is gone, say: `swarm result ID`)."""
        return self.results([program], timeout, echo=echo)[program]

    def submit(self, path: str, argv: list[str] | None = None, *, node: str | None = None,
               hop_checkpoints: bool = False, policy: str = "migrate",
               strict: bool = False, trace: bool = False, env: dict | None = None,
               packages: dict | None = None, source: str | None = None,
               session: list | None = None, record_access: bool = True,
               prepared: tuple | None = None) -> str:
        """Start the script on `node` (default: the first) and return its program id at once,
        without waiting for it: results() collects what it prints and returns. Many programs
        may be in flight at once (tests/test_load.py runs 1,500). The submission is sent
        again until the node confirms it has written it (`accepted`); confirm() waits for
        that, after which the program runs to its end whatever becomes of this client.

        `hop_checkpoints`: every checkpoint() moves the program on to the next node in
        cluster order (a test of migration across real processes). `trace`: the outcome
        lists every hop (program, from, to, why, bytes, microseconds).

        A Skywriting script (`.sw`) gets `env` (its `env` dict) and `packages` (key -> path
        of a file, read on the node by `package(key)`); a syntax error in it (or in a file it
        includes) raises SkywritingError here, before anything runs.

        `source`: the script's text (`path` then only names it); `session`: where a console
        session's variables are (console.py); `record_access=False`: its Ref accesses are
        not counted for the placer (the placer's own moves); `prepared`: what
        program_sources(path, source) returned, for a program submitted again and again (a
        web request: swarm/web.py)."""
        entry, sources, modules = prepared or program_sources(path, source)
        argv = list(argv or [])
        if path.endswith(".sw"):
            launch = {"env": dict(env or {}),
                      "packages": {k: os.path.abspath(v) for k, v in (packages or {}).items()}}
            if session:
                launch["session"] = session
            argv = [json.dumps(launch)] + argv
        program = f"{self.id}-{self.ids + 1}"
        node = node or self.config.names[0]
        if node not in self.socks:
            raise ValueError(f"unknown node {node!r}; the cluster has {self.config.names}")
        submission = {"program": program, "sources": sources, "entry": entry,
                      "modules": modules, "argv": [path] + argv,
                      "hop_checkpoints": hop_checkpoints, "policy": policy, "strict": strict,
                      "trace": trace, "record_access": record_access}
        self._runs[program] = _Run(program, node, submission)
        self.send(node, "submit", submission)
        return program

    def confirm(self, program: str, timeout: float = 30.0) -> None:
        """Wait until the node has written a submission of this client's (ClusterTimeout
        after `timeout` seconds)."""
        run = self._runs[program]
        deadline = time.monotonic() + timeout
        while not run.confirmed:
            if time.monotonic() > deadline:
                raise ClusterTimeout(f"{run.node} did not accept {program} in {timeout}s")
            self._absorb_incoming(0.2)
            self._chase([run])

    def _chase(self, runs: list[_Run]) -> None:
        """Send again a submission not confirmed for RESUBMIT_SECONDS, marked `again` (it may
        have run before its node crashed: the hops it makes are then looked for among those
        taken) and to the same node, the only one that can tell; ask every node for what it
        kept of a program not heard of for COLLECT_SECONDS (output or a result lost with a
        crash, or sent to a client that was gone), then twice as long each time, in one
        message per node for all such programs (parked programs are silent for long)."""
        now = time.monotonic()
        ask = []
        for run in runs:
            if not run.confirmed and now - run.asked > RESUBMIT_SECONDS:
                self.send(run.node, "submit", dict(run.submission, again=True))
                run.asked = now
            elif run.confirmed and now - max(run.heard, run.asked) > run.patience:
                ask.append(run.program)
                run.asked, run.patience = now, min(run.patience * 2, COLLECT_MAX_SECONDS)
        for i in range(0, len(ask), 1000):
            for name in self.config.names:
                self.send(name, "collect?", {"programs": ask[i:i + 1000]})

    def results(self, programs: list[str], timeout: float = 600.0,
                echo: bool = False) -> dict[str, RunOutcome]:
        """Wait for submitted programs to end: their outcomes by program id. Raises
        ClusterTimeout if one has not ended within `timeout` seconds (the others stay
        collectable). `echo`: write their output to stdout as it comes, each in order."""
        runs = [self._runs.setdefault(p, _Run(p)) for p in programs]
        for run in runs:
            run.echo = echo
            run.flush_echo()
        deadline = time.monotonic() + timeout
        waiting = [run for run in runs if not run.done]
        next_search = time.monotonic() + SEARCH_SECONDS
        while waiting:
            self._absorb_incoming(0.2)
            waiting = [run for run in waiting if not run.done]
            self._chase(waiting)
            if waiting and time.monotonic() >= next_search:
                self._search(waiting)
                next_search = time.monotonic() + SEARCH_SECONDS
            if waiting and time.monotonic() > deadline:
                raise ClusterTimeout(f"{len(waiting)} of {len(runs)} programs (first: "
                                     f"{waiting[0].program}) did not finish in {timeout}s")
        return {run.program: self._runs.pop(run.program).outcome() for run in runs}

    def _search(self, runs: list[_Run]) -> None:
        """After an operator declared a node gone (the cluster file's `fenced`): look for the
        programs without an outcome on every live node. A program that no live node holds,
        nor handed to a live node, in two rounds running, was lost with a node declared gone:
        its outcome is unknown (it may have run there, in part or to its end), and it ends
        with NodeGone. One whose result a node kept is collected from it."""
        self._reload_fences()
        fenced = set(self.config.fenced)
        if not fenced:
            return
        runs = [run for run in runs if now_silent(run)]
        if not runs:
            return
        answers = self.programs([run.program for run in runs], timeout=5.0)
        live = [n for n in self.config.names if n not in fenced]
        if any(n not in answers for n in live):
            return  # a live node did not answer: look again later
        for run in runs:
            seen = [a["programs"].get(run.program) for a in answers.values()]
            finished = [n for n, a in answers.items() if run.program in a["finished"]]
            if finished:
                run.confirmed = True
                self.send(finished[0], "collect?", {"programs": [run.program]})
            alive = finished or any(w is not None and (w[0] != "handed" or w[2] not in fenced)
                                    for w in seen)
            run.unseen = 0 if alive else run.unseen + 1
            if run.unseen >= 2:
                gone = ", ".join(sorted(fenced))
                run.result = {"program": run.program, "seq": run.next_seq[run.program],
                              "ok": False, "route": [], "value": None, "traceback": "",
                              "error": f"NodeGone: {run.program} was last on a node declared "
                                       f"gone ({gone}); its outcome is unknown (it may have "
                                       f"run there, in part or to its end)"}

    def _reload_fences(self) -> None:
        """The operator may have declared nodes gone since this client started."""
        try:
            self.config.fenced = ClusterConfig.load(self.config.path).fenced
        except Exception:  # (a temporary cluster file of a local cluster, being rewritten)
            pass

    def programs(self, programs: list[str] | None = None, timeout: float = 5.0) -> dict:
        """Where programs are, as each live node says: {node: {"programs": {id: [state,
        since, node]}, "finished": [id]}} (state: running, parked, sent, waiting, handed)."""
        live = [n for n in self.config.names if n not in self.config.fenced]
        for name in live:
            self.send(name, "programs?", {"programs": programs})
        answers: dict[str, dict] = {}
        deadline = time.monotonic() + timeout
        while len(answers) < len(live) and time.monotonic() < deadline:
            msg = self.receive(0.1)
            if msg and msg[0] == "programs":
                answers[msg[2]["node"]] = msg[2]
        return answers

    def fence(self, node: str, timeout: float = 60.0) -> None:
        """Declare `node` gone for good (`swarm node gone NODE`): every other node writes it
        and refuses the node from then on (phase 1); once all have, they give up the hops
        waiting for it (phase 2); then the cluster file says so, and clients looking for
        their programs find those it held lost (NodeGone). Raises ClusterTimeout if a live
        node does not confirm a phase - the fence is only safe once all have."""
        if node not in self.config.nodes:
            raise ValueError(f"unknown node {node!r}; the cluster has {self.config.names}")
        others = [n for n in self.config.names if n != node and n not in self.config.fenced]
        for phase in (1, 2):
            confirmed: set[str] = set()
            deadline = time.monotonic() + timeout
            while confirmed != set(others):
                if time.monotonic() > deadline:
                    missing = sorted(set(others) - confirmed)
                    raise ClusterTimeout(f"nodes {missing} did not confirm the fence of {node} "
                                         f"(phase {phase}) in {timeout:g}s; run it again")
                for name in set(others) - confirmed:
                    self.send(name, "fence", {"node": node, "phase": phase})
                until = time.monotonic() + 1.0
                while time.monotonic() < until and confirmed != set(others):
                    msg = self.receive(0.1)
                    if msg and msg[0] == "fenced" and msg[2]["node"] == node \
                            and msg[2]["phase"] == phase:
                        confirmed.add(msg[1])
        config = ClusterConfig.load(self.config.path)
        if node not in config.fenced:
            config.fenced.append(node)
            config.save(self.config.path)
        self.config.fenced = config.fenced

    def _absorb_incoming(self, timeout: float) -> None:
        """Take in every message waiting (polling up to `timeout` s for the first): output,
        results and trace of submitted programs go to their runs; the rest is dropped."""
        for sock, _ in self.poller.poll(int(timeout * 1000)):
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                msg = self._verify(frames)
                if msg is not None:
                    self._runs_take(msg)

    def _runs_take(self, msg) -> bool:
        """Give a message about a submitted program (or its task) to its run."""
        kind, _, p = msg
        if kind not in ("output", "result", "trace", "accepted", "waiting"):
            return False
        who = p.get("program", "")
        run = self._runs.get(who.split("/", 1)[0])
        if run is None:
            return False
        if kind == "accepted":
            run.confirmed, run.heard = True, time.monotonic()
        else:
            run.take(kind, who, p)
        return True

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


def now_silent(run: _Run) -> bool:
    """Not heard of for a while (a program that prints or hops now is plainly alive)."""
    return time.monotonic() - run.heard > SEARCH_SECONDS


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
                [sys.executable, "-m", "swarm.node.shell", "--config", config.path, "--name",
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
