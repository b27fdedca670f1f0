"""The node's I/O shell: turns messages into events for the node's state machine and carries
out the instructions it returns - sockets (links.py), the SQLite store (store.py), programs'
greenlets (kernel.py, program.py).

    message --gate--> decode --> event --> NodeState.handle --> [instruction] --> here

Every message passes the gate (swarm/wire/gate.py: signature, sender, replay) before it is
decoded (swarm/wire/decode.py); refusals are counted and logged (refusals.py). Without CURVE
keys the node refuses to listen on anything but loopback (docs/security.md).

Run one node: `swarm-node --config cluster.toml --name n1`.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import os
import secrets
import sqlite3
import sys
import time

from swarm import heap
from swarm.compiler import registry
from swarm.continuation import process_state
from swarm.continuation.primitives import set_policy
from swarm.node import (
    adopt,
    asking,
    autoplace,
    bulkmaps,
    inbound,
    members,
    process,
    program,
    programio,
    refserve,
    restore,
    tasks,
    traps,
    txnserve,
)
from swarm.node import machine as m
from swarm.node.config import ClusterConfig, ConfigError
from swarm.node.kernel import Kernel
from swarm.node.links import Links
from swarm.node.machine import fences
from swarm.node.memory import reclaimer
from swarm.node.mirrors import Mirrors
from swarm.node.modules import HeldValues, ProgramModules
from swarm.node.refusals import Refusals
from swarm.node.store import Store
from swarm.wire import chunks, control, curve, decode, values
from swarm.wire.envelope import Signer, WireError
from swarm.wire.gate import Gate, now_ms

log = logging.getLogger("swarm.node")




#: what a node being removed may still send while it stops (machine/fences.py): answers to
#: questions asked of it before it was held, and its last records to its mirror, the heir
HELD_KINDS = frozenset({"fetched", "mirror", "snapshot"})


class Shell:
    def __init__(self, config: ClusterConfig, name: str, fresh: bool = False,
                 without_mirror: bool = False) -> None:
        if name not in config.nodes:
            raise ConfigError(f"node {name!r} is not in {config.path} ({config.names})")
        if name in config.fenced:
            raise ConfigError(f"node {name} was declared gone (`fenced` in {config.path}): "
                              f"the other nodes refuse it; its store is kept at "
                              f"{config.nodes[name].dir}")
        if name in config.heirs:
            raise ConfigError(f"node {name} is being removed (`heirs` in {config.path}): "
                              f"{config.heirs[name]} takes its store (swarm node remove)")
        self.config, self.name = config, name
        spec = config.nodes[name]
        if not config.curve and not curve.is_loopback(spec.endpoint):
            raise ConfigError(
                f"node {name}: refusing to listen on {spec.endpoint} without CURVE keys: "
                f"anyone who can reach it could read the programs and data it is sent. "
                f"`swarm keys --cluster {config.path}` adds keys to the cluster file (copy it "
                f"to every machine again), or give the node a loopback endpoint")
        os.makedirs(spec.dir, mode=0o700, exist_ok=True)  # Refs and programs: ours only
        path = os.path.join(spec.dir, "store.sqlite")
        adopt.finish(spec.dir, name)  # (a store this node was taking: merged first)
        # a new store may be one that was lost: its mirror may keep a copy (restore.py)
        self.store = Store(path, record=config.mirror_of(name) is not None)
        self.store_new = not fresh and not self.store.born and self.store.is_empty()
        if not self.store_new and not self.store.born:  # (--fresh, or a store made before
            self.store.be_born()  # stores had ids: its mirror's copy is made again)
        self.mirrors = Mirrors(spec.dir, name, config)  # the copies kept here (mirrors.py)
        self.without_mirror = without_mirror  # (restore.catch_up)
        # before the bind: nothing is received before the gate knows its cutoff
        self.gate = Gate(config.secret, config.names, config.max_message_bytes,
                         config.replay_window, self.store.start_replay_guard(now_ms()))
        self.signer = Signer(config.secret, name)
        self.refusals = Refusals()
        self.kernel = Kernel()
        self.links = Links(config, name, self.kernel.wakeup_fd)
        self.boot = secrets.token_hex(4)
        self.ids = itertools.count(1)
        self.turn = itertools.count(config.names.index(name) + 1)  # task placement ties
        sources = self.store.all_sources()
        sources[tasks.TASK_HASH] = ("__swarm_task__", "<swarm task>", tasks.TASK_SOURCE)
        # values in store files of other nodes of this host are mapped, not sent (bulkmaps.py)
        self.bulk_key = bulkmaps.digest_key(config.secret)
        self.mapper = bulkmaps.Mapper({n: c.dir for n, c in config.nodes.items()},
                                      self.bulk_key)
        self.chunk_bytes = chunks.chunk_size(config.max_message_bytes)
        self.corked: list = []  # messages to peers not yet handed to ZeroMQ (_uncork)
        self.heard: dict[str, float] = {}  # sender -> when its last message came
        self.to_self: list = []  # messages to this node itself (_loop_back)
        self.chunks = chunks.Assembler(config.max_value_bytes + values.SLACK)
        data = m.RefData(self.store, self.encode_value, values.decode,
                         config.value_cache_bytes, values.private_copy, values.nbytes,
                         version_tag=f"{name}:{self.boot}")
        self.machine = m.NodeState(name, config.names, data, sources,
                                   hop_timeout=config.hop_timeout, now=time.time(),
                                   forget_after=m.forget_after(config.replay_window),
                                   replicas=config.copies,
                                   failover_after=config.failover)
        # the fences it wrote, before anything is served (a restore serves its peers' copies
        # first): a node it took over is refused from the start - a late record of it would
        # go to a copy merged already (machine/failover.py)
        fences.known(self.machine, adopt.fenced(config, self.store),
                     adopt.heirs(config, self.store))
        self.modules = ProgramModules(self.kernel, self.machine.sources)
        self.next_second = 0.0
        # a temporary node (swarm.local_cluster, `swarm run` without a cluster) stops once
        # the process that started it is gone, even killed with SIGKILL (embedded.start_nodes)
        parent = os.environ.get("SWARM_PARENT_PID")
        self.parent = int(parent) if parent and parent.isdigit() else None
        self.hash_seed_problem = _hash_seed_problem(config)
        self._do = {
            m.Send: self._send, m.Reply: self._reply, m.Persist: self._persist,
            m.Start: self._start, m.Resume: self._resume, m.Wake: self._wake,
            m.Serve: lambda i: self.kernel.spawn(refserve.serve, self, i),
            m.Relocate: lambda i: self.kernel.spawn(refserve.relocate, self, i.ref, i.node),
            m.SendKept: self._send_kept, m.AnswerStatus: self._status,
            m.AnswerPrograms: self._programs, m.Cancel: self._cancel,
            m.AnswerCancel: self._answer_cancel,
            m.AnswerStats: self._stats, m.Stop: self._stop,
            m.SendSnapshot: lambda i: restore.send_snapshot(self, i),
            m.TakeOver: self._take_over,
            m.Log: lambda i: log.log(logging.getLevelName(i.level.upper()), "%s", i.text),
        }
        traps.install(self)
        registry.source_provider = self.source_of
        set_policy(self._checkpoint_policy)

    # ---- events in, instructions out -------------------------------------------------------------
    def emit(self, event) -> None:
        """Hand an event to the machine and carry out what it says."""
        do = self._do
        for instruction in self.machine.handle(event):
            do[type(instruction)](instruction)

    def serve(self, argv: list[str] = ()) -> None:
        """Run the node; first, if its store is new, ask its mirror whether it was lost
        (restore.py: with a copy, the process starts again from it, `argv` its arguments)."""
        self.argv = list(argv)  # (a start again: restore.py, adopt.py)
        self.restart = False  # (at the end of a clean stop: adopt.py)
        restore.restore_if_lost(self, list(argv))
        mirror_down = restore.catch_up(self, list(argv))
        self.modules.install()
        self.kernel.start_preemption()
        self.kernel.on_abandon = self._abandoned
        self.kernel.on_unparked = lambda key: self.emit(m.Unasked(key))  # (asking.wait)
        self.kernel.switched_out = self._uncork
        if self.hash_seed_problem:
            log.warning("%s", self.hash_seed_problem)
        died_running = self.kernel.mark_running(
            os.path.join(self.config.nodes[self.name].dir, "running"))
        process.install(self.kernel)
        heap.freeze_startup()  # the node's own objects: out of the programs' collections
        streams = sys.stdout, sys.stderr, sys.stdin
        sys.stdout = programio.ProgramOutput(self.kernel, "out", sys.stdout)
        sys.stderr = programio.ProgramOutput(self.kernel, "err", sys.stderr)
        sys.stdin = programio.ProgramInput(self.kernel, sys.stdin)
        store = self.store
        store.prune(time.time())  # (kept output older than a week, `done` rows forgotten)
        self.machine.data.txns.restore(store.blocks(), time.time())  # (atomic blocks: txn.py)
        self.emit(m.Booted(time.time(), store.pending_hops(), store.unacked(),
                           store.pending_moves(), store.done_ids(),
                           adopt.fenced(self.config, store), store.cancelled(), store.deaths(), died_running,
                           store.forgetting(), store.partial(), store.answers(),
                           store.seq, mirror_down, store.id, adopt.heirs(self.config, store)))
        reclaimer.hold_reserve()  # (room to end a program that runs out of memory)
        self.kernel.loop(self._poll, self._tick, self._idle_ms)
        sys.stdout, sys.stderr, sys.stdin = streams
        self.close()

    def _poll(self, timeout_ms: int) -> None:
        if self.to_self:
            self._loop_back()
            timeout_ms = 0 if self.kernel.ready or self.to_self else timeout_ms
        self._uncork()  # (what the tick made)
        zap = self.links.poll(timeout_ms)
        for identity, frames in self.links.receive():
            self.receive(identity, frames)
        self._uncork()
        if zap:
            for refusal in self.links.answer_zap():
                self.refusals.note("unknown key", refusal)

    def admit(self, identity: bytes, frames: list):
        """The message, through the gate (and put together from its chunks); None if it is
        refused (the refusal noted) or not whole yet."""
        try:
            env = self.gate.admit(identity, frames)
        except WireError as e:  # nothing in it was unpickled
            self.refusals.note(e.reason, f"a message on connection {identity[:32]!r}: {e}")
            return None
        if env.sender in self.machine.fenced and not (  # (a node being removed, stopping:
                self.machine.holding(env.sender) and env.kind in HELD_KINDS):  # fences.py)
            self.refusals.note("declared gone", f"{env.kind} from {env.sender}, which was "
                                                f"declared gone (swarm node gone)")
            return None
        if env.kind == "chunk":  # a slice of a larger message (swarm/wire/chunks.py)
            try:
                return self.chunks.add(env, decode.payload(env))
            except WireError as e:
                self.refusals.note(e.reason, str(e))
                return None
        return env

    def receive(self, identity: bytes, frames: list) -> None:
        env = self.admit(identity, frames)
        if env is None:
            return
        self.heard[env.sender] = time.time()  # (a peer alive: machine/failover.py)
        if env.kind in restore.MIRROR_KINDS:  # a copy of another node's store (mirrors.py)
            try:
                restore.serve(self, env)
            except WireError as e:
                self.refusals.note(e.reason, str(e))
            except Exception as e:  # one this node could not handle: refused, it goes on
                self.refusals.note("handler error", f"{env.kind} from {env.sender}: "
                                                    f"{type(e).__name__}: {e}", exc_info=True)
            return
        if env.kind == "restore":  # (a late answer: this node restored already, or not)
            try:
                decode.payload(env)  # (a malformed one is refused all the same)
            except WireError as e:
                self.refusals.note(e.reason, str(e))
            return
        if env.kind in ("join", "adopt"):  # membership (members.py, adopt.py)
            try:
                (members.join if env.kind == "join" else adopt.serve)(self, env, identity)
            except WireError as e:
                self.refusals.note(e.reason, str(e))
            return
        make = inbound.EVENTS.get(env.kind)
        if make is None:
            self.refusals.note("not for nodes", f"{env.kind} from {env.sender}: a node has "
                                                f"no use for it")
            return
        try:
            self.emit(make(env, identity))
        except WireError as e:  # a signed message that is malformed (decode.py)
            self.refusals.note(e.reason, str(e))
        except Exception as e:  # one this node could not handle: refused, the node goes on
            self.refusals.note("handler error", f"{env.kind} from {env.sender}: "
                                                f"{type(e).__name__}: {e}", exc_info=True)

    def _tick(self) -> None:
        now = time.time()
        self.emit(m.Tick(now, self.load(), self.heard))
        if self.links.waiting():
            self.links.flush()
        if now >= self.next_second:  # failed handshakes: read here, not polled
            self.next_second = now + 1.0
            for sort, what in self.links.failed_handshakes():
                self.refusals.note("handshake failed", what, sort)
            self.refusals.tick()
            reclaimer.tick(idle=not self.kernel.context)  # (memory.py)
            txnserve.resolve(self, now)  # (atomic blocks cut between their phases)
            if self.parent is not None and os.getppid() != self.parent:
                log.warning("stopping: the process that started this node (pid %d) is gone",
                            self.parent)
                self.kernel.running = False

    def _idle_ms(self) -> int:
        """How long the loop may wait for a message: until the ledger's next group commit
        or its owed acks are due (ledger.py: WRITE_DELAY, ACK_DELAY), else 10 ms while
        messages wait for a queue, else 100 ms.

        Discussion: it waited 1 ms at a time while a write or an ack was pending - that is,
        nearly always while programs hop - and each wake-up (a context switch, a poll, a
        tick of the machine) took the CPU from the other node and from ZeroMQ's I/O threads
        for nothing; now it wakes when something is due (rounded up to the next ms)."""
        if self.to_self:
            return 0
        ledger = self.machine.ledger
        idle = 10 if self.links.waiting() else 100
        if ledger.pending_since is None and not ledger.owed:
            return idle
        if ledger.failed or ledger.writing is not None:
            return 1
        due = min(ledger.pending_since + m.WRITE_DELAY if ledger.pending_since is not None
                  else float("inf"),
                  ledger.owed_since + m.ACK_DELAY if ledger.owed else float("inf"))
        return max(0, min(idle, math.ceil((due - time.time()) * 1000)))

    # ---- carrying out instructions ---------------------------------------------------------------
    def _send(self, i: m.Send) -> None:
        """A message to a peer, in chunks if it is large (never one over max_message_bytes:
        swarm/wire/chunks.py)."""
        if i.node == self.name:
            self.to_self.append(i)
            return
        control = decode.encode(i.fields)
        size = chunks.size_of(control, i.blobs)
        if size > self.chunks.max_bytes:  # (what makes one refuses it first: values.py)
            log.error("not sent: %s", values.limit_error(
                f"a {i.kind} to {i.node}", size, self.chunks.max_bytes, "max_value_bytes"))
            return
        self.corked.append((i.node, chunks.split(self.signer, i.kind, control, i.blobs,
                                                 self.chunk_bytes), i.resend))

    def _loop_back(self) -> None:
        """Messages this node sent itself - a collection's chain asks the node of the
        collection's root, which may be this one (collchain.py) - handed to its own machine
        as the events they would be, never to the network (in the next poll)."""
        while self.to_self:
            batch, self.to_self = self.to_self, []
            for i in batch:
                event = inbound.from_self(self.name, i.kind, i.fields, i.blobs)
                if event is None:
                    log.error("a %s this node sent itself: dropped (nothing takes it)", i.kind)
                    continue
                self.emit(event)

    def _uncork(self) -> None:
        """Hand the messages made so far to ZeroMQ, together: after each greenlet's turn,
        after the messages a poll brought were handled, and before the loop waits.

        Discussion: a send wakes ZeroMQ's I/O thread when its queue was empty; sends spread
        over a program's turn (a program spawning tasks between them: 40 in a 10 ms turn)
        wake it once each, and on a machine with few cores each wake-up takes the CPU from
        the node. Sent together, they wake it about once. Nothing waits longer than the turn
        that made it (a question's answer does not wait for the other programs of the
        round); the order of the messages is kept."""
        if self.corked:
            corked, self.corked = self.corked, []
            send = self.links.send_peers
            for node, messages, resend in corked:
                send(node, messages, resend)

    def _reply(self, i: m.Reply) -> None:
        body = i.body if i.body is not None else decode.encode(i.fields)
        self.links.send_client(i.client, self.signer.pack(i.kind, body))

    def _persist(self, i: m.Persist) -> None:
        try:
            record = self.store.commit(i.txn)
        except (sqlite3.Error, OSError, MemoryError) as e:
            self.emit(m.CommitFailed(f"{type(e).__name__}: {e}", time.time()))
        else:
            self.emit(m.Committed(time.time()) if record is None else
                      m.Committed(time.time(), record.seq, record.message()))

    def _start(self, i: m.Start) -> None:
        """A submitted program: its entry module runs in a greenlet of its own."""
        meta = i.meta
        prog = program.Program(meta["program"], meta["client"], meta["modules"], meta["argv"],
                               meta["hop_checkpoints"], meta["policy"], meta["strict"],
                               hop_id=i.hop_id, trace=meta["trace"], again=i.again,
                               record_access=meta["record_access"],
                               submitted=meta.get("submitted", 0.0), cwd=meta.get("cwd", ""),
                               stdin_mode=meta.get("stdin", "none"),
                               files=meta.get("files", {}))
        entry = meta["entry"]

        def start():
            process_state.restore(None)  # (what the program changes from here on travels)
            module = registry.new_module_instance("__main__", entry)
            module.__dict__["__file__"] = prog.files.get("__main__") or \
                self.machine.sources[entry][1]
            prog.process.main = sys.modules["__main__"] = module  # pickle finds its functions
            exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)
            return module

        self.kernel.spawn(program.run, self, prog, start, context=prog)

    def _resume(self, i: m.Resume) -> None:
        """A program that hopped here (or a task's first hop: meta["start"])."""
        meta, data = i.meta, i.data
        prog = program.Program.from_meta(meta, i.hop_id, i.again)
        prog.hop_bytes = len(data)
        missing = [h for h in meta.get("needs", ()) if h not in self.machine.sources]

        def start():
            if missing:
                asking.fetch_sources(self, missing, meta.get("from"))
            if meta.get("start"):  # (function, args, kwargs, future)
                return tasks.start_task(self, data)
            cont = decode.continuation(data, HeldValues(self.machine.sources))
            module = cont.frames[0].module
            if getattr(module, "__name__", None) == "__main__":  # (a task's is its own)
                prog.process.main = sys.modules["__main__"] = module
            program.resume_arrived(self, prog, cont)
            return module

        g = self.kernel.spawn(program.run, self, prog, start, context=prog)
        if not meta.get("start"):  # (a task not started yet is dropped by a cancel)
            program.arriving(self, prog, g, meta, i.interrupt)

    def _wake(self, i: m.Wake) -> None:
        self.kernel.wake(i.key, i.value)

    def _send_kept(self, i: m.SendKept) -> None:
        """collect?: what a program (and its tasks) printed and returned here, again; and
        which of them this node knows nothing of (`unknown`: not here, not sent from here,
        nothing kept)."""
        unknown = []
        for prog in i.programs:
            kept = self.store.kept_for(prog)
            for kind, body in kept:
                self.links.send_client(i.client, self.signer.pack(kind, body))
            if not kept and prog not in self.machine.present:
                unknown.append(prog)
        if unknown:
            self._reply(m.Reply(i.client, "unknown", {"programs": unknown}))

    def _cancel(self, i: m.Cancel) -> None:
        prefix = i.program + "/"
        self.kernel.cancel(lambda ctx: ctx.id == i.program or ctx.id.startswith(prefix))

    def _answer_cancel(self, i: m.AnswerCancel) -> None:
        state = i.state
        if state != "cancelled":
            state = _kept_end(self.store.kept_for(i.program), i.program) or state
        self._reply(m.Reply(i.client, "cancelled", {"program": i.program, "node": self.name,
                                                   "state": state}))

    def _abandoned(self, prog: program.Program) -> None:
        """A cancelled program that would not end (it caught the interrupt, or never
        started): it ends here, as cancelled."""
        programio.flush(prog)
        program.finish(self, prog, error="KeyboardInterrupt: cancelled")

    def _programs(self, i: m.AnswerPrograms) -> None:
        """programs?: where the machine says they are; `here` made `running` or `parked`
        by the kernel; the asked ones whose result this node kept, finished."""
        waiting = set(self.kernel.parked.values())
        parked = {ctx.id for g, ctx in self.kernel.context.items() if g in waiting}
        for row in i.rows:
            if row["state"] == "here":
                row["state"] = "parked" if row["program"] in parked else "running"
        listed = {row["program"] for row in i.rows}
        finished = [p for p in (i.asked or ()) if p not in listed and any(
            kind == "result" for kind, _ in self.store.kept_for(p))]
        self._reply(m.Reply(i.client, "programs", {"node": self.name, "programs": i.rows,
                                                  "finished": finished, "booted": i.booted}))

    def _status(self, i: m.AnswerStatus) -> None:
        refs, size = self.store.stats()
        self._reply(m.Reply(i.client, "status", i.fields | {
            "refs": refs, "bytes": size, "running": len(self.kernel.context),
            "parked": len(self.kernel.parked), "threads": self.kernel.threads,
            "refused": self.refusals.total,
            "hash_seed_problem": self.hash_seed_problem,
            "copies": self.mirrors.status(),  # other nodes' stores kept here (mirrors.py)
            "refusals": dict(self.refusals.counts)}))

    def _stats(self, i: m.AnswerStats) -> None:
        """The placer's report: this node's Refs and their sizes, and the access edges."""
        report = self.machine.access.report(self.name, self.store.ref_sizes(), time.time())
        self._reply(m.Reply(i.client, "stats", report))

    def _take_over(self, i: m.TakeOver) -> None:
        """machine/failover.py: the removal of a silent node, run by this node, its heir -
        if it keeps a copy of its store (one that joined as its mirror may have none: the
        node died before it sent one; its former mirror has it)."""
        if not self.mirrors.has(i.node):
            log.error("%s is silent, but this node keeps no copy of its store (its mirror "
                      "since a join, never sent one): not failed over. Start %s again",
                      i.node, i.node)
            return
        autoplace.take_over(self.config.path, i.node, i.heir,
                            self.config.nodes[self.name].dir)

    def _stop(self, i: m.Stop) -> None:
        self.kernel.running = False

    # ---- what programs need (traps.py, refserve.py, tasks.py) --------------------------------------
    def encode_value(self, value, what: str = "the value"):
        """A value as it is stored and sent (swarm/wire/values.py); ValueTooLarge past the
        cluster's max_value_bytes."""
        return values.encode(value, self.config.max_value_bytes, what)

    def new_ref_id(self) -> str:
        """An id for a Ref created here (its first part names this node, its home)."""
        return f"{self.name}.{self.boot}.{next(self.ids)}"

    def load(self) -> int:
        """Programs running or ready here, and those waiting for a thread's work."""
        return self.kernel.runnable() + self.kernel.threads

    def source_of(self, name: str, digest: str) -> tuple[str, str]:
        if digest not in self.machine.sources:
            raise asking.MissingSource(name, digest, self.name)
        _, filename, source = self.machine.sources[digest]
        return filename, source

    def _checkpoint_policy(self, op) -> bool:
        """checkpoint() captures only programs submitted with hop_checkpoints."""
        prog = self.kernel.current_context()
        return prog is not None and prog.hop_checkpoints and len(self.config.names) > 1

    def close(self) -> None:
        for sort, what in self.links.failed_handshakes():
            self.refusals.note("handshake failed", what, sort)
        self.refusals.flush()
        self.emit(m.Stopping(time.time()))
        self._uncork()
        self.links.close()
        self.kernel.close()
        # a clean stop: what the gate took is known; after a restart it refuses all older
        self.store.stop_replay_guard(max(now_ms(), self.gate.replays.latest_ms))
        self.store.close()
        self.mirrors.close()
        if self.restart:  # (adopt.py: a store to merge first)
            os.execv(sys.executable, [sys.executable, "-m", "swarm.node_main", *self.argv])


def _hash_seed_problem(config: ClusterConfig) -> str:
    """What is wrong with this process's str hash seed for the cluster ("" if nothing): the
    nodes of a cluster share one (the cluster file's hash_seed, given to the nodes it starts
    as PYTHONHASHSEED), or a set's order and hash() change when a program hops."""
    seed = os.environ.get("PYTHONHASHSEED", "")
    if config.hash_seed is None or seed == str(config.hash_seed):
        return ""
    return (f"this node was started with PYTHONHASHSEED={seed or '(unset: random)'}, not the "
            f"cluster's hash_seed {config.hash_seed} ({config.path}): programs that hop here "
            f"see other str hashes and set orders; start it with "
            f"PYTHONHASHSEED={config.hash_seed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm-node", description="run one swarm node")
    parser.add_argument("--config", required=True, help="the cluster file (cluster.toml)")
    parser.add_argument("--name", required=True, help="this node's name in the cluster file")
    parser.add_argument("--auto-place", type=float, metavar="SECONDS",
                        help="run `swarm place` every SECONDS from this node (default: the "
                             "cluster file's auto_place, which only its first node acts on)")
    parser.add_argument("--fresh", action="store_true",
                        help="a new store starts empty without asking the node's mirror "
                             "whether it keeps a copy of a lost one (docs/nodes.md)")
    parser.add_argument("--without-mirror", action="store_true",
                        help="start without asking the node's mirror whether its copy is "
                             "further on than the store (docs/nodes.md)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s {args.name} %(levelname)s %(message)s")
    for name in ("swarm", "cluster"):  # the node's own: not through a program's root logger
        own = logging.getLogger(name)
        own.handlers, own.propagate = list(logging.root.handlers), False
        own.setLevel(logging.WARNING)
    try:
        config = ClusterConfig.load(args.config)
        if config.hash_seed is not None and not os.environ.get("PYTHONHASHSEED"):
            # started by hand (systemd, a container): again, with the cluster's hash seed
            os.environ["PYTHONHASHSEED"] = str(config.hash_seed)
            os.execv(sys.executable, [sys.executable, "-m", "swarm.node_main",
                                      *(sys.argv[1:] if argv is None else argv)])
        node = Shell(config, args.name, fresh=args.fresh, without_mirror=args.without_mirror)
    except ConfigError as e:
        print(f"swarm-node: {e}", file=sys.stderr)
        return 2
    seconds = args.auto_place if args.auto_place is not None else \
        config.auto_place if args.name == config.names[0] else 0
    if seconds < 0:
        parser.error(f"--auto-place takes a number of seconds >= 0, not {seconds:g}")
    if seconds:
        autoplace.log.setLevel(logging.INFO)
        autoplace.start(config.path, seconds)
    if config.auto_gc > 0 and args.name == config.names[0]:
        autoplace.log.setLevel(logging.INFO)
        autoplace.start(config.path, config.auto_gc, "gc")
    node.serve(sys.argv[1:] if argv is None else argv)
    return 0


def _kept_end(kept: list, program: str) -> str | None:
    """How a program whose result this node keeps ended, for a cancel asked again: `finished`
    - or `cancelled` when that result is the cancel's (the first answer, held until the
    cancel was written, may come after this one: the trial of 2026-12-08 saw `swarm cancel`
    say "had ended already" of the program it had just cancelled)."""
    for kind, body in kept:
        if kind == "result":
            fields = control.decode(body)
            if fields.get("program") == program:
                error = fields.get("error") or ""
                return "cancelled" if error.startswith("KeyboardInterrupt: cancelled") \
                    else "finished"
    return None
