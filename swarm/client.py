"""Submitting programs to a cluster and collecting what they print and return.

    with swarm.local_cluster(3) as cluster:      # 3 node processes on loopback, temp dir
        outcome = cluster.run_file("examples/hello.py")
    cluster = swarm.connect("cluster.toml")      # a running cluster (swarm up / swarm-node)

Output comes back in program order wherever the program runs (swarm/runs.py). What a
program ships - its script and the modules it imports - is found by swarm/program_files.py;
a function call as a program is swarm/calls.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time

import zmq

from swarm import asknodes, fencing
from swarm.clientio import KeptSources, StdinForwarder
from swarm.errors import ClusterTimeout
from swarm.node.config import ClusterConfig
from swarm.program_files import program_sources
from swarm.runs import (
    COLLECT_MAX_SECONDS,
    RESUBMIT_SECONDS,
    ProgramInfo,
    Run,
    RunOutcome,
    UnknownProgram,
    check_program_id,
)
from swarm.wire import curve, decode
from swarm.wire.envelope import Signer, WireError, unpack
from swarm.wire.liveness import keep_alive

SEND_SECONDS = 2.0  # a message for a node whose queue is full waits this long, then is dropped


class Cluster:
    """A client of a cluster: submits programs and calls, collects what they print and
    return, and asks the nodes (status, programs, cancel). `swarm.connect(path)` makes one
    for a running cluster, `swarm.local_cluster(n)` one with nodes of its own. A context
    manager: leaving the block disconnects (`close`); only `shutdown()` stops the nodes.
    One thread at a time (ZeroMQ sockets are not thread-safe): a client per thread."""

    def __init__(self, config: ClusterConfig, context: zmq.Context | None = None) -> None:
        self.config = config
        self.id = f"c{os.getpid()}-{secrets.token_hex(4)}"
        self.signer = Signer(config.secret, self.id)
        # `context`: a ZeroMQ context shared with other clients of this process (a context
        # is thread-safe, and each has an I/O thread and a reaper thread: swarm/web.py's
        # workers share one); close() then closes this client's sockets only
        self.own_context = context is None
        self.ctx = zmq.Context() if context is None else context
        self.socks: dict[str, zmq.Socket] = {}
        self.poller = zmq.Poller()
        for name in config.nodes:
            self._connect(name)
        self.ids = 0
        self.stalled: set[str] = set()  # nodes whose queue was full at the last send
        self.kept = KeptSources()  # what each node keeps of the sources sent (clientio.py)
        self._runs: dict[str, Run] = {}  # submitted programs whose outcome is not taken
        self.stdin: StdinForwarder | None = None  # answers programs' `input?` (clientio.py)

    def _connect(self, name: str) -> zmq.Socket:
        """A DEALER to the node (a node that joined since this client started, too)."""
        spec, config = self.config.nodes[name], self.config
        s = keep_alive(self.ctx.socket(zmq.DEALER))  # (wire/liveness.py)
        s.setsockopt(zmq.IDENTITY, self.id.encode())
        s.setsockopt(zmq.LINGER, 0)
        if config.curve:  # talk to nobody but the holder of the node's secret key
            curve.make_client(s, config.client_public_key, config.client_secret_key,
                              spec.public_key)
        s.connect(spec.endpoint)
        self.socks[name] = s
        self.poller.register(s, zmq.POLLIN)
        return s

    def close(self) -> None:
        """Disconnect. The nodes, and the programs submitted, go on (a program's outcome
        can be collected later by any client: `wait(id)`, `swarm result ID`)."""
        if self.own_context:
            self.ctx.destroy(linger=0)  # closes every socket made from it
        else:
            for s in self.socks.values():
                s.close(linger=0)

    def shutdown(self) -> None:
        """Stop every node of the cluster (for everyone: its programs stop with them; the
        stores are kept), then disconnect."""
        with contextlib.suppress(Exception):
            self._stop_nodes()
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, node: str, kind: str, payload: dict) -> bool:
        """Queue a message for a node, without blocking for more than SEND_SECONDS: False if
        it was dropped because the node takes nothing (down, cut off, stopped).

        Discussion: ZeroMQ holds up to 1,000 messages for a node it cannot reach, then a
        send blocks until the node takes them - for ever if it never comes back (a
        submission was found stuck so). Here a message that finds no room waits at most
        SEND_SECONDS, and not at all while that node stays stalled, then it is dropped: a
        question (status?, programs?, cancel) goes unanswered, and its caller names the
        node when its time is up; a submission stays with its Run, sent again until the
        node accepts it (_chase)."""
        self.ids += 1
        node = self.config.route(node)  # (a removed node: its heir answers for it)
        frames = self.signer.pack(kind, decode.encode(payload))
        size = sum(map(len, frames))
        if size > self.config.max_message_bytes:  # a node would drop it unread
            raise ValueError(f"a {kind} of {size} bytes is over the cluster's "
                             f"max_message_bytes ({self.config.max_message_bytes})")
        sock = self.socks.get(node) or self._connect(node)
        try:
            sock.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            if node in self.stalled or not sock.poll(int(SEND_SECONDS * 1000), zmq.POLLOUT):
                self.stalled.add(node)
                return False
            sock.send_multipart(frames, zmq.NOBLOCK)
        self.stalled.discard(node)
        return True

    def receive(self, timeout: float):
        """Next verified message (kind, sender, payload), or None after `timeout` seconds.
        Messages about submitted programs are kept for results(), not returned."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            for sock, _ in self.poller.poll(max(0, int(left * 1000))):
                if not isinstance(sock, zmq.Socket):  # stdin has text for a program
                    self._stdin_readable()
                    continue
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

    def run_file(self, path: str, argv: list[str] | None = None, *, echo: bool = False,
                 timeout: float | None = None, **options) -> RunOutcome:
        """Run the script on the cluster (its first node, or `node=`) and wait for its end;
        return what it printed, its RESULT global, and its error. Output comes in program
        order; the output of tasks it spawned is printed as it arrives (each task's in its
        own order), until the program ends. `echo`: write the output to stdout as it comes.
        `timeout`: ClusterTimeout after that many seconds (default: wait as long as it
        runs). Interrupted (Ctrl-C, KeyboardInterrupt), it asks the cluster to cancel the
        program. Other options: as for submit(), which takes the same arguments."""
        program = self.submit(path, argv, **options)
        return self._wait_own(program, timeout, echo)[program]

    def _wait_own(self, program: str, timeout: float | None, echo: bool = False) -> dict:
        """results() of a program submitted here, cancelling it if the wait is interrupted."""
        try:
            return self.results([program], timeout, echo=echo)
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                self.cancel(program, timeout=1.0)
            raise

    def run(self, fn, /, *args, **kwargs):
        """Call fn(*args, **kwargs) on the cluster, as a program of its own, and return its
        value, or raise the exception it raised (its traceback on the cluster added as a
        note). `fn`: a function (or class, or static/class method) of a module - yours,
        shipped with the modules it imports, or an installed one - or of `__main__` (a
        script, a notebook cell, a REPL that keeps sources): see swarm/calls.py. Its print
        output comes to stdout as it runs. Waits as long as it runs; Ctrl-C cancels it."""
        return self.result(self.submit_call(fn, *args, **kwargs), echo=True)

    def submit_call(self, fn, /, *args, **kwargs) -> str:
        """Start fn(*args, **kwargs) on the cluster (as run() does) and return its program
        id at once; result(id) waits for its value."""
        from swarm.calls import call_program

        call = call_program(fn, args, kwargs)
        prepared = program_sources(call.path, call.text, call.roots)
        return self.submit(call.path, call.argv, prepared=prepared)

    def result(self, program: str, timeout: float | None = None, echo: bool = False):
        """The value of a call started by submit_call(), or its exception raised here."""
        from swarm.calls import returned

        return returned(self._wait_own(program, timeout, echo)[program])

    def wait(self, program: str, timeout: float | None = None,
             echo: bool = False) -> RunOutcome:
        """The outcome of one program, submitted by this client or by any other (one that
        is gone, say: `swarm result ID`). UnknownProgram at once for an id that cannot be
        one, and as soon as every node says it knows nothing of it (nodes that answer
        `unknown`)."""
        if program not in self._runs:
            check_program_id(program)
        return self.results([program], timeout, echo=echo)[program]

    def done(self, program: str) -> bool:
        """Whether a program submitted here has ended (its outcome is here: results() or
        wait() returns at once); takes in what arrived meanwhile, without waiting."""
        run = self._runs.get(program)
        if run is None:
            raise UnknownProgram(f"{program} was not submitted by this client, or its "
                                 f"outcome was taken already")
        self._absorb_incoming(0)
        self._chase([run])
        return run.done

    def submit(self, path: str, argv: list[str] | None = None, *, node: str | None = None,
               hop_checkpoints: bool = False, policy: str = "migrate",
               strict: bool = False, trace: bool = False, env: dict | None = None,
               packages: dict | None = None, source: str | None = None,
               session: list | None = None, record_access: bool = True,
               prepared: tuple | None = None, stdin: bool | str = False,
               quick: bool = False) -> str:
        """Start the script on `node` (default: the first) and return its program id at once,
        without waiting for it: results() collects what it prints and returns. Many programs
        may be in flight at once (tests/test_load.py runs 1,500). The submission is sent
        again until the node confirms it has written it (`accepted`); confirm() waits for
        that, after which the program runs to its end whatever becomes of this client. A
        node that is down (or unreachable) does not block this: the submission is kept and
        sent again while this client waits for the program (results, wait, run_file,
        confirm), and starts when the node comes back; with echo, the wait says so on
        stderr after NOT_ACCEPTED_SECONDS, and a timeout's ClusterTimeout says it was not
        accepted.

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
        web request: swarm/web.py).

        `stdin=True`: the program's `input()` and `sys.stdin` read this process's stdin, as
        it asks (this client must be waiting for it: run_file, results, wait); otherwise
        they read end-of-file, and the program is told so once on its stderr
        (`stdin="detached"`: the note says it was started with --detach).

        `quick=True`: the node writes the submission only once the program does something
        that must be kept (a Ref write, a hop, output); one that only reads and ends there
        answers without any write, and is not confirmed (`accepted`) before its result:
        a web request (swarm/node/machine/quick.py)."""
        prepared = prepared or program_sources(path, source)
        entry, sources, modules = prepared
        files = getattr(prepared, "files", None) or {
            name: sources[digest][1] for name, digest in modules.items()}
        if stdin is True and self.stdin is None:
            self.stdin = StdinForwarder()
        argv = list(argv or [])
        if path.endswith(".sw"):
            launch = {"env": dict(env or {}),
                      "packages": {k: os.path.abspath(v) for k, v in (packages or {}).items()}}
            if session:
                launch["session"] = session
            argv = [json.dumps(launch)] + argv
        program = f"{self.id}-{self.ids + 1}"
        live = asknodes.live_nodes(self)
        node = self.config.route(node or (live or self.config.names)[0])  # (removed: heir)
        if node not in self.socks:
            raise ValueError(f"unknown node {node!r}; the cluster has {self.config.names}")
        if node not in live:
            raise ValueError(f"node {node} is declared gone (swarm node gone): it takes no "
                             f"program; the others are {', '.join(live)}")
        # `cwd`: the program's relative paths resolve against it on every node;
        # `submitted`: `swarm ps`'s age
        submission = {"program": program, "sources": sources, "entry": entry,
                      "modules": modules, "argv": [path] + argv,
                      "hop_checkpoints": hop_checkpoints, "policy": policy, "strict": strict,
                      "trace": trace, "record_access": record_access, "cwd": os.getcwd(),
                      "submitted": time.time(),
                      "stdin": "forward" if stdin is True else stdin or "none",
                      "files": files}
        if quick:
            submission["quick"] = True
        self._runs[program] = run = Run(program, node, submission)
        self._send_submission(run)
        return program

    def _send_submission(self, run: Run, again: bool = False) -> None:
        """Send a submission to its node, the sources it keeps as hashes (clientio.py);
        `again`: a copy sent again (_chase, _sources_wanted)."""
        submission = self.kept.submission_for(run.node, run.submission)
        self.send(run.node, "submit", dict(submission, again=True) if again else submission)

    def _sources_wanted(self, node: str, p: dict) -> None:
        """A node lacks sources that a submission named as kept (`sources?`): it did not take
        the submission, which goes again with their text."""
        run = self._runs.get(p["program"])
        if (run is not None and run.submission is not None and not run.confirmed
                and run.node == node and self.kept.forget(node, p["hashes"])):
            self._send_submission(run, again=True)

    def confirm(self, program: str, timeout: float = 30.0) -> None:
        """Wait until the node has written a submission of this client's (ClusterTimeout
        after `timeout` seconds)."""
        run = self._runs[program]
        deadline = time.monotonic() + timeout
        while not run.confirmed:
            if time.monotonic() > deadline:
                raise ClusterTimeout(run.unaccepted(timeout))
            self._absorb_incoming(0.2)
            self._chase([run])

    def _chase(self, runs: list[Run]) -> None:
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
                self._send_submission(run, again=True)
                run.asked = now
            elif run.confirmed and now - max(run.heard, run.asked) > run.patience:
                ask.append(run.program)
                run.asked, run.patience = now, min(run.patience * 2, COLLECT_MAX_SECONDS)
        for i in range(0, len(ask), 1000):
            for name in self.config.names:
                self.send(name, "collect?", {"programs": ask[i:i + 1000]})

    def results(self, programs: list[str], timeout: float | None = None,
                echo: bool = False) -> dict[str, RunOutcome]:
        """Wait for submitted programs to end: their outcomes by program id. Raises
        ClusterTimeout if one has not ended within `timeout` seconds (default: no limit;
        the others stay collectable), UnknownProgram for one every node says it does not
        know. `echo`: write their output to stdout as it comes, each in order."""
        runs = [self._runs.setdefault(p, Run(p)) for p in programs]
        for run in runs:
            run.echo = echo
            run.flush_echo()
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting = [run for run in runs if not run.done]
        next_search = time.monotonic() + fencing.SEARCH_SECONDS
        while waiting:
            self._absorb_incoming(0.2)
            search = time.monotonic() >= next_search
            waiting, unknown = self._tend(waiting, search)
            if unknown:
                raise UnknownProgram(f"no node of the cluster knows program "
                                     f"{unknown[0].program} (not submitted to it, or its "
                                     f"outcome is no longer kept)")
            if search:
                next_search = time.monotonic() + fencing.SEARCH_SECONDS
            if waiting and deadline is not None and time.monotonic() > deadline:
                unaccepted = [run for run in waiting if not run.confirmed]
                raise ClusterTimeout(
                    unaccepted[0].unaccepted(timeout) if unaccepted else
                    f"{len(waiting)} of {len(runs)} programs (first: {waiting[0].program}) "
                    f"did not finish in {timeout:g} s")
        return {run.program: self._runs.pop(run.program).outcome() for run in runs}

    def _tend(self, runs: list[Run], search: bool = False) -> tuple[list[Run], list[Run]]:
        """One turn of waiting for these runs, without blocking (what came is taken in
        already): those not done, and those every live node says it does not know (given
        up: popped). Submissions not confirmed are sent again (_chase); `search`: after a
        fence, programs without an outcome are looked for (fencing.search)."""
        live = set(asknodes.live_nodes(self))
        unknown = [run for run in runs if run.unknown_to >= live]
        for run in unknown:
            self._runs.pop(run.program, None)
        waiting = [run for run in runs if not run.done and run not in unknown]
        self._chase(waiting)
        for run in waiting:
            run.say_unaccepted()
        if waiting and search:
            self._search(waiting)
        return waiting, unknown

    def tend(self, programs: list[str], search: bool = False) -> tuple[list[str], list[str]]:
        """For a caller that waits for many programs itself, without blocking (swarm/
        webloop.py): take in what has come, send again what is not confirmed, and return
        (the programs that ended - outcome() gives each -, those no node knows: given
        up). Programs not submitted by this client are skipped."""
        self._absorb_incoming(0)
        runs = [run for p in programs if (run := self._runs.get(p)) is not None]
        waiting, unknown = self._tend(runs, search)
        left = {run.program for run in waiting}
        return ([run.program for run in runs if run.program not in left and run not in unknown],
                [run.program for run in unknown])

    def drain(self, sock: zmq.Socket) -> None:
        """Take in every message waiting on one of this client's sockets (one that a poll
        outside this client found readable: swarm/webloop.py)."""
        self._drain(sock)

    def outcome(self, program: str) -> RunOutcome | None:
        """The outcome of a program submitted here if it has ended (then forgotten here),
        else None."""
        run = self._runs.get(program)
        if run is None or not run.done:
            return None
        return self._runs.pop(program).outcome()

    def forget(self, program: str) -> None:
        """Stop waiting for a program submitted here (its outcome, if it comes, is
        dropped): a caller that gave it up (a web request answered 504)."""
        self._runs.pop(program, None)

    def _search(self, runs: list[Run]) -> None:
        fencing.search(self, runs)

    def fence(self, node: str, timeout: float = 60.0) -> None:
        """Declare `node` gone for good (`swarm node gone NODE`): every other node writes it
        and refuses the node from then on (phase 1); once all have, they give up the hops
        waiting for it (phase 2); then the cluster file says so, and clients looking for
        their programs find those it held lost (NodeGone). Raises ClusterTimeout if a live
        node does not confirm a phase - the fence is only safe once all have."""
        fencing.fence(self, node, timeout)

    def gc(self, dry_run: bool = False):
        """Delete the Refs that nothing can reach any more (`swarm gc`): a Report of what
        was found and deleted (docs/gc.md; swarm/garbage.py). Takes a few round trips
        between the nodes. CollectionStopped if a node does not answer or restarts
        meanwhile (nothing is collected then)."""
        from swarm.garbage import collect

        return collect(self, dry_run=dry_run)

    def _absorb_incoming(self, timeout: float) -> None:
        """Take in every message waiting (polling up to `timeout` s for the first): output,
        results and trace of submitted programs go to their runs; the rest is dropped."""
        for sock, _ in self.poller.poll(int(timeout * 1000)):
            if not isinstance(sock, zmq.Socket):  # stdin has text for a program
                self._stdin_readable()
                continue
            self._drain(sock)

    def _drain(self, sock: zmq.Socket) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            msg = self._verify(frames)
            if msg is not None:
                self._runs_take(msg)

    def _stdin_readable(self) -> None:
        self.stdin.readable(self.send)
        if not self.stdin.waiting():
            self.poller.unregister(self.stdin.fd)

    def _input_wanted(self, node: str, p: dict) -> None:
        """A program reads stdin (`input?`): answered from this client's stdin if it forwards
        it, else end-of-file."""
        if self.stdin is None:
            self.send(node, "input", {"program": p["program"], "n": p["n"], "text": "",
                                      "eof": True})
            return
        was_waiting = self.stdin.waiting()
        self.stdin.wanted(node, p["program"], p["n"], self.send)
        if self.stdin.waiting() and not was_waiting:
            self.poller.register(self.stdin.fd, zmq.POLLIN)

    def _runs_take(self, msg) -> bool:
        """Give a message about a submitted program (or its task) to its run."""
        kind, sender, p = msg
        if kind == "input?":
            self._input_wanted(sender, p)
            return True
        if kind == "unknown":  # phase 2 of issue 16: a node knows nothing of these
            for program in p.get("programs", ()):
                if (run := self._runs.get(program)) is not None and run.submission is None:
                    run.unknown_to.add(sender)
            return True
        if kind == "sources?":
            self._sources_wanted(sender, p)
            return True
        if kind not in ("output", "result", "trace", "accepted", "waiting"):
            return False
        who = p.get("program", "")
        run = self._runs.get(who.split("/", 1)[0])
        if run is None:
            return False
        if kind == "accepted":
            run.confirmed, run.heard = True, time.monotonic()
            if run.submission is not None and sender == run.node:  # it keeps them now
                self.kept.learn(sender, run.submission["sources"])
        else:
            run.take(kind, who, p)
        return True

    def status(self) -> list[dict]:
        """Every node's status row (`swarm status`) that came within 5 s, in cluster order."""
        return asknodes.status(self)

    def programs(self, timeout: float = 5.0) -> tuple[list[ProgramInfo], list[str]]:
        """The programs on the cluster now - running, parked, sent, waiting - one row per
        program (or task) and node that holds it, oldest first; and the nodes that did not
        answer within `timeout` seconds (their programs are not listed). ClusterTimeout if
        none did. Nodes declared gone are not asked."""
        return asknodes.programs(self, timeout)

    def cancel(self, program: str, timeout: float = 5.0) -> str:
        """Ask every node to cancel a program (and its tasks): the node holding it ends it
        as Ctrl-C ends a script (KeyboardInterrupt in it; `finally` blocks run), a node it
        was sent from passes the cancel on, and every node keeps it, so that the program
        never runs on anywhere (not after a restart; a hop of it that arrives late is
        resumed with the interrupt raised where it waits, once).
        Its client gets "KeyboardInterrupt: cancelled" as its outcome. Returns "cancelled"
        (a node held it), "forwarded" (it was on its way: passed on), or "finished" (it had
        ended) - also with another node down. UnknownProgram if every node says it knows
        nothing of it (or the id cannot be one); ClusterTimeout if it was not found and a
        node did not answer within `timeout` seconds. (swarm/asknodes.py: which nodes did
        not answer.)"""
        return asknodes.cancel(self, program, timeout)[0]

    def log(self, node: str | None = None, lines: int | None = None) -> str:
        """A node's log (default: every node's, each under a head), or its last `lines`
        lines; for nodes whose log is on this machine (swarm/logs.py)."""
        import io

        from swarm import logs

        out = io.StringIO()
        logs.show(self.config, [node] if node else None, out, lines)
        return out.getvalue()

    def stats(self) -> list[dict]:
        """Every node's report for the placer (swarm/node/access.py); raises ClusterTimeout
        if a node does not answer."""
        return asknodes.stats(self)

    def _stop_nodes(self) -> None:
        for name in self.config.names:
            self.send(name, "stop", {})


def connect(path: str, timeout: float = 30.0, context: zmq.Context | None = None) -> Cluster:
    """A client of the running cluster described by the file; waits until every node answers
    (ClusterTimeout after `timeout` seconds). `context`: a ZeroMQ context to share with
    other clients of this process (see Cluster)."""
    cluster = Cluster(ClusterConfig.load(path), context)
    try:
        cluster.wait_ready(timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster
